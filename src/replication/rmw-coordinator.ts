/**
 * The coordinator side of read-modify-write (RmwService, api.ts): any node takes rmw(keys, op),
 * sends it to the keys' primary (the first owner of their partition that membership believes is
 * up) and answers what the primary answers (rmw-primary.ts; docs/REPLICATION.md "Read-modify-write").
 *
 * Retries: a retryable answer (the primary was deposed, could not claim, was overloaded, or does
 * not own the partition in its ring) or an attempt that stays silent is tried again after a
 * backoff, on whichever node is the primary by then, until the deadline. Every attempt carries
 * the same request id (the caller's, or one made here), so an operation that took effect on an
 * attempt whose answer was lost is answered with its first result rather than applied again.
 */
import type { Callback, Consistency, KvError, KvErrorCode, RmwOptions, RmwService } from './api.ts';
import type { ReplicationContext } from './context.ts';
import { observed, type RequestObserver } from './observer.ts';
import { backoffDelay, type BackoffPolicy } from '../protocol/backoff.ts';
import type { KvMessage } from './messages.ts';
import { keyToStoreKey } from './record.ts';
import type { RmwOp, RmwResult } from './rmw.ts';
import { decodeRmwResult, encodeRmwOp, MalformedRmwError, type WireRmwOp } from './rmw-wire.ts';
import { firstRequestId } from './request-ids.ts';

/** One attempt waits this many replica timeouts for the primary (a claim and a write, each a timeout). */
export const RMW_ATTEMPT_TIMEOUTS = 3;
/** The whole operation, retries included, gives up after this many replica timeouts. */
export const RMW_DEADLINE_TIMEOUTS = 8;
/** Backoff between attempts: a primary that was just deposed needs a gossip round or a claim to settle. */
export const RMW_RETRY_BACKOFF: BackoffPolicy = { initialDelayMs: 10, maxDelayMs: 200, factor: 2, jitter: 0.5 };
/** Errors worth another attempt: nothing was applied, or the request id makes a repeat harmless. */
const RETRYABLE: ReadonlySet<string> = new Set<KvErrorCode>(['unavailable', 'overloaded', 'not-ready', 'timeout']);

export interface RmwCoordinatorStats {
  ops: number;
  attempts: number;
  retries: number;
  failed: number;
}

interface PendingRmw {
  partition: number;
  message: Extract<KvMessage, { t: 'x' }>;
  done: Callback<RmwResult> | null;
  deadline: number;
  attempt: number;
  timer: number | null;
  lastError: KvError | null;
}

export class RmwCoordinator implements RmwService {
  readonly stats: RmwCoordinatorStats = { ops: 0, attempts: 0, retries: 0, failed: 0 };
  private readonly pending = new Map<number, PendingRmw>();
  private nextId: number;
  /** Makes request ids unique across this node's restarts (its counter starts again at 1). */
  private readonly idPrefix: string;
  private nextRequest = 1;

