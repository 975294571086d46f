/**
 * A node's admission gate for its clients' keyspace calls: at most `limit` get/set/delete calls
 * of all its client connections together, RESP and SDK alike, are unanswered at once; the rest
 * wait here and start as earlier ones are answered: each client's in arrival order, and the
 * clients with calls waiting in turn (round robin), so one client's burst (a pipeline of 10,000
 * SETs, an MSET of 100,000 keys) does not queue every other client's call behind all of it. The
 * limit follows how fast calls are answered (ADMISSION_LIMITS). One per node: the daemon builds it and hands it to both
 * listeners (src/resp/server.ts, src/server/client-server.ts); the simulator builds one per node
 * for the kv-sdk scenario's sessions.
 *
 * Why: a keyspace call's deadline (the replica timeout, 500 ms by default) starts when the call
 * does. Nothing else bounded what one node had in flight: 50 connections pipelining 16 MSETs of 10
 * keys (redis-benchmark -t mset -P 16) started 8,000 quorum writes at once on the node that owns
 * the slot; at the ~2-20k writes a second a node of three manages, the last of them were answered
 * after their deadline, failed as CLUSTERDOWN ("only 1 of the 2 replicas needed acknowledged the
 * write in time"), left hints that cost more work, and redis-benchmark --cluster sleeps a second
 * after each CLUSTERDOWN: 29.9 MSETs a second (bench/results/resp-2026-12-02.json). One SDK client
 * with 10,000 sets in flight did the same through the client sessions (probe-sdk finding 8: up to
 * 6,325 `unavailable`). Waiting here costs no replica deadline, so a burst is answered late
 * instead of failed, and every call a node starts has its whole deadline to finish in.
 *
 * A call that carries its client's deadline (the SDK stamps one on every get/set/delete) must not
 * start after it: its client has reported it failed, and a write started then would be versioned
 * after writes acknowledged since (346ba79, probe-sdk finding 1). The session checks the deadline
 * when it takes a request up, and again, through `admit`'s `abandoned`, when the request's turn
 * here comes.
 *
 * Core code: time comes from the caller's clock (`nowMs`, the Env's monotonic clock), so the
 * simulator runs this gate as production does.
 */
import type { Callback, KeyspaceService } from './api.ts';

/**
 * How many calls a node lets be unanswered at once (all client connections together) adapts to
 * how fast they are answered: it starts at `initial`, shrinks by a quarter after a round (as many
 * answers as the limit) in which a call took longer than ADMISSION_TARGET_MS, and at once when one
 * fails as a quorum failure, a timeout or an overload; it grows by an eighth after a clean round
 * in which calls had to wait; always within `min`..`max`. A node's rate changes with its machine's load by 10x and more (bench/resp on a
 * shared 2-core machine: 17,000 SETs a second one hour, 2,000 the next), so no fixed number is
 * both enough to keep a fast node busy and few enough for a starved one to answer in time.
 */
export const ADMISSION_LIMITS = { initial: 128, min: 64, max: 1024 } as const;
/**
 * A call answered later than this (half the default 500 ms replica timeout) says the node has too
 * much in flight. Not lower: on a starved machine a write took over 100 ms with few in flight, and
 * a 100 ms target throttled SET -P 16 to a third of its rate (cpu-per-request.ts, same run).
 */
export const ADMISSION_TARGET_MS = 250;

/** Error codes that say the calls in flight are more than the replicas answer in time. */
const CONGESTION = new Set(['unavailable', 'timeout', 'overloaded']);

export interface AdmissionGateOptions {
  initial?: number;
  min?: number;
  max?: number;
  targetMs?: number;
  /** Monotonic ms: the Env's clock (env.clock.monoMs()). */
  nowMs: () => number;
}

/** A call's start, given `release`, to call once when the call is answered (with its error's code if it failed). */
export type AdmittedCall = (release: (errorCode?: string) => void) => void;

/** Whose call it is (a connection, a session): waiting calls are started a client at a time, in turn. */
export type GateClient = object;

/** The client of calls admitted without one: they share one queue, started in arrival order. */
const SHARED: GateClient = Object.freeze({});

interface WaitingCall {
  start: AdmittedCall;
  abandoned: (() => boolean) | undefined;
}

