/**
 * Admission for the RESP listener's keyspace calls: at most `limit` get/set/delete calls of all
 * connections together are unanswered at once; the rest wait here, in arrival order, and start as
 * earlier ones are answered.
 *
 * Why: a keyspace call's deadline (the replica timeout, 500 ms by default) starts when the call
 * does. Nothing else bounded what one node had in flight: 50 connections pipelining 16 MSETs of 10
 * keys (redis-benchmark -t mset -P 16) started 8,000 quorum writes at once on the node that owns
 * the slot; at the ~10-20k writes a second a node of three manages, the last of them were answered
 * after their deadline, failed as CLUSTERDOWN ("only 1 of the 2 replicas needed acknowledged the
 * write in time"), left hints that cost more work, and redis-benchmark --cluster sleeps a second
 * after each CLUSTERDOWN: 29.9 MSETs a second (bench/results/resp-2026-12-02.json). Waiting here
 * costs no deadline, so a burst is answered late instead of failed (a Redis client's own timeout
 * still applies), and every call a node starts has its whole deadline to finish in.
 */
import type { Callback, KeyspaceService } from '../replication/api.ts';

/**
 * Calls a RESP listener keeps unanswered at most (all connections together): what a node answers
 * within its 500 ms deadline even at ~500 calls a second (a node starved of CPU on a machine at
 * load 12 still made 1,000-2,000). Throughput does not need more: 50 clients pipelining 16 SETs
 * (800 asked at once) ran as fast through 256 as without a bound (bench/resp, docs/REDIS.md).
 */
export const DEFAULT_MAX_KEYSPACE_CALLS = 256;

export class KeyspaceGate {
  /** Calls started and not answered yet. */
  inFlight = 0;
  /** The most calls ever unanswered at once, and the most ever waiting (INFO-style counters for tests and bench). */
  peakInFlight = 0;
  peakWaiting = 0;
  /** Calls that had to wait for room. */
  waited = 0;
  private readonly waiting: (() => void)[] = [];
  /** Index of the next waiting call to start (the queue is compacted now and then, not shifted). */
  private head = 0;
  private pumping = false;

  constructor(readonly limit: number = DEFAULT_MAX_KEYSPACE_CALLS) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`the keyspace call limit must be a positive integer, got ${limit}`);
  }

  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /** Takes room for one call if there is some and nobody waits for it: the caller then calls `release` once when its call is answered. */
  enter(): boolean {
    if (this.inFlight >= this.limit || this.head < this.waiting.length) return false;
    if (++this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    return true;
  }

  /** Gives back the room `enter` took, starting the next waiting call. */
  release(): void {
    this.inFlight--;
    this.pump();
  }

  /** Runs `start` now if there is room, else once there is; `start` gets `release`, to call once when its call is answered. */
  admit(start: (release: () => void) => void): void {
    if (this.inFlight < this.limit && this.waitingCount === 0) return this.begin(start);
    this.waited++;
    this.waiting.push(() => this.begin(start));
    this.peakWaiting = Math.max(this.peakWaiting, this.waitingCount);
  }

  private begin(start: (release: () => void) => void): void {
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    let released = false;
    start(() => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.pump();
    });
  }

  /** Starts waiting calls while there is room; a call answered synchronously inside does not recurse. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.limit && this.head < this.waiting.length) {
        const next = this.waiting[this.head]!;
        this.waiting[this.head++] = undefined as unknown as () => void;
        next();
      }
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      } else if (this.head > 4096 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * The keyspace with its get, set and delete going through `gate`: the plain quorum calls, whose
 * deadline starts with them. Not rmw: a read-modify-write waits on its key's primary, behind the
 * others on that key (a hot INCR ran at 200 a second), and holding room here for those would hold
 * up every other client's GET. Every other member is the
 * keyspace's own, called on the keyspace itself (a class instance keeps its `this`), whatever
 * members KeyspaceService gains. The gate is released before the caller's callback runs, so a
 * call the callback makes queues behind those already waiting. With room (the usual case) a call
 * costs one closure, its callback's.
 */
export function gatedKeyspace(keyspace: KeyspaceService, gate: KeyspaceGate): KeyspaceService {
  const released = <T>(done: Callback<T>): Callback<T> => {
    let answered = false;
    return (error, result) => {
      if (!answered) {
        answered = true;
        gate.release();
      }
      done(error, result);
    };
  };
  const get: KeyspaceService['get'] = (key, options, done) => {
    if (gate.enter()) keyspace.get(key, options, released(done));
    else gate.admit((release) => keyspace.get(key, options, releasing(release, done)));
  };
  const set: KeyspaceService['set'] = (key, value, options, done) => {
    if (gate.enter()) keyspace.set(key, value, options, released(done));
    else gate.admit((release) => keyspace.set(key, value, options, releasing(release, done)));
  };
  const del: KeyspaceService['delete'] = (key, options, done) => {
    if (gate.enter()) keyspace.delete(key, options, released(done));
    else gate.admit((release) => keyspace.delete(key, options, releasing(release, done)));
  };
  const bound = new Map<PropertyKey, unknown>([
    ['get', get],
    ['set', set],
    ['delete', del],
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

function releasing<T>(release: () => void, done: Callback<T>): Callback<T> {
  return (error, result) => {
    release();
    done(error, result);
  };
}
