/**
 * The history of SDK calls against real daemons, judged as it is recorded by the simulator's kv
 * history checker (src/sim/scenarios/kv-checkers.ts, `versions: 'bounds'`).
 *
 * The SDK's replies carry no versions, but the daemons on this machine stamp their HLC versions
 * from the same wall clock (`Date.now()`) the recorder reads, and an HLC version is never ahead of
 * the wall clock when nothing carries a skewed one. So a write stamped after its call began has a
 * version of at least that millisecond, and whatever a read returned was stamped before the read
 * (and the write that produced it) ended. The recorder hands the checker those bounds; every value
 * written is unique (`c<client>:<seq>`), so a read names the write it returned. A miss names no
 * write: its bound is the latest end (or the read's end, if sooner) of the deletes of its key that
 * had begun by then, or nothing newer than "never written" when there were none (no TTLs here, and
 * the keys fit the nodes' memory, so nothing expires or is evicted).
 */
import type { ShoalClient } from '../../src/client/index.ts';
import type { Consistency } from '../../src/replication/api.ts';
import type { Version } from '../../src/replication/hlc.ts';
import { highestVersionBy as highest, KvHistoryChecker, lowestVersionFrom as lowest } from '../../src/sim/scenarios/kv-checkers.ts';
import type { ReadOp, WriteOp } from '../../src/sim/scenarios/kv-workload.ts';

export class RealHistory {
  readonly checker: KvHistoryChecker;
  readonly figures = { writes: 0, acked: 0, reads: 0, readsOk: 0, failed: 0 };
  /** A few distinct failure messages, for the test's output. */
  readonly failureSamples: string[] = [];
  private readonly byValue = new Map<string, WriteOp>();
  private readonly deletes = new Map<string, WriteOp[]>();
  /** [from, to] wall times within which a node was killed (SIGKILL sent .. exit seen). */
  private readonly crashes: [number, number][] = [];
  /** [from, to] wall times of network partitions (cut begun .. heal done). */
  private readonly partitions: [number, number][] = [];

  constructor(replicas: number) {
    const overlaps = (spans: [number, number][], from: number, to: number) => spans.some(([a, b]) => a < to && b > from);
    this.checker = new KvHistoryChecker(replicas, (from, to) => overlaps(this.partitions, from, to), undefined, (from, to) => overlaps(this.crashes, from, to), { versions: 'bounds' });
  }

  /** Notes that the network was partitioned somewhere in [fromMs, toMs] (the checker excuses read-your-writes across it). */
  partitioned(fromMs: number, toMs: number): void {
    this.partitions.push([fromMs, toMs]);
  }

  /** Notes that a node was SIGKILLed somewhere in [fromMs, toMs]: a W=1 write it alone held may be gone. */
  crashed(fromMs: number, toMs: number): void {
    this.crashes.push([fromMs, toMs]);
  }

  /** A set (or, with `value` null, a delete) through `client`; resolves whatever its outcome. */
  async write(client: ShoalClient<string>, clientId: number, key: string, value: string | null, consistency: Consistency): Promise<boolean> {
    const op: WriteOp = { kind: 'write', client: clientId, key, value, ttlMs: 0, consistency, sloppy: false, sticky: false, coordinator: -1, incarnation: 0, startMs: Date.now(), endMs: null, outcome: 'pending', version: null, acks: 0 };
    if (value === null) this.deletesOf(key).push(op);
    else this.byValue.set(value, op);
    this.figures.writes++;
    this.checker.issued(op);
    try {
      if (value === null) await client.delete(key, { consistency });
      else await client.set(key, value, { consistency });
      op.outcome = 'acked';
      op.version = lowest(op.startMs);
      this.figures.acked++;
    } catch (error) {
      // Failed or timed out: it may still be applied, even later; its end stays open.
      op.outcome = 'unknown';
      this.failed(error);
      return false;
    }
    op.endMs = Date.now();
    this.checker.completed(op);
    return true;
  }

  /** A get through `client`; resolves with the value read, or undefined when the call failed. */
  async read(client: ShoalClient<string>, clientId: number, key: string, consistency: Consistency): Promise<string | null | undefined> {
    const op: ReadOp = { kind: 'read', client: clientId, key, consistency, sticky: false, coordinator: -1, incarnation: 0, startMs: Date.now(), endMs: null, outcome: 'pending', value: null, version: null };
    this.figures.reads++;
    this.checker.issued(op);
    let value: string | null;
    try {
      value = await client.get(key, { consistency });
    } catch (error) {
      op.outcome = 'failed';
      this.failed(error);
      return undefined;
    }
    op.endMs = Date.now();
    op.outcome = 'ok';
    op.value = value;
    op.version = this.highestReadable(key, value, op.endMs);
    this.figures.readsOk++;
    this.checker.completed(op);
    return value;
  }

  /** The newest version a read ending at `endMs` that returned `value` can have seen. */
  private highestReadable(key: string, value: string | null, endMs: number): Version | null {
    if (value !== null) {
      const source = this.byValue.get(value);
      // Unknown value: the checker reports it fabricated; its version does not matter.
      return source === undefined ? null : highest(Math.min(source.endMs ?? endMs, endMs));
    }
    let bound: number | null = null;
    for (const d of this.deletesOf(key)) {
      if (d.startMs > endMs) continue;
      const end = Math.min(d.endMs ?? endMs, endMs);
      if (bound === null || end > bound) bound = end;
    }
    return bound === null ? null : highest(bound);
  }

  private deletesOf(key: string): WriteOp[] {
    let list = this.deletes.get(key);
    if (list === undefined) this.deletes.set(key, (list = []));
    return list;
  }

  private failed(error: unknown): void {
    this.figures.failed++;
    const text = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 160);
    if (this.failureSamples.length < 3 && !this.failureSamples.includes(text)) this.failureSamples.push(text);
  }
}