/** A first-in first-out queue whose `shift` is O(1): the array is compacted now and then, not shifted. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item (the queue must not be empty). */
  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }
}

export class AdmissionGate {
  /** Calls started and not answered yet, and how many may be. */
  inFlight = 0;
  limit: number;
  /** The most calls ever unanswered at once, and the most ever waiting; calls that had to wait; rounds that shrank the limit. */
  peakInFlight = 0;
  peakWaiting = 0;
  waited = 0;
  shrinks = 0;
  /** Calls that waited and were never started: when their turn came, `abandoned` said their client had given up (its deadline passed, or its connection closed). */
  abandoned = 0;
  readonly min: number;
  readonly max: number;
  readonly targetMs: number;
  readonly nowMs: () => number;
  /** Each client's waiting calls, oldest first; a client is here while it has some. */
  private readonly queues = new Map<GateClient, Fifo<WaitingCall>>();
  /** The clients with calls waiting, in the order their turns come (each goes to the back after one call starts). */
  private readonly turns = new Fifo<GateClient>();
  private waitingTotal = 0;
  private pumping = false;
  /** This round: answers so far, whether one was late, whether a call had to wait. */
  private answered = 0;
  private late = false;
  private pressed = false;
  /** This round began early, at a failed call. */
  private endedEarly = false;

