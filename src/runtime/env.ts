/**
 * The seam between Shoal's core logic and the outside world.
 *
 * Everything in the core folders (gossip, ring, actors, store, replication, node, protocol) reaches
 * time, timers, randomness, the network and logging only through an `Env`. Two implementations
 * exist: the real one (`src/runtime/real.ts`: Node timers, pino; with the `ws` transport of `src/transport`) and the simulated one
 * (`src/sim`: virtual time, seeded streams, a faulty network). The same node code runs under both,
 * which is what makes a simulated run replayable from its seed.
 */
import type { Probes } from './probes.ts';

/**
 * What `Transport.send` takes: the datagram's bytes, or the parts they are made of, in order (a
 * gather list, as for `writev`). A layer puts its header in front of a body as a part of its own
 * instead of copying the body behind it, and the transport copies the parts at most once. The
 * receiver always gets the joined bytes. A transport never writes to the parts. Helpers that
 * measure, copy and join them: src/protocol/datagram.ts.
 */
export type Datagram = Uint8Array | readonly Uint8Array[];

/** A node's address on the node-to-node network: `host:port` for real, a name like `n3` in simulation. */
export type NodeAddress = string;

/** Per-node clocks. Wall time may jump or drift (and does, in simulation); monotonic time never goes back. */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch, as this node believes it to be. Used for HLC stamps and TTLs. */
  wallMs(): number;
  /** Monotonic milliseconds from an arbitrary origin. Use it for every timeout and interval. */
  monoMs(): number;
  /**
   * Wall-clock microseconds since the Unix epoch (an integer), in the same millisecond as wallMs,
   * for what shows time finer than a millisecond (Redis's TIME). Absent: wallMs() * 1000.
   */
  wallUs?(): number;
}

/** A clock's wall time in microseconds: its own when it has them, else its milliseconds. */
export function wallUsOf(clock: Clock): number {
  return clock.wallUs?.() ?? clock.wallMs() * 1000;
}

/** An opaque handle for a scheduled timer. */
export type TimerId = number;

export interface Timers {
  /** Calls `fn` once after `delayMs` milliseconds of monotonic time. */
  setTimer(delayMs: number, fn: () => void): TimerId;
  /** Cancels a timer; cancelling one that already fired or was cancelled is a no-op. */
  cancelTimer(id: TimerId): void;
}

/** A seeded random stream. In simulation each node has its own, so adding a node reshuffles nothing else. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/**
 * Lanes let a transport keep small, latency-sensitive traffic (gossip probes) from waiting behind
 * bulk traffic (handoff streams) to the same peer.
 */
export type Lane = 'control' | 'bulk';

export type ReceiveHandler = (from: NodeAddress, bytes: Uint8Array) => void;

/**
 * Unreliable, unordered datagrams between nodes. A send may be lost, duplicated, delayed or
 * reordered; protocols must cope. Bytes are copied across the boundary: a receiver never sees the
 * sender's buffer. A sender must not change bytes once sent: a transport never writes to them but
 * may read them after `send` returns (the `ws` transport writes a large datagram out of the
 * sender's own buffers). Shoal's senders always send freshly encoded bytes.
 */
export interface Transport {
  send(to: NodeAddress, datagram: Datagram, lane?: Lane): void;
  /** Registers the single handler for inbound messages; a later call replaces the earlier one. */
  onReceive(handler: ReceiveHandler): void;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Where a node keeps its clock ceiling across restarts (src/replication/clock-ceiling.ts): a bound
 * above every version its clock may stamp, so a later process starts its clock above all of them.
 * The daemon keeps it in a file of the data directory; the simulator keeps it with the node, so it
 * survives the node's restarts.
 */
export interface ClockCeilingStore {
  /**
   * The ceiling the node's last process persisted, in wall milliseconds: null when there is none,
   * or when it cannot be read (the store has then warned why; the node starts as it would without one).
   */
  load(): number | null;
  /**
   * Persists `ceilingMs` (atomically: a crash leaves the old ceiling or the new one) and calls
   * `done` once it is durable, with null, or with why it failed. Never blocks the caller; one
   * save at a time.
   */
  save(ceilingMs: number, done: (error: string | null) => void): void;
}

/** Everything a node's core logic may use of the outside world. */
export interface Env {
  /** This node's own address. */
  readonly address: NodeAddress;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly transport: Transport;
  readonly log: Logger;
  /**
   * Tells this process apart from the node's earlier ones, which had its address: its request ids
   * start from it (src/replication/request-ids.ts). The simulator counts a node's processes;
   * production draws one at random. Absent: 0 (hand-built environments in tests).
   */
  readonly incarnation?: number;
  /** The simulator's rare-path counts, BUGGIFY and assertion reports (src/runtime/probes.ts); absent in production. */
  readonly probes?: Probes;
  /** Where the node's clock ceiling survives its restarts; absent: the clock starts from the wall clock alone. */
  readonly clockCeiling?: ClockCeilingStore;
}

/** A logger that drops everything: the default where no logger is given. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
