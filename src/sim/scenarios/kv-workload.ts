/**
 * The kv simulator workload: clients issuing get/set/delete (sets sometimes with a TTL) on a
 * Zipf-skewed key space against node coordinators, and the recorded history those operations
 * leave, which the kv checkers judge.
 *
 * Clients live outside the nodes (in the simulator's global events), each sticking to one
 * coordinator while it is up. Every value written is unique (`c<client>:<seq>`), so a read can be
 * traced to the write that produced it. A client gives up on an operation after CLIENT_TIMEOUT_MS
 * (its coordinator may have crashed with the callback); the outcome is then unknown.
 */
import type { Consistency, GetResult, KvError, KvService, Version, WriteResult } from '../../replication/api.ts';
import type { ShoalNode } from '../../node/node.ts';
import type { SeededRandom } from '../../runtime/seeded-random.ts';
import { runStream } from '../rng.ts';
import type { Simulation } from '../simulation.ts';

/** A client abandons an operation after this long (longer than any coordinator deadline). */
export const CLIENT_TIMEOUT_MS = 2_000;

export interface KvWorkloadConfig {
  clients: number;
  keys: number;
  /** Zipf exponent: key k (from 1) is chosen with weight 1 / k^s. */
  zipfExponent: number;
  /** Mean think time between a client's operations. */
  meanThinkMs: number;
  readFraction: number;
  deleteFraction: number;
  /** Fraction of sets that carry a TTL, and the TTL range. */
  ttlFraction: number;
  ttlRangeMs: [number, number];
  /** Fraction of writes sent with sloppy quorum (excluded from the lost-write check). */
  sloppyFraction: number;
  /** Consistency levels and their weights. */
  consistency: [Consistency, number][];
  /** Bytes appended to every value written (default 0), to size the working set against a store budget. */
  valuePaddingBytes?: number;
  /** The keys' names by index (default `k<index>`): a scenario may place its keys on chosen partitions. */
  keyNames?: readonly string[];
  /**
   * Each client writes keys of its own, this many (client c: keys c * clientKeys and on; `keys`
   * must cover every client's), and reads any. Default: every client writes any of the `keys`.
   */
  clientKeys?: number;
  /**
   * Whether a client refused with `not-ready` (nothing applied: the node is joining, or leaving and
   * past its grace) sends the operation again to another node that may coordinate, as the SDK does
   * (client.ts). Default false: the operation fails, which the kv scenarios count and allow.
   */
  resendNotReady?: boolean;
}

export const DEFAULT_KV_WORKLOAD: KvWorkloadConfig = {
  clients: 6,
  keys: 64,
  zipfExponent: 1.1,
  meanThinkMs: 40,
  readFraction: 0.5,
  deleteFraction: 0.1,
  ttlFraction: 0.3,
  ttlRangeMs: [500, 15_000],
  sloppyFraction: 0.25,
  consistency: [
    ['quorum', 0.8],
    ['one', 0.1],
    ['all', 0.1],
  ],
};

export interface WriteOp {
  kind: 'write';
  client: number;
  key: string;
  /** The value written, or null for a delete. */
  value: string | null;
  ttlMs: number;
  consistency: Consistency;
  sloppy: boolean;
  /** Sent to the client's own coordinator (false when it was down and another was used). */
  sticky: boolean;
  coordinator: number;
  /** The coordinator's incarnation (its process, and its HLC, start afresh on a restart). */
  incarnation: number;
  startMs: number;
  endMs: number | null;
  outcome: 'pending' | 'acked' | 'failed' | 'unknown';
  version: Version | null;
  acks: number;
}

export interface ReadOp {
  kind: 'read';
  client: number;
  key: string;
  consistency: Consistency;
  sticky: boolean;
  coordinator: number;
  incarnation: number;
  startMs: number;
  endMs: number | null;
  outcome: 'pending' | 'ok' | 'failed' | 'unknown';
  value: string | null;
  version: Version | null;
}

export type Op = WriteOp | ReadOp;

/**
 * What a client sends its operations through when it is not a node's coordinator: the kv-sdk
 * scenario's real SDK clients. A write's result may name the node that coordinated it (the SDK
 * routes by itself, so only the cluster knows).
 */
export type ClientKv = Pick<KvService, 'get' | 'set' | 'delete'>;
export type ClientWriteResult = WriteResult & { coordinator?: number; incarnation?: number };

/**
 * One client operation as data, before it is sent: a run records the ones it drew from its seed
 * (`KvWorkload.drawn`), and a run given a list (`KvWorkload`'s `script`) issues exactly those
 * instead, so a failing run's workload can be replayed and shrunk (src/sim/shrink.ts).
 */
export interface OpSpec {
  client: number;
  /**
   * Virtual time it was issued. A script issues it then, or once the client's previous operation
   * completed if that is later: removing an operation leaves the others' times as they were.
   */
  atMs: number;
  kind: 'get' | 'set' | 'delete';
  /** The node it was sent to (a script sends it there if that node is up, else as a client would choose). */
  coordinator: number;
  /** Key index (see `keyName`). */
  key: number;
  consistency: Consistency;
  sloppy: boolean;
  ttlMs: number;
}