  constructor(private readonly ctx: ReplicationContext) {
    this.nextId = firstRequestId(ctx.env);
    const r = () => Math.floor(ctx.env.random.next() * 0x1_0000_0000).toString(16);
    this.idPrefix = `${ctx.selfName}/${r()}${r()}`;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sees each operation complete (the node's metrics); null: nothing is timed. */
  observer: RequestObserver | null = null;

  rmw(keys: Uint8Array[], op: RmwOp, options: RmwOptions, done: Callback<RmwResult>): void {
    if (this.observer !== null) done = observed(this.observer, this.ctx.env.clock, 'rmw', options.consistency ?? this.ctx.config.defaultWriteConsistency, done);
    const problem = this.check(keys, options);
    if (problem) return this.fail(done, problem);
    const placement = this.ctx.placement();
    const partition = placement.partitionOfKey(keys[0]!);
    const id = this.nextId++;
    const level: Consistency = options.consistency ?? this.ctx.config.defaultWriteConsistency;
    const message: Extract<KvMessage, { t: 'x' }> = {
      t: 'x',
      id,
      p: partition,
      k: keys.map(keyToStoreKey),
      o: encodeRmwOp(op) as WireRmwOp,
      c: level,
      q: options.requestId ?? `${this.idPrefix}/${this.nextRequest++}`,
    };
    const now = this.ctx.env.clock.monoMs();
    let deadline = now + RMW_DEADLINE_TIMEOUTS * this.ctx.config.requestTimeoutMs;
    if (options.deadlineMs !== undefined) {
      // No attempt after the client gave up; the primary checks the deadline itself too.
      message.dl = options.deadlineMs;
      deadline = Math.min(deadline, now + Math.max(0, options.deadlineMs - this.ctx.env.clock.wallMs()));
    }
    this.stats.ops++;
    const pending: PendingRmw = {
      partition,
      message,
      done,
      deadline,
      attempt: 0,
      timer: null,
      lastError: null,
    };
    this.pending.set(id, pending);
    this.send(id, pending);
  }

  /** The primary's answer; answers to finished operations are ignored. */
  onReply(_from: string, message: KvMessage): boolean {
    if (message.t !== 'xr') return false;
    const pending = this.pending.get(message.id);
    if (!pending) return true;
    if (message.res !== undefined) {
      let result: RmwResult;
      try {
        result = decodeRmwResult(message.res);
      } catch (error) {
        if (!(error instanceof MalformedRmwError)) throw error;
        this.retryOrFail(message.id, pending, { code: 'unavailable', message: `the primary answered a malformed result: ${error.message}` });
        return true;
      }
      this.finish(message.id, pending, null, result);
      return true;
    }
    const error = { code: (message.err ?? 'unavailable') as KvErrorCode, message: message.msg ?? 'the primary failed the operation' };
    if (message.f) this.finish(message.id, pending, error);
    else this.retryOrFail(message.id, pending, error);
    return true;
  }

  /** Fails every pending operation (the node is stopping). */
  stop(): void {
    for (const [id, p] of this.pending) this.finish(id, p, { code: 'unavailable', message: 'the node is stopping' });
  }

  private send(id: number, pending: PendingRmw): void {
    const now = this.ctx.env.clock.monoMs();
    const primary = this.ctx
      .placement()
      .owners(pending.partition)
      .find((o) => this.ctx.isAlive(o));
    if (primary === undefined) {
      return this.retryOrFail(id, pending, { code: 'unavailable', message: `no owner of partition ${pending.partition} is up` });
    }
    this.stats.attempts++;
    pending.attempt++;
    this.ctx.send(primary, pending.message);
    const wait = Math.min(RMW_ATTEMPT_TIMEOUTS * this.ctx.config.requestTimeoutMs, Math.max(0, pending.deadline - now));
    pending.timer = this.ctx.env.timers.setTimer(wait, () => {
      pending.timer = null;
      this.retryOrFail(id, pending, { code: 'timeout', message: `the primary ${primary} of partition ${pending.partition} did not answer in time` });
    });
  }

  private retryOrFail(id: number, pending: PendingRmw, error: KvError): void {
    if (!this.pending.has(id)) return;
    if (pending.timer !== null) {
      this.ctx.env.timers.cancelTimer(pending.timer);
      pending.timer = null;
    }
    pending.lastError = error;
    const delay = backoffDelay(pending.attempt, RMW_RETRY_BACKOFF, () => this.ctx.env.random.next());
    if (!RETRYABLE.has(error.code) || this.ctx.env.clock.monoMs() + delay >= pending.deadline) {
      return this.finish(id, pending, error);
    }
    this.stats.retries++;
    pending.timer = this.ctx.env.timers.setTimer(delay, () => {
      pending.timer = null;
      if (this.pending.has(id)) this.send(id, pending);
    });
  }

  private finish(id: number, pending: PendingRmw, error: KvError | null, result?: RmwResult): void {
    if (!this.pending.delete(id)) return;
    if (pending.timer !== null) this.ctx.env.timers.cancelTimer(pending.timer);
    const done = pending.done!;
    pending.done = null;
    if (error) {
      this.stats.failed++;
      done(error);
    } else {
      done(null, result);
    }
  }

  private check(keys: Uint8Array[], options: RmwOptions): KvError | null {
    if (keys.length === 0) return { code: 'bad-request', message: 'a read-modify-write needs at least one key' };
    for (const key of keys) {
      if (key.length === 0) return { code: 'bad-request', message: 'the key is empty' };
      if (key.length > this.ctx.config.maxKeyBytes) return { code: 'too-large', message: `key of ${key.length} bytes exceeds the ${this.ctx.config.maxKeyBytes}-byte limit` };
    }
    if (options.requestId !== undefined && (options.requestId.length === 0 || options.requestId.length > 256)) {
      return { code: 'bad-request', message: 'requestId must be 1 to 256 characters' };
    }
    if (!this.ctx.ringConfirmed()) {
      return { code: 'not-ready', message: 'this node is still joining its cluster (its view of the ring is not confirmed yet); retry, or use another node' };
    }
    const placement = this.ctx.placement();
    if (placement.members.length === 0) return { code: 'unavailable', message: 'no member of this cluster holds data any more (the last one is leaving)' };
    const partition = placement.partitionOfKey(keys[0]!);
    if (keys.some((k) => placement.partitionOfKey(k) !== partition)) {
      return { code: 'bad-request', message: 'the keys of one read-modify-write must all be in one partition' };
    }
    if (this.pending.size >= this.ctx.config.maxPendingRequests) {
      return { code: 'overloaded', message: `${this.pending.size} read-modify-writes already in flight on this node; retry later` };
    }
    return null;
  }

  private fail<T>(done: Callback<T>, error: KvError): void {
    // Callbacks are always asynchronous, as the key-value service's are.
    this.ctx.env.timers.setTimer(0, () => done(error));
  }
}
