/**
 * The simulated world: virtual time, one `Env` per node, the faulty network, and node faults.
 * Node code runs unchanged inside it; every callback into node code (a timer firing, a message
 * arriving) is one recorded event in the run's trace.
 *
 * Node faults:
 * - crash: the node's process is discarded with all its memory; its timers never fire and messages
 *   to it are dropped until it restarts.
 * - restart: a fresh process is built by the factory (new incarnation, empty state). What the node
 *   persisted in its clock-ceiling store (Env.clockCeiling) survives, unless `wipeData` took it.
 * - pause: the node handles nothing until the pause ends; timers and messages due meanwhile are
 *   held and then run in their original order (a GC pause or SIGSTOP).
 * - slow: every event the node handles costs it extra virtual time, during which it handles
 *   nothing else (a starved or overloaded process).
 */
import { silentLogger, type Env, type Logger, type NodeAddress, type ReceiveHandler, type TimerId, type Transport } from '../runtime/env.ts';
import { SimClock } from './clock.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork, type NetworkConfig } from './network.ts';
import type { SeededRandom } from '../runtime/seeded-random.ts';
import { KeyedStreams, namedStream, runStream, type Draws } from './rng.ts';
import { fnv1aBytes } from '../protocol/hash.ts';
import { EventTrace } from './trace.ts';

/**
 * A node process, whatever the protocol. If it has a `stop()` method, a graceful stop calls it (so it
 * can say goodbye) before discarding it; a crash never does.
 */
export type SimProcess = object;

export interface ProcessInfo {
  index: number;
  /** How many times this node has been (re)started, from 0. */
  incarnation: number;
}

export type ProcessFactory<P extends SimProcess> = (env: Env, info: ProcessInfo) => P;

export interface SimulationConfig<P extends SimProcess> {
  seed: number;
  nodes: number;
  factory: ProcessFactory<P>;
  network?: Partial<NetworkConfig>;
  trace?: EventTrace;
  /** Node log lines go to this sink (with virtual time); by default they are dropped. */
  logSink?: (line: string) => void;
  /** Start node processes at time 0 (default) or leave them for the scenario to start. */
  autoStart?: boolean;
  /** How the network and the nodes draw their randomness (rng.ts; default 'shared', as every seed always has). */
  draws?: Draws;
}

/** Event kinds as recorded in the trace. */
export const EventKind = { timer: 1, message: 2, global: 3, start: 4, crash: 5 } as const;

export interface SimNode<P extends SimProcess> {
  readonly index: number;
  readonly address: NodeAddress;
  readonly clock: SimClock;
  readonly random: SeededRandom;
  process: P | null;
  incarnation: number;
  up: boolean;
  pausedUntil: number;
  /** Extra virtual time each handled event costs, while `slowUntil` is in the future. */
  slowCostMs: number;
  slowUntil: number;
  busyUntil: number;
  receive: ReceiveHandler | null;
  /** Timers of the current incarnation; cleared on crash. */
  timers: Set<TimerId>;
  /** The clock ceiling the node persisted (Env.clockCeiling), kept across its restarts; null: none. */
  clockCeilingMs: number | null;
  stats: { eventsHandled: number; eventsDelayed: number; received: number; restarts: number; crashes: number };
}

/** How long a simulated save of a node's clock ceiling takes (virtual ms): a crash meanwhile loses it. */
export const CLOCK_CEILING_SAVE_MS = 2;

export function nodeAddress(index: number): NodeAddress {
  return `n${index + 1}`;
}

export class Simulation<P extends SimProcess> {
  now = 0;
  readonly trace: EventTrace;
  readonly network: SimNetwork;
  readonly nodes: SimNode<P>[] = [];
  private readonly queue = new EventQueue();
  private readonly byAddress = new Map<NodeAddress, number>();
  private nextTimerId = 1;
  private readonly factory: ProcessFactory<P>;
  private readonly seed: number;
  readonly draws: Draws;
  private readonly logSink: ((line: string) => void) | undefined;

  constructor(config: SimulationConfig<P>) {
    this.seed = config.seed;
    this.draws = config.draws ?? 'shared';
    this.factory = config.factory;
    this.trace = config.trace ?? new EventTrace();
    this.logSink = config.logSink;
    const keyed = this.draws === 'keyed' ? new KeyedStreams(config.seed, 'network') : null;
    this.network = new SimNetwork(namedStream(config.seed, 'network'), config.network ?? {}, Math.max(8, config.nodes), keyed);
    for (let i = 0; i < config.nodes; i++) this.addNode({ start: config.autoStart ?? true });
  }