/** Observes operations as they are issued and as they complete (checkers judge reads the moment they return). */
export interface OpListener {
  issued(op: Op): void;
  completed(op: Op): void;
}

export class KvWorkload {
  readonly ops: Op[] = [];
  readonly counts = { opsIssued: 0, opsAcked: 0, opsFailed: 0, opsUnknown: 0, readsOk: 0, resentNotReady: 0, errors: {} as Record<string, number> };
  private readonly random: SeededRandom;
  private readonly zipfCdf: Float64Array;
  private readonly seq: number[];
  private running = true;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly padding: string;
  /** The operations issued, as data (what a script would have to give to issue them again). */
  readonly drawn: OpSpec[] = [];
  /** Per client, the scripted operations still to issue (null: draw them from the seed). */
  private readonly scripted: OpSpec[][] | null;

  constructor(
    private readonly sim: Simulation<ShoalNode>,
    seed: number,
    readonly config: KvWorkloadConfig,
    private readonly listener: OpListener,
    /**
     * Which up nodes a client may send to (default: any). The rolling scenarios pass the nodes that
     * have joined, as the SDK routes by the topology: not one still joining (a leaving one, yes).
     */
    private readonly canCoordinate: (index: number) => boolean = () => true,
    script?: readonly OpSpec[],
    /** Each client's own way to the cluster (kv-sdk: an SDK client); default a node's coordinator, chosen per operation. */
    private readonly clientKv?: (client: number) => ClientKv,
  ) {
    this.random = runStream(seed, 'kv/clients', sim.draws, () => sim.now);
    this.scripted = script ? Array.from({ length: config.clients }, (_, c) => script.filter((o) => o.client === c)) : null;
    this.zipfCdf = zipfCdf(config.keys, config.zipfExponent);
    this.seq = new Array<number>(config.clients).fill(0);
    // Padding keeps values unique (the prefix is) while making them as large as the scenario needs.
    this.padding = '.'.repeat(config.valuePaddingBytes ?? 0);
  }

  /** Starts every client after `delayMs`. */
  start(delayMs: number): void {
    for (let c = 0; c < this.config.clients; c++) {
      if (this.scripted && this.scripted[c]!.length === 0) continue;
      this.sim.after(this.scripted ? this.think(c) : delayMs + this.think(c), () => this.next(c), 'kv-client');
    }
  }

  /** Clients issue nothing new after this (operations in flight still complete). */
  stop(): void {
    this.running = false;
  }

  keyName(index: number): string {
    return this.config.keyNames?.[index] ?? `k${index}`;
  }

  private next(client: number): void {
    if (!this.running) return;
    const spec = this.scripted?.[client]![0];
    const home = client % this.sim.nodes.length;
    // Through a client of its own, the client does not know which node coordinates (-1).
    let coordinator = this.clientKv ? -1 : spec && spec.coordinator < this.sim.nodes.length ? spec.coordinator : home;
    if (!this.clientKv && (!this.sim.nodes[coordinator]!.up || !this.canCoordinate(coordinator))) {
      const up = this.sim.upNodes().filter((n) => this.canCoordinate(n.index));
      if (up.length === 0) return this.later(client);
      coordinator = up[this.random.int(up.length)]!.index;
    }
    const kv = this.clientKv ? this.clientKv(client) : this.sim.process(coordinator)!.kv;
    const drawnKey = spec ? spec.key : this.pickKey();
    const consistency = spec ? spec.consistency : this.pickConsistency();
    const roll = spec ? { get: 0, set: this.config.readFraction, delete: 1 }[spec.kind] : this.random.next();
    const keyIndex = spec || roll < this.config.readFraction ? drawnKey : this.ownKey(client, drawnKey);
    const key = this.keyName(keyIndex);
    const keyBytes = this.encoder.encode(key);
    const startMs = this.sim.now;
    const sticky = coordinator === home;
    const tried = [coordinator];
    const incarnation = this.sim.nodes[coordinator]?.incarnation ?? 0;
    this.counts.opsIssued++;

    this.scripted?.[client]!.shift();
    const record = (kind: OpSpec['kind'], sloppy: boolean, ttlMs: number) => this.drawn.push({ client, atMs: startMs, kind, coordinator, key: keyIndex, consistency, sloppy, ttlMs });

    if (roll < this.config.readFraction) {
      record('get', false, 0);
      const op: ReadOp = { kind: 'read', client, key, consistency, sticky, coordinator, incarnation, startMs, endMs: null, outcome: 'pending', value: null, version: null };
      this.ops.push(op);
      this.listener.issued(op);
      const finish = this.once(client, op);
      const done = (error: KvError | null, result?: GetResult) => {
        if (this.resentElsewhere(op, tried, error, (other) => other.get(keyBytes, { consistency }, done))) return;
        if (error || !result) return finish('failed', error);
        op.value = result.value ? this.decoder.decode(result.value) : null;
        op.version = result.version ?? null;
        finish('ok', null);
      };
      kv.get(keyBytes, { consistency }, done);
      return;
    }
    const isDelete = roll >= 1 - this.config.deleteFraction;
    const sloppy = spec ? spec.sloppy : this.random.chance(this.config.sloppyFraction);
    const ttlMs = spec ? spec.ttlMs : !isDelete && this.random.chance(this.config.ttlFraction) ? Math.floor(this.random.between(...this.config.ttlRangeMs)) : 0;
    record(isDelete ? 'delete' : 'set', sloppy, ttlMs);
    const value = isDelete ? null : `c${client}:${++this.seq[client]!}${this.padding}`;
    const op: WriteOp = { kind: 'write', client, key, value, ttlMs, consistency, sloppy, sticky, coordinator, incarnation, startMs, endMs: null, outcome: 'pending', version: null, acks: 0 };
    this.ops.push(op);
    this.listener.issued(op);
    const finish = this.once(client, op);
    const done = (error: KvError | null, result?: ClientWriteResult) => {
      const resend = (other: ClientKv) => (value === null ? other.delete(keyBytes, { consistency, sloppy }, done) : other.set(keyBytes, this.encoder.encode(value), { consistency, sloppy, ttlMs }, done));
      if (this.resentElsewhere(op, tried, error, resend)) return;
      if (error || !result) return finish('failed', error);
      op.version = result.version ?? null;
      op.acks = result.acks;
      if (result.coordinator !== undefined) op.coordinator = result.coordinator;
      if (result.incarnation !== undefined) op.incarnation = result.incarnation;
      finish('acked', null);
    };
    if (value === null) kv.delete(keyBytes, { consistency, sloppy }, done);
    else kv.set(keyBytes, this.encoder.encode(value), { consistency, sloppy, ttlMs }, done);
  }