  constructor(options: AdmissionGateOptions) {
    this.min = options.min ?? ADMISSION_LIMITS.min;
    this.max = options.max ?? ADMISSION_LIMITS.max;
    this.limit = options.initial ?? Math.min(this.max, Math.max(this.min, ADMISSION_LIMITS.initial));
    this.targetMs = options.targetMs ?? ADMISSION_TARGET_MS;
    this.nowMs = options.nowMs;
    for (const [name, value] of [['min', this.min], ['max', this.max], ['initial', this.limit]] as const) {
      if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`the admission gate's ${name} must be a positive integer, got ${value}`);
    }
    if (!(this.min <= this.limit && this.limit <= this.max)) throw new RangeError(`the admission gate needs min <= initial <= max, got ${this.min}, ${this.limit}, ${this.max}`);
  }

  get waitingCount(): number {
    return this.waitingTotal;
  }

  /** Takes room for one call if there is some and nobody waits for it: the caller then calls `release` once when its call is answered. */
  enter(): boolean {
    if (this.inFlight >= this.limit || this.waitingTotal > 0) {
      this.pressed = true;
      return false;
    }
    if (++this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    return true;
  }

  /**
   * Gives back the room `enter` took, starting the next waiting calls. `startedMs` (nowMs() when
   * the call started) and `errorCode` (its error's, if any) tell the limit how it went.
   */
  release(startedMs: number, errorCode?: string): void {
    this.inFlight--;
    const congested = errorCode !== undefined && CONGESTION.has(errorCode);
    if (congested || this.nowMs() - startedMs > this.targetMs) this.late = true;
    // A failed call ends its round at once (a client already got an error: the next must not wait
    // a round), once per round: the calls started before, failing with it, count in the next.
    if (++this.answered >= this.limit) this.endRound();
    else if (congested && !this.endedEarly) {
      this.endRound();
      this.endedEarly = true;
    }
    this.pump();
  }

  private endRound(): void {
    if (this.late) {
      this.limit = Math.max(this.min, Math.floor(this.limit * 0.75));
      this.shrinks++;
    } else if (this.pressed || this.waitingCount > 0) {
      this.limit = Math.min(this.max, this.limit + Math.max(1, Math.floor(this.limit / 8)));
    }
    this.answered = 0;
    this.late = false;
    this.pressed = false;
    this.endedEarly = false;
  }

  /**
   * Runs `start` now if there is room, else once there is; `start` gets `release`, to call once
   * when its call is answered, with its error code if it failed. `abandoned`, if given, is asked
   * when a call that waited gets its turn: true means its caller no longer wants it started (and
   * has answered it, as the session does a request whose client's deadline passed meanwhile); the
   * call then takes no room and the next one is asked. `client`: whose call it is (calls without
   * one share a queue): waiting clients take turns.
   */
  admit(start: AdmittedCall, abandoned?: () => boolean, client: GateClient = SHARED): void {
    if (this.enter()) return this.begin(start);
    this.waited++;
    let queue = this.queues.get(client);
    if (queue === undefined) {
      this.queues.set(client, (queue = new Fifo()));
      this.turns.push(client);
    }
    queue.push({ start, abandoned });
    this.peakWaiting = Math.max(this.peakWaiting, ++this.waitingTotal);
  }

  /** The next waiting call: the first of the client whose turn it is, which then goes to the back (or leaves, with none left). */
  private nextWaiting(): WaitingCall {
    const client = this.turns.shift();
    const queue = this.queues.get(client)!;
    const call = queue.shift();
    this.waitingTotal--;
    if (queue.length === 0) this.queues.delete(client);
    else this.turns.push(client);
    return call;
  }

  /** Runs a call that has its room. */
  private begin(start: AdmittedCall): void {
    const startedMs = this.nowMs();
    let released = false;
    start((errorCode) => {
      if (released) return;
      released = true;
      this.release(startedMs, errorCode);
    });
  }

  /** Starts waiting calls while there is room; a call answered synchronously inside does not recurse. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.limit && this.waitingTotal > 0) {
        const next = this.nextWaiting();
        if (next.abandoned?.() === true) {
          this.abandoned++;
          continue;
        }
        if (++this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
        this.begin(next.start);
      }
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * The keyspace with its get, set and delete going through `gate` (RESP's, whose calls carry no
 * client deadline): the plain quorum calls, whose
 * deadline starts with them. Not rmw: a read-modify-write waits on its key's primary, behind the
 * others on that key (a hot INCR ran at 200 a second), and holding room here for those would hold
 * up every other client's GET. Every other member is the
 * keyspace's own, called on the keyspace itself (a class instance keeps its `this`), whatever
 * members KeyspaceService gains. The gate is released before the caller's callback runs, so a
 * call the callback makes queues behind those already waiting. With room (the usual case) a call
 * costs one closure, its callback's. `client`: whose calls these are (see AdmissionGate.admit);
 * clientView gives each connection its own view of the one gated keyspace.
 */
export function gatedKeyspace(keyspace: KeyspaceService, gate: AdmissionGate, client?: GateClient): KeyspaceService {
  const released = <T>(done: Callback<T>): Callback<T> => {
    const startedMs = gate.nowMs();
    let answered = false;
    return (error, result) => {
      if (!answered) {
        answered = true;
        gate.release(startedMs, error?.code);
      }
      done(error, result);
    };
  };
  const get: KeyspaceService['get'] = (key, options, done) => {
    if (gate.enter()) keyspace.get(key, options, released(done));
    else gate.admit((release) => keyspace.get(key, options, releasing(release, done)), undefined, client);
  };
  const set: KeyspaceService['set'] = (key, value, options, done) => {
    if (gate.enter()) keyspace.set(key, value, options, released(done));
    else gate.admit((release) => keyspace.set(key, value, options, releasing(release, done)), undefined, client);
  };
  const del: KeyspaceService['delete'] = (key, options, done) => {
    if (gate.enter()) keyspace.delete(key, options, released(done));
    else gate.admit((release) => keyspace.delete(key, options, releasing(release, done)), undefined, client);
  };
  const bound = new Map<PropertyKey, unknown>([
    ['get', get],
    ['set', set],
    ['delete', del],
    [CLIENT_VIEW, (of: GateClient) => gatedKeyspace(keyspace, gate, of)],
  ]);
  return new Proxy(keyspace, {
    get(target, property) {
      const known = bound.get(property);
      if (known !== undefined) return known;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, method);
      return method;
    },
  });
}

/** The member of a gated keyspace that makes a view of it for one client (clientView). */
const CLIENT_VIEW = Symbol('admission client view');

/**
 * `keyspace` as one client (a connection) calls it: when it is gated (gatedKeyspace), its calls
 * wait in the gate as that client's, taking turns with other clients' calls; otherwise unchanged.
 */
export function clientView(keyspace: KeyspaceService, client: GateClient): KeyspaceService {
  const view = (keyspace as unknown as Record<symbol, unknown>)[CLIENT_VIEW];
  return typeof view === 'function' ? (view as (of: GateClient) => KeyspaceService)(client) : keyspace;
}

function releasing<T>(release: (errorCode?: string) => void, done: Callback<T>): Callback<T> {
  return (error, result) => {
    release(error?.code);
    done(error, result);
  };
}