  /** Adds a node (not yet started unless `start`). Its randomness comes from its own stream. */
  addNode(options: { start: boolean } = { start: true }): SimNode<P> {
    const index = this.nodes.length;
    const address = nodeAddress(index);
    const node: SimNode<P> = {
      index,
      address,
      clock: new SimClock(() => this.now),
      random: this.stream(`node/${address}`),
      process: null,
      incarnation: -1,
      up: false,
      pausedUntil: 0,
      slowCostMs: 0,
      slowUntil: 0,
      busyUntil: 0,
      receive: null,
      timers: new Set(),
      clockCeilingMs: null,
      stats: { eventsHandled: 0, eventsDelayed: 0, received: 0, restarts: 0, crashes: 0 },
    };
    this.nodes.push(node);
    this.byAddress.set(address, index);
    if (this.nodes.length > 8) this.network.grow(2 ** Math.ceil(Math.log2(this.nodes.length)));
    if (options.start) this.start(index);
    return node;
  }

  /** The run's stream called `name`, drawn as the run's `draws` say (keyed draws: by virtual instant). */
  stream(name: string): SeededRandom {
    return runStream(this.seed, name, this.draws, () => this.now);
  }

  indexOf(address: NodeAddress): number | undefined {
    return this.byAddress.get(address);
  }

  process(index: number): P | null {
    return this.nodes[index]?.up ? this.nodes[index]!.process : null;
  }

  upNodes(): SimNode<P>[] {
    return this.nodes.filter((n) => n.up);
  }

  // ---- scheduling -------------------------------------------------------------------------

  /** Runs `fn` at virtual time `time` as a global (non-node) event, e.g. a scripted fault. */
  at(time: number, fn: () => void, label = 'global'): void {
    this.queue.push(Math.max(time, this.now), () => {
      this.record(-1, EventKind.global, 0, label);
      fn();
    });
  }

  after(delayMs: number, fn: () => void, label?: string): void {
    this.at(this.now + delayMs, fn, label);
  }

  /**
   * Advances virtual time to `until`, running every event due by then. `stopWhen` is evaluated
   * after each event; the run stops early when it returns true. Returns the number of events run.
   */
  runUntil(until: number, stopWhen?: () => boolean): number {
    let ran = 0;
    while (this.queue.peekTime() <= until) {
      const event = this.queue.pop()!;
      this.now = event.time;
      event.run();
      ran++;
      if (stopWhen?.()) return ran;
    }
    this.now = Math.max(this.now, until);
    return ran;
  }

  /**
   * runUntil for a world with promise-based code in it (real SDK clients): before each event, and
   * after the last, waits for `settle()` when it returns a promise, so that the microtasks an
   * event queued run at its virtual time, before the next event. Returns the number of events run.
   */
  async runUntilSettled(until: number, settle: () => Promise<void> | null): Promise<number> {
    let ran = 0;
    // Settling comes first too: client code run before this call may have events to schedule now.
    for (let settling = settle(); ; settling = settle()) {
      if (settling !== null) await settling;
      if (this.queue.peekTime() > until) break;
      const event = this.queue.pop()!;
      this.now = event.time;
      event.run();
      ran++;
    }
    this.now = Math.max(this.now, until);
    return ran;
  }

  // ---- node lifecycle ---------------------------------------------------------------------

  start(index: number): void {
    const node = this.mustNode(index);
    if (node.up) return;
    node.incarnation++;
    node.up = true;
    node.receive = null;
    node.timers = new Set();
    node.busyUntil = this.now;
    const incarnation = node.incarnation;
    this.record(index, EventKind.start, incarnation, `start ${node.address} incarnation ${incarnation}`);
    node.process = this.factory(this.envFor(node, incarnation), { index, incarnation });
  }

  /** Kills the node's process at once: all its memory and pending timers are gone. */
  crash(index: number): void {
    const node = this.mustNode(index);
    if (!node.up) return;
    this.record(index, EventKind.crash, node.incarnation, `crash ${node.address}`);
    node.up = false;
    node.process = null;
    node.receive = null;
    node.timers.clear();
    node.pausedUntil = 0;
    node.slowUntil = 0;
    node.stats.crashes++;
  }

  /** A fresh process for a crashed node (or a crash then a fresh process for a live one). */
  restart(index: number): void {
    this.crash(index);
    this.mustNode(index).stats.restarts++;
    this.start(index);
  }

  /** Graceful stop: the process is told to stop (it may say goodbye), then discarded. */
  stop(index: number): void {
    const node = this.mustNode(index);
    if (!node.up) return;
    (node.process as { stop?: () => void } | null)?.stop?.();
    this.crash(index);
  }

  /** The node's persisted state is gone (a replaced disk): its next process finds no clock ceiling. */
  wipeData(index: number): void {
    this.mustNode(index).clockCeilingMs = null;
  }