  /**
   * With `resendNotReady`: when the coordinator refused `op` with `not-ready`, sends it to the
   * next node (by index, after this one) that is up and may coordinate, as the SDK resends to
   * another node, and returns true. No random draw, so the runs' other draws stay as they were.
   * Each node is tried at most once (`tried`: the nodes the operation was sent to).
   */
  private resentElsewhere(op: Op, tried: number[], error: KvError | null, send: (kv: ClientKv) => void): boolean {
    if (!this.config.resendNotReady || this.clientKv || error?.code !== 'not-ready' || op.outcome !== 'pending') return false;
    const n = this.sim.nodes.length;
    for (let step = 1; step < n; step++) {
      const index = (op.coordinator + step) % n;
      if (tried.includes(index) || !this.sim.nodes[index]!.up || !this.canCoordinate(index)) continue;
      tried.push(index);
      op.coordinator = index;
      op.incarnation = this.sim.nodes[index]!.incarnation;
      op.sticky = false;
      this.counts.resentNotReady++;
      send(this.sim.process(index)!.kv);
      return true;
    }
    return false;
  }

  /** Completes an operation exactly once: by its callback or by the client's timeout. */
  private once(client: number, op: Op): (outcome: 'ok' | 'acked' | 'failed' | 'unknown', error: KvError | null | undefined) => void {
    let finished = false;
    const finish = (outcome: 'ok' | 'acked' | 'failed' | 'unknown', error: KvError | null | undefined) => {
      if (finished) return;
      finished = true;
      op.endMs = this.sim.now;
      op.outcome = outcome as never;
      if (outcome === 'acked') this.counts.opsAcked++;
      else if (outcome === 'ok') this.counts.readsOk++;
      else if (outcome === 'unknown') this.counts.opsUnknown++;
      else {
        this.counts.opsFailed++;
        const code = error?.code ?? 'none';
        this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
      }
      this.listener.completed(op);
      this.later(client);
    };
    this.sim.after(CLIENT_TIMEOUT_MS, () => finish('unknown', null), 'kv-client-timeout');
    return finish;
  }

  /** Schedules the client's next operation, if it has one. */
  private later(client: number): void {
    if (this.scripted && this.scripted[client]!.length === 0) return;
    this.sim.after(this.think(client), () => this.next(client), 'kv-client');
  }

  /** The wait before the client's next operation: until the script's time for it, or a think time drawn from the seed. */
  private think(client: number): number {
    const scripted = this.scripted?.[client]![0];
    return scripted ? Math.max(0, scripted.atMs - this.sim.now) : this.random.exponential(this.config.meanThinkMs);
  }

  /** The key a client writes for the key index drawn: the same, or with `clientKeys` one of the client's own (no further draw, so seeds run as before). */
  private ownKey(client: number, drawn: number): number {
    const own = this.config.clientKeys;
    return own === undefined ? drawn : client * own + (drawn % own);
  }

  private pickKey(): number {
    const u = this.random.next();
    let lo = 0;
    let hi = this.zipfCdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.zipfCdf[mid]! >= u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private pickConsistency(): Consistency {
    let u = this.random.next();
    for (const [level, weight] of this.config.consistency) {
      if (u < weight) return level;
      u -= weight;
    }
    return this.config.consistency[0]![0];
  }
}

function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) total += 1 / k ** s;
  let acc = 0;
  for (let k = 1; k <= n; k++) {
    acc += 1 / k ** s / total;
    cdf[k - 1] = acc;
  }
  cdf[n - 1] = 1;
  return cdf;
}
