/**
 * Value hunts: asking a partition's other owners for values a sync source evicted.
 *
 * A source under memory pressure answers a replica's want, or pushes, with only the versions of
 * values its store evicted (`ek`/`ev`, PartitionReplica.noteEvicted). Digests count a version
 * learnt so as held, so no later round finds the difference with an owner that still holds the
 * value: before hunts, a replica that caught up from such a source never copied those values, and
 * once the owners holding them restarted too they were gone from every memory
 * (test/sim/eviction-spread.test.ts). So the replica asks the partition's other live owners for
 * those keys (`sw` with `n`, which ends no catch-up from them). An owner holding a value sends it
 * (PartitionReplica.apply takes a learnt version's value); one that evicted it too answers its
 * version, which changes nothing, so nothing is asked twice.
 *
 * Owners running VALUE_HUNT_PROTOCOL or newer number their answer's end: the want carries a number
 * in `h`, and the answer's last batch carries it back, with the keys it had no room for (`hr`: an
 * answer carries at most HUNT_ANSWER_BYTES of records, the first always). Such hunts are followed
 * to their end: at most HUNTS_IN_FLIGHT wants unanswered per owner (their answers fit the bulk
 * lane beside a round's pushes), the keys left over asked next, a want unanswered for
 * requestTimeoutMs asked again, and a partition catching up is not ready until its hunts have
 * ended (PartitionActor.awaitHunt). Before,
 * a hunt went once and nothing waited for it: a catch-up ended with a hunt or its answer lost, or
 * still on its way, and a restart of the owner holding the values took them from every memory (a CI
 * run of test/integration/eviction-spread.test.ts: 71 of 2,000 QUORUM GETs missed). A hunt ends when
 * its owner has answered every key, dies, no longer owns the partition, or the partition is no
 * longer held or is handed off. Older owners ignore `h` and answer unnumbered: nothing waits for
 * them, as before.
 */
import type { ReplicationContext } from './context.ts';
import type { ReplicaHost } from './replica-host.ts';
import { firstRequestId } from './request-ids.ts';

/**
 * The first node protocol version (src/gossip/protocol-version.ts) that numbers its answers to value
 * hunts (`h`) and says what did not fit (`hr`).
 */
export const VALUE_HUNT_PROTOCOL = 3;

/**
 * Bytes of records one answer to a value hunt carries at most (512 KiB), the first record always,
 * and hunt wants unanswered per owner at most (8): their answers (4 MiB) and a round's pushes
 * (SYNC_PUSH_BYTES, 4 MiB) stay within the bulk lane's send buffer (8 MiB), past which the real
 * transport drops bulk sends. Uncapped, a hunt of more than 8 MiB of values lost its tail, and asked
 * again, lost it again. Eight in flight, not one: a restarted node of 1,024 partitions hunting
 * 4,000 values of 1 KiB settled 0.44 s after its restart in the simulator, against 1.7 s with one
 * want at a time and 0.35 s with every want at once (uncapped, as before).
 */
export const HUNT_ANSWER_BYTES = 512 * 1024;
const HUNTS_IN_FLIGHT = 8;

/** Partition p's hunt from one owner. */
interface Hunt {
  /** Keys to ask for in the next want. */
  readonly waiting: Set<string>;
  /** The want in flight (its number, keys and when it went), or null. */
  asked: { id: number; keys: string[]; sentMs: number } | null;
  /** Whether the partition's catch-up waits for this hunt (it was catching up when the hunt began). */
  gates: boolean;
}

