/**
 * The simulated network between node indexes. It carries copies of encoded bytes (never object
 * references), and decides each message's fate: delivered after a latency drawn from a
 * distribution (which also reorders), lost, duplicated, blocked by a partition, or held by a clog.
 *
 * Partitions are counted per directed link, so overlapping partitions compose: a link is cut while
 * at least one active partition cuts it.
 */
import { datagramByteLength, joinDatagram, type Datagram } from '../protocol/datagram.ts';
import type { SeededRandom } from '../runtime/seeded-random.ts';
import type { KeyedStreams } from './rng.ts';

export interface NetworkConfig {
  /** Every message takes at least this long. */
  minLatencyMs: number;
  /** Mean of the exponential tail added on top of the minimum; the tail is what reorders messages. */
  meanExtraLatencyMs: number;
  /** Probability that a message is silently dropped. */
  lossRate: number;
  /** Probability that a message is delivered twice (the copy with its own latency). */
  duplicateRate: number;
}

export const DEFAULT_NETWORK: NetworkConfig = {
  minLatencyMs: 0.2,
  meanExtraLatencyMs: 0.5,
  lossRate: 0,
  duplicateRate: 0,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  bytesSent: number;
  lost: number;
  duplicated: number;
  blockedByPartition: number;
  clogged: number;
  toDownNode: number;
}

export type Delivery = (deliverAt: number, from: number, to: number, bytes: Uint8Array) => void;

/** Reshapes one message's latency on a link, or drops it (null): gray failures (gray-faults.ts). */
export type LinkShaper = (from: number, to: number, latencyMs: number) => number | null;

export class SimNetwork {
  config: NetworkConfig;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    bytesSent: 0,
    lost: 0,
    duplicated: 0,
    blockedByPartition: 0,
    clogged: 0,
    toDownNode: 0,
  };
  /** cuts[from * capacity + to] = number of active partitions cutting that directed link. */
  private cuts: Uint16Array;
  private capacity: number;
  /** Directed link -> virtual time until which its messages are held. */
  private readonly clogs = new Map<number, number>();
  /** Gray failures' hook: null when none is installed. */
  shaper: LinkShaper | null = null;
  /** With keyed draws: per directed link, the instant of its last message and how many it sent then. */
  private readonly sentAtInstant = new Map<number, { at: number; count: number }>();

  /**
   * `keyed`: each message's fate comes from its own short stream, keyed by sender, receiver, send
   * time and its place among that link's messages at that instant (rng.ts, keyed draws); without
   * it, every message draws from `random`, one stream shared by all.
   */
  constructor(
    private readonly random: SeededRandom,
    config: Partial<NetworkConfig>,
    capacity: number,
    private readonly keyed: KeyedStreams | null = null,
  ) {
    this.config = { ...DEFAULT_NETWORK, ...config };
    this.capacity = Math.max(1, capacity);
    this.cuts = new Uint16Array(this.capacity * this.capacity);
  }

  /** Makes room for more nodes, keeping current partitions. */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const next = new Uint16Array(capacity * capacity);
    for (let f = 0; f < this.capacity; f++) {
      next.set(this.cuts.subarray(f * this.capacity, (f + 1) * this.capacity), f * capacity);
    }
    const oldCapacity = this.capacity;
    const oldClogs = [...this.clogs];
    this.clogs.clear();
    for (const [link, until] of oldClogs) {
      this.clogs.set(Math.floor(link / oldCapacity) * capacity + (link % oldCapacity), until);
    }
    this.cuts = next;
    this.capacity = capacity;
  }

  isCut(from: number, to: number): boolean {
    return this.cuts[from * this.capacity + to]! > 0;
  }

  /** Cuts every link from a node in `from` to a node in `to` (one direction). Returns the undo. */
  cut(from: readonly number[], to: readonly number[]): () => void {
    const links: number[] = [];
    for (const f of from) for (const t of to) if (f !== t) links.push(f * this.capacity + t);
    for (const l of links) this.cuts[l]!++;
    const capacityAtCut = this.capacity;
    let undone = false;
    return () => {
      if (undone) return;
      undone = true;
      for (const l of links) {
        const link = this.capacity === capacityAtCut ? l : Math.floor(l / capacityAtCut) * this.capacity + (l % capacityAtCut);
        if (this.cuts[link]! > 0) this.cuts[link]!--;
      }
    };
  }

  /** Holds (does not drop) messages on a directed link until the given virtual time. */
  clog(from: number, to: number, until: number): void {
    const link = from * this.capacity + to;
    this.clogs.set(link, Math.max(until, this.clogs.get(link) ?? 0));
  }

  healAll(): void {
    this.cuts.fill(0);
    this.clogs.clear();
  }

  /**
   * Decides a message's fate at send time and calls `deliver` for each copy that will arrive.
   * Partition and liveness are checked again by the caller at delivery time.
   */
  send(now: number, from: number, to: number, datagram: Datagram, deliver: Delivery): void {
    const stats = this.stats;
    stats.sent++;
    stats.bytesSent += datagramByteLength(datagram);
    if (this.isCut(from, to)) {
      stats.blockedByPartition++;
      return;
    }
    const random = this.keyed === null ? this.random : this.messageStream(now, from, to);
    if (random.chance(this.config.lossRate)) {
      stats.lost++;
      return;
    }
    const copies = random.chance(this.config.duplicateRate) ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      const latency = this.config.minLatencyMs + random.exponential(this.config.meanExtraLatencyMs);
      const shaped = this.shaper === null ? latency : this.shaper(from, to, latency);
      if (shaped === null) {
        stats.lost++;
        continue;
      }
      let at = now + shaped;
      const clogUntil = this.clogs.get(from * this.capacity + to);
      if (clogUntil !== undefined) {
        if (clogUntil > at) {
          at = clogUntil + random.exponential(this.config.meanExtraLatencyMs);
          stats.clogged++;
        } else if (clogUntil <= now) {
          this.clogs.delete(from * this.capacity + to);
        }
      }
      // Each copy gets its own buffer (the parts of a gather list joined): receivers can never
      // alias the sender's memory or each other's.
      deliver(at, from, to, joinDatagram(datagram));
    }
  }

  /** The keyed stream of the message `from` sends `to` now: the link's first, second, ... at this instant. */
  private messageStream(now: number, from: number, to: number): SeededRandom {
    const link = from * 65_536 + to;
    let last = this.sentAtInstant.get(link);
    if (last === undefined) this.sentAtInstant.set(link, (last = { at: now, count: 0 }));
    else if (last.at === now) last.count++;
    else [last.at, last.count] = [now, 0];
    return this.keyed!.at(from, to, now, last.count);
  }
}
