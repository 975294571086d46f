/**
 * The hook through which the node's metrics (src/admin/metrics.ts) see each request: the
 * coordinator calls a `RequestObserver` as a get, set, delete or read-modify-write completes, and
 * the replica host calls a `ReplicaObserver` as a read or write job has run. Both are null unless
 * the daemon installs them (the simulator never does), and durations come from the Env clock.
 * A `ReplicaHealth` (src/health/peer-health.ts, installed by the node) sees every remote replica's
 * answer or silence and tells reads which replicas to leave out of their first round.
 */
import type { Clock } from '../runtime/env.ts';
import type { Callback, Consistency, KvError } from './api.ts';

export type ObservedOp = 'get' | 'set' | 'delete' | 'rmw';
/** `hit`/`miss` for a get, `ok` for the others, else the error code. */
export type ObservedOutcome = 'hit' | 'miss' | 'ok' | KvError['code'];

export type RequestObserver = (op: ObservedOp, consistency: Consistency, outcome: ObservedOutcome, seconds: number) => void;
/** A replica job: `seconds` from the message's arrival (mailbox wait included) to the answer. */
export type ReplicaObserver = (op: 'read' | 'write', seconds: number) => void;

/** `done`, timed: calls `observer` first with the outcome and the time since now (on the Env's monotonic clock). */
export function observed<T>(observer: RequestObserver, clock: Clock, op: ObservedOp, consistency: Consistency, done: Callback<T>): Callback<T> {
  const startMs = clock.monoMs();
  return (error, result) => {
    const outcome: ObservedOutcome =
      error !== null ? error.code : op === 'get' ? ((result as { value: unknown } | undefined)?.value === null ? 'miss' : 'hit') : 'ok';
    observer(op, consistency, outcome, (clock.monoMs() - startMs) / 1000);
    done(error, result);
  };
}

/** Per-replica health the coordinator reports to and reads by (src/health/peer-health.ts implements it). */
export interface ReplicaHealth {
  /** A request was sent to replica `name` at `sentAtMs` (Env monotonic time). */
  asked(name: string, sentAtMs: number): void;
  /** Replica `name` answered a request sent at `sentAtMs` (Env monotonic time). */
  answered(name: string, sentAtMs: number): void;
  /** A request to `name` sent at `sentAtMs` was still unanswered at its deadline. */
  silent(name: string, sentAtMs: number): void;
  /** Whether a read should ask `name` only if the others cannot answer (demoted, not due a re-probe). */
  deferRead(name: string): boolean;
}