export class ValueHunts {
  /** Per owner: its hunts, by partition. */
  private readonly hunts = new Map<string, Map<number, Hunt>>();
  /** Keys whose values to ask the owners for once this node has a ring to name them by. */
  private readonly beforeRing = new Map<number, Set<string>>();
  private nextId: number;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly host: ReplicaHost,
    /** Counts every key asked for, once per owner asked. */
    private readonly counted: (keys: number) => void,
    /** Called when the end of a hunt made its partition ready. */
    private readonly madeReady: () => void,
  ) {
    this.nextId = firstRequestId(ctx.env);
  }

  /**
   * `source` evicted `keys` of partition p at versions newer than this replica held: asks the other
   * live owners for their values. A restarted node hears from its sources before it has a ring:
   * its hunts wait for the first (onRing).
   */
  start(p: number, source: string | null, keys: Iterable<string>): void {
    const placement = this.ctx.placement();
    if (placement.members.length === 0) {
      let waiting = this.beforeRing.get(p);
      if (waiting === undefined) this.beforeRing.set(p, (waiting = new Set()));
      for (const key of keys) waiting.add(key);
      return;
    }
    const owners = placement.owners(p);
    if (!owners.includes(this.ctx.selfName)) return;
    const k = [...keys];
    const actor = this.host.partitions.get(p);
    for (const owner of owners) {
      if (owner === this.ctx.selfName || owner === source || !this.ctx.isAlive(owner)) continue;
      if ((this.ctx.protocolOf?.(owner) ?? VALUE_HUNT_PROTOCOL) < VALUE_HUNT_PROTOCOL) {
        this.counted(k.length);
        this.ctx.send(owner, { t: 'sw', p, k, n: true }, 'bulk');
        continue;
      }
      let byPartition = this.hunts.get(owner);
      if (byPartition === undefined) this.hunts.set(owner, (byPartition = new Map()));
      let hunt = byPartition.get(p);
      if (hunt === undefined) byPartition.set(p, (hunt = { waiting: new Set(), asked: null, gates: false }));
      for (const key of k) hunt.waiting.add(key);
      if (actor !== undefined && !actor.ready && !hunt.gates) {
        hunt.gates = true;
        actor.awaitHunt(owner);
      }
      this.pump(owner);
    }
  }

  /** The node has a ring (its first, or a new one): hunts waiting for one start. */
  onRing(): void {
    if (this.ctx.placement().members.length === 0) return;
    const waiting = [...this.beforeRing];
    this.beforeRing.clear();
    for (const [p, keys] of waiting) this.start(p, null, keys);
  }

  /** `owner` answered hunt `id` of partition p, without room for `rest`: those are asked next. */
  answered(p: number, owner: string, id: number, rest: readonly string[]): void {
    const hunt = this.hunts.get(owner)?.get(p);
    if (hunt === undefined || hunt.asked?.id !== id) return; // an earlier want's answer, or a duplicate
    hunt.asked = null;
    for (const key of rest) hunt.waiting.add(key);
    if (hunt.waiting.size === 0) this.end(p, owner);
    this.pump(owner);
  }

  /**
   * Each sync tick: ends the hunts that can no longer be answered, and asks again for what a want
   * unanswered for requestTimeoutMs asked (the want or its answer lost, or dropped by a full lane).
   */
  tick(): void {
    const now = this.ctx.env.clock.monoMs();
    const placement = this.ctx.placement();
    for (const [owner, byPartition] of this.hunts) {
      const alive = this.ctx.isAlive(owner);
      for (const [p, hunt] of byPartition) {
        const actor = this.host.partitions.get(p);
        if (!alive || actor === undefined || actor.syncPhase === 'handing-off' || !placement.owners(p).includes(owner)) this.end(p, owner);
        else if (hunt.asked !== null && now - hunt.asked.sentMs >= this.ctx.config.requestTimeoutMs) {
          for (const key of hunt.asked.keys) hunt.waiting.add(key);
          hunt.asked = null;
        }
      }
      this.pump(owner);
    }
  }

  /** `owner` left the cluster for good: its hunts end. */
  forget(owner: string): void {
    for (const p of [...(this.hunts.get(owner)?.keys() ?? [])]) this.end(p, owner);
  }

  /** While fewer than HUNTS_IN_FLIGHT wants to `owner` are unanswered, asks it for the next partitions' waiting keys. */
  private pump(owner: string): void {
    const byPartition = this.hunts.get(owner);
    if (byPartition === undefined) return;
    let inFlight = 0;
    for (const hunt of byPartition.values()) if (hunt.asked !== null) inFlight++;
    for (const [p, hunt] of byPartition) {
      if (inFlight >= HUNTS_IN_FLIGHT) return;
      if (hunt.asked !== null || hunt.waiting.size === 0) continue;
      // At most syncBatch keys a want, as a round's wants: the rest go in the next.
      const keys: string[] = [];
      for (const key of hunt.waiting) {
        if (keys.length >= this.ctx.config.syncBatch) break;
        keys.push(key);
      }
      for (const key of keys) hunt.waiting.delete(key);
      hunt.asked = { id: this.nextId++, keys, sentMs: this.ctx.env.clock.monoMs() };
      this.counted(keys.length);
      this.ctx.send(owner, { t: 'sw', p, k: keys, n: true, h: hunt.asked.id }, 'bulk');
      inFlight++;
    }
  }

  /** Partition p's hunt from `owner` is over: answered, or never will be. */
  private end(p: number, owner: string): void {
    const byPartition = this.hunts.get(owner);
    const hunt = byPartition?.get(p);
    if (hunt === undefined) return;
    byPartition!.delete(p);
    if (byPartition!.size === 0) this.hunts.delete(owner);
    if (hunt.gates && this.host.partitions.get(p)?.huntDone(owner)) this.madeReady();
  }
}