  pause(index: number, forMs: number): void {
    const node = this.mustNode(index);
    node.pausedUntil = Math.max(node.pausedUntil, this.now + forMs);
  }

  slow(index: number, costMs: number, forMs: number): void {
    const node = this.mustNode(index);
    node.slowCostMs = costMs;
    node.slowUntil = this.now + forMs;
  }

  // ---- the per-node environment -----------------------------------------------------------

  private envFor(node: SimNode<P>, incarnation: number): Env {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the env's methods are plain functions, not methods of the simulation
    const sim = this;
    const alive = () => node.up && node.incarnation === incarnation;
    const transport: Transport = {
      send(to, bytes) {
        if (!alive()) return;
        const target = sim.byAddress.get(to);
        if (target === undefined) {
          sim.network.stats.toDownNode++;
          return;
        }
        sim.network.send(sim.now, node.index, target, bytes, (at, from, dest, copy) => sim.scheduleDelivery(at, from, dest, copy));
      },
      onReceive(handler) {
        if (alive()) node.receive = handler;
      },
    };
    const timers: Env['timers'] = {
      setTimer(delayMs, fn) {
        const id = sim.nextTimerId++;
        if (!alive()) return id;
        node.timers.add(id);
        sim.queue.push(sim.now + Math.max(0, delayMs), () => sim.fireTimer(node, incarnation, id, fn));
        return id;
      },
      cancelTimer(id) {
        node.timers.delete(id);
      },
    };
    return {
      address: node.address,
      clock: node.clock,
      random: node.random,
      incarnation,
      transport,
      timers,
      // Saved through the node's own timers: a save in flight when the process crashes never lands.
      clockCeiling: {
        load: () => node.clockCeilingMs,
        save: (ceilingMs, done) => {
          timers.setTimer(CLOCK_CEILING_SAVE_MS, () => {
            node.clockCeilingMs = ceilingMs;
            done(null);
          });
        },
      },
      log: this.loggerFor(node),
      probes: this.trace.probes.forNode(node.address, () => this.now),
    };
  }

  private fireTimer(node: SimNode<P>, incarnation: number, id: TimerId, fn: () => void): void {
    if (!node.up || node.incarnation !== incarnation || !node.timers.has(id)) return;
    if (this.holdIfBusy(node, () => this.fireTimer(node, incarnation, id, fn))) return;
    node.timers.delete(id);
    this.record(node.index, EventKind.timer, id, `timer ${node.address} #${id}`);
    this.handled(node);
    fn();
  }

  private scheduleDelivery(at: number, from: number, to: number, bytes: Uint8Array): void {
    this.queue.push(at, () => this.deliver(from, to, bytes));
  }

  private deliver(from: number, to: number, bytes: Uint8Array): void {
    const node = this.nodes[to]!;
    if (!node.up) {
      this.network.stats.toDownNode++;
      return;
    }
    // A partition that began while the message was in flight still stops it.
    if (this.network.isCut(from, to)) {
      this.network.stats.blockedByPartition++;
      return;
    }
    if (this.holdIfBusy(node, () => this.deliver(from, to, bytes))) return;
    const handler = node.receive;
    const description = this.trace.wantsDescription() ? `message ${this.nodes[from]!.address} -> ${node.address} (${bytes.length} bytes)` : undefined;
    this.record(to, EventKind.message, fnv1aBytes(bytes) ^ from, description);
    this.network.stats.delivered++;
    node.stats.received++;
    this.handled(node);
    handler?.(this.nodes[from]!.address, bytes);
  }

  /** A paused or busy (slow) node handles the event later, in the order events reached it. */
  private holdIfBusy(node: SimNode<P>, retry: () => void): boolean {
    const readyAt = Math.max(node.pausedUntil, node.busyUntil);
    if (readyAt <= this.now) return false;
    node.stats.eventsDelayed++;
    this.queue.push(readyAt, retry);
    return true;
  }

  private handled(node: SimNode<P>): void {
    node.stats.eventsHandled++;
    if (node.slowUntil > this.now) node.busyUntil = this.now + node.slowCostMs;
  }

  private record(node: number, kind: number, payload: number, description?: string): void {
    this.trace.record(this.now, node, kind, payload, this.trace.wantsDescription() ? `t=${this.now.toFixed(3)}ms ${description ?? ''}` : undefined);
  }

  private loggerFor(node: SimNode<P>): Logger {
    const sink = this.logSink;
    if (!sink) return silentLogger;
    const line = (level: string) => (obj: object, msg?: string) =>
      sink(`${(this.now / 1000).toFixed(3)}s ${node.address} ${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
    return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  }

  private mustNode(index: number): SimNode<P> {
    const node = this.nodes[index];
    if (!node) throw new Error(`no simulated node with index ${index}`);
    return node;
  }
}

