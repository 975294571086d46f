/**
 * The Shoal client: `connect({ seeds })`, then get/set/delete/mget/mset.
 *
 * How a call travels: it becomes a `PendingCall`, is routed to a connection (a replica of its key
 * when the ring is known, else any ready node), leaves in that connection's next batch (calls made
 * in the same tick share WebSocket messages of up to EARLY_FLUSH_REQUESTS calls), and settles on its reply, its timeout, its
 * AbortSignal, or the client closing. When a connection drops, calls that are safe to repeat
 * (reads, and anything not yet sent) are re-sent elsewhere; writes that may have been applied fail
 * with a ConnectionError whose `sent` is true, because repeating them could overwrite a newer
 * write. Reads answered `unavailable`, `overloaded` or `timeout` are re-sent after a backoff
 * (retryRead); writes are not. While no node is reachable, calls wait in a bounded offline queue.
 */
import type { Consistency } from '../replication/api.ts';
import {
  CLIENT_ENDPOINT_PATH,
  DEFAULT_WIRE_LIMITS,
  type MissReason,
  type Push,
  type Reply,
  type ReplyResult,
  type Request,
  type HotKeysRequest,
  type InvalidationsRequest,
  type WireHotKeyAlert,
  type WireLimits,
  type WireRmwOp,
  type WireRmwResult,
  type WireTopology,
} from '../protocol/index.ts';
import { NodeConnection, type Call, type ConnectionHandler, type ConnectionState } from './connection.ts';
import {
  AbortError,
  AuthenticationError,
  ClientClosedError,
  ConnectionError,
  ForbiddenError,
  ListenerError,
  OfflineQueueFullError,
  ShoalError,
  TimeoutError,
  TooLargeError,
  UnsafeIntegerError,
  UnsupportedError,
  ValueDecodeError,
  ValueEncodeError,
  NotIntegerError,
  OverflowError,
  errorFromReply,
} from './errors.ts';
import { INT64_MIN, checkRequestId, int64Argument, newRequestId, parseDecimalInt64, rmwError } from './rmw.ts';
import { TypedEmitter } from './events.ts';
import { backoffDelay } from '../protocol/backoff.ts';
import { parseSeed, READ_RETRY_BACKOFF, resolveOptions, type ClientOptions, type ResolvedOptions } from './options.ts';
import { checkCallOptions, readyTimeoutMs, shown, wellFormed } from './checks.ts';
import { Router } from './router.ts';
import { keySlot } from '../ring/slots.ts';
import { ClientNearCache, storeKey, type NearCacheStats } from './near.ts';
import { HotNearKeys } from '../store/near-hot-keys.ts';
import type { DropReason, FillToken } from '../store/near-cache.ts';
import { defaultWebSocket, type WebSocketConstructor } from './websocket.ts';
import type { TimerId } from '../runtime/env.ts';

/** A key: a string (its UTF-8 bytes) or raw bytes. */
export type Key = string | Uint8Array;

/** The client's connection status, as a typed union. */
export type ClientStatus =
  /** Dialing the seeds; no node has answered yet. */
  | 'connecting'
  /** At least one node connection is ready. */
  | 'ready'
  /** Every connection was lost; reconnecting with backoff. Calls wait in the offline queue. */
  | 'reconnecting'
  /** `close()` was called, or reconnecting is off and every connection is gone. Final. */
  | 'closed';

export interface ClientEvents {
  /** The status changed; `cause` is the last connection error, if any. */
  status: (status: ClientStatus, cause: Error | null) => void;
  /** The client now routes by a ring with this version. */
  'ring-changed': (topologyVersion: string) => void;
  /**
   * A background problem that no call reported (a failed ring refresh, a connection error), or a
   * ListenerError: a listener of another event threw.
   */
  error: (error: ShoalError) => void;
  /**
   * A node raised a hot-key alert (a key's rate there crossed its --hot-key-alert-rate), or
   * cleared one (`cleared: true`). Adding the first listener subscribes every node connection
   * (and each one made later); the user needs +@admin under ACLs, else an `error` event says so.
   */
  hotkey: (alert: HotKeyAlert) => void;
  /** The near cache dropped `key`: a node applied a newer version of it (docs/CLIENT.md, "Near cache"). */
  invalidate: (key: Uint8Array) => void;
  /**
   * The near cache dropped every entry of a partition (`entries` of them): a seq gap (a lost
   * message), an epoch change (the partition's owners changed), a node no longer holding it, or
   * a lost connection.
   */
  'stale-dropped': (partition: number, reason: DropReason, entries: number) => void;
}

/** A hot-key alert as a node pushes it (see ClientEvents.hotkey). */
export type HotKeyAlert = WireHotKeyAlert;

export interface CallOptions {
  /** Overrides `commandTimeoutMs` for this call: 0 to 2^31 - 1 ms (else a TypeError); 0 disables it. */
  timeoutMs?: number;
  /** Cancels the call: it rejects with AbortError (a write already sent may still be applied). */
  signal?: AbortSignal;
  /** Overrides the client's default consistency for this call. */
  consistency?: Consistency;
}

export interface GetOptions extends CallOptions {
  /** Resolve with a GetDetail (the value, or why there is none) instead of the value alone. */
  detail?: boolean;
  /** false: read the cluster even if the near cache holds the key (and do not fill it). Default true. */
  nearCache?: boolean;
}

/** mget's options: a get's but `detail` (mget resolves with the values; a GetOptions object with `detail: true` is refused). */
export interface MgetOptions extends CallOptions {
  /** false: read every key from the cluster even if the near cache holds it (and do not fill it). Default true. */
  nearCache?: boolean;
}

/** What `get(key, { detail: true })` resolves with. */
export interface GetDetail<V> {
  /** The value, or null for a miss. */
  value: V | null;
  /**
   * Why there is no value: `absent` (no replica that answered knows the key), `deleted`,
   * `expired`, or `evicted` (a replica dropped it for lack of memory: written, then lost to
   * memory pressure). Null for a hit, and for a miss answered by a node too old to say why.
   */
  miss: MissReason | null;
  /** Absolute expiry of the value (ms since the epoch), or null when it does not expire or missed. */
  expiresAtMs: number | null;
  /** How many replicas answered. */
  acks: number;
}

export interface SetOptions extends CallOptions {
  /** Time to live in milliseconds; absent or 0 means the value does not expire. */
  ttlMs?: number;
}

/** Options of the read-modify-write calls (incr, decr, append, setNx, getSet, copy, deleteIfExists). */
export interface RmwCallOptions extends CallOptions {
  /**
   * The idempotency key of this logical operation: the key's primary applies the first copy it
   * receives and answers later copies with the first result. Default: a fresh random one per call,
   * which the SDK reuses when it re-sends the call itself. Pass your own (1 to 128 characters) to
   * retry across calls, such as after a `TimeoutError` or a restart of your process.
   */
  requestId?: string;
}

/** Options of setNx and getSet: the value written gets this time to live (absent or 0: none). */
export interface RmwSetOptions extends RmwCallOptions {
  ttlMs?: number;
}

/** Options of copy: with `replace`, a destination that holds a value is overwritten (default false: left as it is). */
export interface RmwCopyOptions extends RmwCallOptions {
  replace?: boolean;
}

class PendingCall implements Call {
  carrier: Call['carrier'] = null;
  /** Times re-sent so far. */
  retries = 0;
  /** A node that said it is shutting down: not chosen again for this call. */
  avoid: string | null = null;
  timer: TimerId | undefined;
  /** Pending re-send of a read after a retryable error (see retryRead). */
  retryTimer: TimerId | undefined;
  /** Hedge sweeps this read has waited through (see armHedge); it is hedged once, at HEDGE_SWEEPS. */
  hedgeSweeps = 0;
  hedged = false;
  detachSignal: (() => void) | null = null;
  lastError: Error | null = null;

  constructor(
    readonly body: Request | HotKeysRequest | InvalidationsRequest,
    /** Reads may be repeated freely; a write may not once it might have been applied. */
    readonly idempotent: boolean,
    readonly background: boolean,
    readonly resolve: (result: ReplyResult) => void,
    readonly reject: (error: Error) => void,
  ) {}
}

const utf8 = new TextEncoder();
/**
 * A read whose node has not answered within this long is also sent to another replica, and the
 * first answer wins (Cassandra's speculative retry, fixed). A frozen node (SIGSTOP, a long GC pause)
 * keeps its connection "ready" until the keepalive cuts it, about 15 s with the defaults, and every
 * read of the keys it is primary of waited for it (probe-sdk F3: 32 workers got 134 calls through
 * in 10 s). Long enough that a healthy cluster, where reads take milliseconds, never doubles its reads.
 */
export const READ_HEDGE_AFTER_MS = 1_000;
/**
 * Routed reads awaiting their hedge are swept every READ_HEDGE_AFTER_MS / HEDGE_SWEEPS_PER_WAIT,
 * one timer for all of them, instead of a timer per read. A read joins between two sweeps, so it
 * is hedged at its (HEDGE_SWEEPS_PER_WAIT + 1)th sweep: after READ_HEDGE_AFTER_MS at least, and at
 * most a sweep period (250 ms) more.
 */
const HEDGE_SWEEPS_PER_WAIT = 4;
const HEDGE_SWEEP_MS = READ_HEDGE_AFTER_MS / HEDGE_SWEEPS_PER_WAIT;
const HEDGE_SWEEPS = HEDGE_SWEEPS_PER_WAIT + 1;

/** A reconnected stream's first heartbeat comes within a second; the near cache's refetch waits for it. */
export const NEAR_REFETCH_DELAY_MS = 1_100;

export class ShoalClient<V = unknown> extends TypedEmitter<ClientEvents> {
  private readonly options: ResolvedOptions<V> & { webSocket: WebSocketConstructor };
  private readonly connections = new Map<string, NodeConnection>();
  /** Connections to nodes that left the ring, still finishing their calls; closed by shutDown if need be. */
  private readonly leaving = new Set<NodeConnection>();
  private readonly seedAddresses: ReadonlySet<string>;
  private router: Router | null = null;
  private readonly active = new Set<PendingCall>();
  private offline: PendingCall[] = [];
  /** Calls redirected by a node while the ring is being re-read: they go out once it arrives. */
  private waitingForRing: PendingCall[] = [];
  private refreshingRing = false;
  private currentStatus: ClientStatus = 'connecting';
  private everReady = false;
  /** The refusal (credentials, TLS) the client closed with, when it closed because every node refused it. */
  private refusedForGood: ShoalError | null = null;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;
  /** Set as shutdown begins (before `closing` is assigned, since shutDown starts synchronously). */
  private stopped = false;
  /** Why the client shut down: ClientClosedError for close()/drain(), else what closed it. */
  private stopReason: ShoalError | null = null;
  private readonly handler: ConnectionHandler;
  /** Whether a 'hotkey' listener was ever added or there is a near cache: every ready connection subscribes to alert pushes. */
  private hotKeysWanted = false;
  /** Whether the application added a 'hotkey' listener (then a refused subscription is an 'error'). */
  private hotKeysListened = false;
  /** The near cache (connect's `nearCache` option), or null. */
  private readonly near: ClientNearCache | null;
  /**
   * Near-cache misses whose read is in flight, by key: a get of such a key, at the same consistency
   * and timeout and without a signal of its own, waits for that read instead of sending another
   * (2,000 concurrent gets of an uncached key made 2,000 cluster reads), while nothing raced the
   * read (ClientNearCache.clean): its answer is then one the near cache would install and serve.
   */
  private readonly nearReads = new Map<string, { token: FillToken; variant: string; reply: Promise<ReplyResult> }[]>();
  /** Gets answered by a near-cache miss's read already in flight (nearCacheStats().sharedMisses). */
  private sharedMisses = 0;
  /** Keys the nodes' hot-key alerts named: near-cached (with a near cache) and read from any replica (pick). */
  private readonly hotKeys = new HotNearKeys();
  /** Turns the replica a hot key's next read goes to. */
  private hotReads = 0;
  /** Pending near-cache refetches (one per connection that became ready with keys to read again); close cancels them. */
  private readonly refetchTimers = new Set<TimerId>();
  /** Routed reads not answered yet and not hedged yet (armHedge), and the one timer that sweeps them while there are any. */
  private readonly awaitingHedge = new Set<PendingCall>();
  /** The calls waiting on each AbortSignal given to them, and the one listener this client added to it (watchSignal). */
  private readonly signalWatches = new WeakMap<AbortSignal, { calls: Set<PendingCall>; onAbort: () => void }>();
  private hedgeSweepTimer: TimerId | undefined;

  constructor(options: ClientOptions<V>) {
    super();
    const resolved = resolveOptions(options);
    this.options = { ...resolved, webSocket: resolved.webSocket ?? defaultWebSocket() };
    this.handler = {
      onReady: (c) => this.onReady(c),
      onReply: (c, call, reply) => this.onReply(c, call as PendingCall, reply),
      onLost: (c, lost, cause) => this.onLost(c, lost as { call: PendingCall; sent: boolean }[], cause),
      onPush: (c, push) => this.onPush(c, push),
      onStateChange: (c) => {
        if (c.state !== 'ready') this.near?.connectionLost(c.address);
        if (c.state === 'closed') this.leaving.delete(c);
        this.updateStatus();
      },
      credentialsAccepted: () => this.everReady,
    };
    this.near =
      this.options.nearCache === null
        ? null
        : new ClientNearCache(this.options.nearCache, this.options.keyPrefix, (event) => {
            if (event.kind === 'invalidate') this.emit('invalidate', Uint8Array.from(event.key, (c) => c.charCodeAt(0)));
            else this.emit('stale-dropped', event.partition, event.reason, event.entries);
          }, this.hotKeys);
    // Hot keys go near: a client with a near cache listens for hot-key alerts.
    this.hotKeysWanted = this.near !== null;
    const seeds = this.options.seeds.map((s) => parseSeed(s, CLIENT_ENDPOINT_PATH, this.options.tls === null ? 'ws' : 'wss'));
    this.seedAddresses = new Set(seeds.map((s) => s.address));
    for (const seed of seeds) this.connectionTo(seed.address, seed.url);
  }

  get status(): ClientStatus {
    return this.currentStatus;
  }

  /** Adds a listener; the first 'hotkey' listener subscribes the node connections to hot-key alerts. */
  override on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    const off = super.on(event, listener);
    if (event === 'hotkey') this.hotKeysListened = true;
    if (event === 'hotkey' && !this.hotKeysWanted) {
      this.hotKeysWanted = true;
      for (const c of this.connections.values()) if (c.state === 'ready') this.subscribeHotKeys(c);
    }
    return off;
  }

  /**
   * A listener threw: the client carries on, and the error goes to the `error` listeners as a
   * ListenerError, in a microtask (outside whatever the client was doing when it emitted). With no
   * `error` listener, or when an `error` listener itself threw, it is logged with console.error,
   * as browsers report an exception thrown by an event listener; it is never thrown into the
   * client, where it would have been an uncaught exception or failed close().
   */
  protected override listenerThrew(event: keyof ClientEvents, error: unknown): void {
    queueMicrotask(() => {
      if (event !== 'error' && this.listens('error')) this.emit('error', new ListenerError(event, { cause: error }));
      else super.listenerThrew(event, error);
    });
  }

  /**
   * Subscribes one connection to hot-key alert pushes (a `hotkeys` request with subscribe set). A
   * node's session forgets it when the connection drops, so onReady subscribes again.
   */
  private subscribeHotKeys(connection: NodeConnection): void {
    // Asked for by the near cache alone, a refusal (no +@admin under an ACL, a server without hot
    // keys) only means hot keys do not go near: not an 'error' the application asked to hear of.
    const quiet = (error: ShoalError) => !this.hotKeysListened && (error.code === 'forbidden' || error.code === 'unknown-op');
    this.subscribe(connection, { op: 'hotkeys', id: 0, count: 0, subscribe: true }, 'hot-key subscription', quiet);
  }

  /** Sends a subscription (hot-key alerts, invalidations) on one connection, as the client's own call. */
  private subscribe(connection: NodeConnection, body: HotKeysRequest | InvalidationsRequest, what: string, quiet: (error: ShoalError) => boolean = () => false): void {
    if (this.stopped) return;
    const call = new PendingCall(
      body,
      true,
      true,
      () => {},
      (error) => {
        if (error instanceof ShoalError && !(error instanceof ClientClosedError || error instanceof ConnectionError) && !quiet(error)) this.emit('error', error);
      },
    );
    this.active.add(call);
    const timeoutMs = this.options.commandTimeoutMs;
    if (timeoutMs > 0) call.timer = this.options.timers.setTimer(timeoutMs, () => this.fail(call, new TimeoutError(`${what} to ${connection.address} did not complete within ${timeoutMs} ms`)));
    connection.send(call);
  }

  /**
   * The near cache's counters (hits, misses, invalidations, gaps, flushes...) and entries held;
   * null without the `nearCache` option or before the client has learnt the ring.
   */
  nearCacheStats(): (NearCacheStats & { entries: number; sharedMisses: number }) | null {
    const stats = this.near?.stats ?? null;
    return stats === null ? null : { ...stats, entries: this.near!.size, sharedMisses: this.sharedMisses };
  }

  /** The ring version the client routes by, or null before it has learned one. */
  get topologyVersion(): string | null {
    return this.router?.version ?? null;
  }

  /** The limits of the nodes, from their welcome (defaults until one answered). */
  get limits(): WireLimits {
    for (const c of this.connections.values()) if (c.welcome !== null) return c.welcome.limits;
    return DEFAULT_WIRE_LIMITS;
  }

  /** Each node connection and its state (for diagnostics). */
  nodes(): { address: string; state: ConnectionState }[] {
    return [...this.connections.values()].map((c) => ({ address: c.address, state: c.state }));
  }

  /**
   * Resolves once a connection is ready; rejects with ConnectionError after `timeoutMs` (0 to
   * 2^31 - 1 ms, else a TypeError) or if the client closes, and with AuthenticationError instead
   * when a node refused the credentials. On a client already closed (or closing), rejects at once
   * with ClientClosedError.
   */
  ready(timeoutMs = this.options.connectTimeoutMs): Promise<void> {
    try {
      readyTimeoutMs(timeoutMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.stopped) {
      const reason = this.stopReason;
      return Promise.reject(reason instanceof ClientClosedError ? new ClientClosedError() : new ClientClosedError(undefined, { cause: reason ?? undefined }));
    }
    if (this.currentStatus === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.options.timers.setTimer(timeoutMs, () => {
        off();
        // A node that refused the credentials says more than the others' silence.
        reject(this.refusal() ?? new ConnectionError(`no node answered within ${timeoutMs} ms (seeds: ${this.options.seeds.join(', ')})${this.connectionErrors()}`, false, { cause: this.lastConnectionError() }));
      });
      const off = this.on('status', (status, cause) => {
        if (status === 'ready') {
          this.options.timers.cancelTimer(timer);
          off();
          resolve();
        } else if (status === 'closed') {
          this.options.timers.cancelTimer(timer);
          off();
          reject(cause instanceof AuthenticationError || (cause !== null && cause === this.refusedForGood) ? cause : new ConnectionError(`the client closed before any node answered`, false, { cause }));
        }
      });
    });
  }

  // ---- the key-value API ----

  /**
   * The value of `key`, or null if there is none (never written, deleted, expired or evicted).
   * With `{ detail: true }`, a GetDetail that also says why a miss missed.
   */
  get(key: Key, options: GetOptions & { detail: true }): Promise<GetDetail<V>>;
  get(key: Key, options?: GetOptions & { detail?: false }): Promise<V | null>;
  /** `detail` not known when compiling (a GetOptions variable): either, as at run time. */
  get(key: Key, options: GetOptions): Promise<V | null | GetDetail<V>>;
  async get(key: Key, options: GetOptions = {}): Promise<V | null | GetDetail<V>> {
    checkCallOptions('get', options);
    const bytes = this.keyBytes('get', key);
    const near = this.near !== null && options.nearCache !== false && this.near.covers(bytes) ? this.near : null;
    const hit = near?.lookup(bytes);
    if (hit !== undefined) {
      const value = this.decodeValue(hit.value, 'get', key);
      return options.detail === true ? { value, miss: null, expiresAtMs: hit.expiresAtMs, acks: 0 } : value;
    }
    let result: ReplyResult;
    try {
      result = near === null ? await this.call({ op: 'get', id: 0, key: bytes, consistency: this.consistency(options) }, true, options) : await this.readThroughNear(near, bytes, options);
    } catch (error) {
      throw namedRefusal(error, 'get', key, 'read');
    }
    if (result.kind !== 'value') throw new ShoalError(`get reply of kind ${result.kind}`, 'internal');
    const value = result.value !== null ? this.decodeValue(result.value, 'get', key) : null;
    if (options.detail !== true) return value;
    return { value, miss: result.value === null ? (result.miss ?? null) : null, expiresAtMs: result.expiresAtMs, acks: result.acks };
  }

  /** A near-cache miss: the cluster's answer, filling the near cache, or the answer of a read of the key already in flight (nearReads). */
  private readThroughNear(near: ClientNearCache, bytes: Uint8Array, options: GetOptions): Promise<ReplyResult> {
    const key = storeKey(bytes);
    const variant = options.signal === undefined ? `${options.consistency ?? ''}|${options.timeoutMs ?? ''}` : null;
    const joined = variant === null ? undefined : this.nearReads.get(key)?.find((r) => r.variant === variant && near.clean(r.token));
    if (joined !== undefined) {
      this.sharedMisses++;
      return joined.reply;
    }
    const token = near.beginFill(bytes);
    const reply = this.call({ op: 'get', id: 0, key: bytes, consistency: this.consistency(options) }, true, options).then(
      (result) => {
        if (token !== null) {
          if (result.kind === 'value') near.completeFill(token, result.value, result.expiresAtMs);
          else near.abandonFill(token);
        }
        return result;
      },
      (error: unknown) => {
        if (token !== null) near.abandonFill(token);
        throw error;
      },
    );
    if (variant !== null && token !== null) {
      const entry = { token, variant, reply };
      const list = this.nearReads.get(key) ?? [];
      list.push(entry);
      this.nearReads.set(key, list);
      const settled = (): void => {
        const left = (this.nearReads.get(key) ?? []).filter((r) => r !== entry);
        if (left.length === 0) this.nearReads.delete(key);
        else this.nearReads.set(key, left);
      };
      reply.then(settled, settled);
    }
    return reply;
  }

  async set(key: Key, value: V, options: SetOptions = {}): Promise<void> {
    checkCallOptions('set', options);
    const ttlMs = ttlOption('set', options.ttlMs);
    const keyBytes = this.keyBytes('set', key);
    const bytes = this.encodeValue('set', key, value);
    this.near?.forget(keyBytes);
    await this.call({ op: 'set', id: 0, key: keyBytes, value: bytes, ttlMs, consistency: this.consistency(options) }, false, options).catch((error: unknown) => {
      throw namedRefusal(error, 'set', key, 'write');
    });
  }

  async delete(key: Key, options: CallOptions = {}): Promise<void> {
    checkCallOptions('delete', options);
    const keyBytes = this.keyBytes('delete', key);
    this.near?.forget(keyBytes);
    await this.call({ op: 'delete', id: 0, key: keyBytes, consistency: this.consistency(options) }, false, options).catch((error: unknown) => {
      throw namedRefusal(error, 'delete', key, 'write');
    });
  }

  /**
   * Deletes `key` if it holds a value and resolves with whether it did: true when a live value was
   * deleted, false when there was none (never written, deleted, expired or evicted), as Redis's
   * DEL counts. A read-modify-write on the key's primary, where delete() is a blind write that
   * never learns what was there: use this one when the answer matters.
   */
  async deleteIfExists(key: Key, options: RmwCallOptions = {}): Promise<boolean> {
    const result = this.integerResult('deleteIfExists', await this.rmw('deleteIfExists', [key], { op: 'del' }, options, 'write'));
    return result === 1n;
  }

  /** Values of several keys, in order (null for each miss). The gets leave in one batch per node. */
  async mget(keys: readonly Key[], options: MgetOptions = {}): Promise<(V | null)[]> {
    checkCallOptions('mget', options);
    if (!Array.isArray(keys)) throw new TypeError(`mget(): \`keys\` must be an array of keys, got ${shown(keys)}`);
    // A GetOptions object type-checks here (it is not a literal): with `detail: true` each get would
    // resolve with a GetDetail where mget's type promises values.
    if ((options as GetOptions).detail === true) {
      throw new TypeError('mget(): `detail` is an option of get() only: mget resolves with the values; read why a key missed with get(key, { detail: true })');
    }
    return Promise.all(keys.map((key) => this.get(key, { ...options, detail: false })));
  }

  /** Sets several keys with the same options. Rejects with the first failure; others may have been applied. */
  async mset(entries: Iterable<readonly [Key, V]> | Readonly<Record<string, V>>, options: SetOptions = {}): Promise<void> {
    checkCallOptions('mset', options);
    const list: (readonly [Key, V])[] = isIterable(entries) ? [...entries] : Object.entries(entries);
    await Promise.all(list.map(([key, value]) => this.set(key, value, options)));
  }

  // ---- read-modify-write: applied once, on the key's primary (docs/CLIENT.md, Counters and RMW) ----

  /** Adds 1 to the counter at `key` (absent: 0) and resolves with the new value. */
  async incr(key: Key, options: RmwCallOptions = {}): Promise<number> {
    return (await this.addToCounter('incr', key, 1n, false, options)) as number;
  }

  /** Subtracts 1 from the counter at `key` (absent: 0) and resolves with the new value. */
  async decr(key: Key, options: RmwCallOptions = {}): Promise<number> {
    return (await this.addToCounter('decr', key, -1n, false, options)) as number;
  }

  /**
   * Adds `by` to the 64-bit signed counter at `key` (absent: 0) and resolves with the new value:
   * a number when `by` is a number (UnsafeIntegerError past 2^53 - 1), a bigint when it is a bigint.
   * The value is stored as decimal text, as Redis's INCRBY does; its expiry is kept.
   */
  incrBy(key: Key, by: number, options?: RmwCallOptions): Promise<number>;
  incrBy(key: Key, by: bigint, options?: RmwCallOptions): Promise<bigint>;
  async incrBy(key: Key, by: number | bigint, options: RmwCallOptions = {}): Promise<number | bigint> {
    return this.addToCounter('incrBy', key, int64Argument('incrBy', by), typeof by === 'bigint', options);
  }

  /** Subtracts `by` from the counter at `key`; as incrBy. */
  decrBy(key: Key, by: number, options?: RmwCallOptions): Promise<number>;
  decrBy(key: Key, by: bigint, options?: RmwCallOptions): Promise<bigint>;
  async decrBy(key: Key, by: number | bigint, options: RmwCallOptions = {}): Promise<number | bigint> {
    const amount = int64Argument('decrBy', by);
    // As Redis's DECRBY: the one amount whose negation is not a 64-bit integer.
    if (amount === INT64_MIN) throw new OverflowError(`decrBy(): decrementing by ${amount} would overflow`);
    return this.addToCounter('decrBy', key, -amount, typeof by === 'bigint', options);
  }

  /**
   * Appends the encoded `value` to the bytes stored at `key` (absent: empty) and resolves with the
   * new length in bytes. Meant for stringCodec and bytesCodec: msgpack values appended one after
   * the other do not decode as one value.
   */
  async append(key: Key, value: V, options: RmwCallOptions = {}): Promise<number> {
    const result = await this.rmw('append', [key], { op: 'append', value: this.encodeValue('append', key, value) }, options);
    return this.safeNumber('append', key, this.integerResult('append', result), 'length');
  }

  /** Sets `key` only if it holds no value; resolves with true when it wrote, false when the key had one. */
  async setNx(key: Key, value: V, options: RmwSetOptions = {}): Promise<boolean> {
    const ttlMs = ttlOption('setNx', options.ttlMs);
    const expiry = ttlMs > 0 ? ({ kind: 'in', ttlMs } as const) : ({ kind: 'none' } as const);
    const op: WireRmwOp = { op: 'set', value: this.encodeValue('setNx', key, value), expiry, condition: 'nx', get: false };
    const result = await this.rmw('setNx', [key], op, options);
    if (result.kind === 'ok') return true;
    if (result.kind === 'bulk' && result.value === null) return false;
    throw this.unexpected('setNx', result);
  }

  /**
   * Sets `key` to `value` and resolves with the value it held before (null if none), in one step.
   * The new value has no expiry unless `ttlMs` is given (as Redis's GETSET, which clears the TTL).
   */
  async getSet(key: Key, value: V, options: RmwSetOptions = {}): Promise<V | null> {
    const ttlMs = ttlOption('getSet', options.ttlMs);
    const expiry = ttlMs > 0 ? ({ kind: 'in', ttlMs } as const) : ({ kind: 'none' } as const);
    const op: WireRmwOp = { op: 'set', value: this.encodeValue('getSet', key, value), expiry, condition: 'always', get: true };
    const result = await this.rmw('getSet', [key], op, options);
    if (result.kind !== 'bulk') throw this.unexpected('getSet', result);
    // A previous value the codec cannot read still leaves the new one written (the error says so).
    return result.value === null ? null : this.decodeValue(result.value, 'getSet', key, ' (the new value was written)');
  }

  /**
   * Copies the value at `source`, and its expiry (none if it has none), to `destination` in one
   * step on their primary, as Redis's COPY: resolves true when it copied, false when `source` has
   * no value or, without `replace`, `destination` has one. `source` is never changed. The two keys
   * must be in one slot, as Redis Cluster requires of COPY: give them the same `{hash tag}`
   * (`'{user:42}:cart'` and `'{user:42}:cart-backup'`).
   */
  async copy(source: Key, destination: Key, options: RmwCopyOptions = {}): Promise<boolean> {
    const replace = options.replace ?? false;
    if (typeof replace !== 'boolean') throw new TypeError(`copy(): replace must be a boolean, got ${shown(replace)}`);
    const keys = [this.keyBytes('copy', source), this.keyBytes('copy', destination)] as const;
    if (keys[0].length === keys[1].length && keys[0].every((byte, i) => byte === keys[1][i])) {
      throw new TypeError(`copy(${describeKey(source)}): the source and the destination are the same key`);
    }
    if (keySlot(keys[0]) !== keySlot(keys[1])) {
      throw new TypeError(
        `copy(${describeKey(source)}, ${describeKey(destination)}): the keys are in different slots (${keySlot(keys[0])} and ${keySlot(keys[1])}); a copy is one step on one primary, so give both keys the same {hash tag}, such as '{user:42}:cart' and '{user:42}:cart-backup'`,
      );
    }
    const result = await this.rmw('copy', [source, destination], { op: 'copy', replace }, options);
    // 0: the destination has a value; a null bulk: the source has none.
    if (result.kind === 'integer') return result.value === 1n;
    if (result.kind === 'bulk' && result.value === null) return false;
    throw this.unexpected('copy', result);
  }

  /**
   * The counter at `key` (what incr wrote: decimal text), whatever the client's codec; null if the
   * key has no value. Rejects with NotIntegerError when the value is not a decimal integer.
   */
  async getInt(key: Key, options: CallOptions = {}): Promise<number | null> {
    checkCallOptions('getInt', options);
    const result = await this.call({ op: 'get', id: 0, key: this.keyBytes('getInt', key), consistency: this.consistency(options) }, true, options);
    if (result.kind !== 'value') throw new ShoalError(`get reply of kind ${result.kind}`, 'internal');
    if (result.value === null) return null;
    const n = parseDecimalInt64(result.value);
    if (n === null) throw new NotIntegerError(`getInt(${describeKey(key)}): the value is not a decimal 64-bit integer`);
    return this.safeNumber('getInt', key, n, 'read');
  }

  private async addToCounter(name: string, key: Key, by: bigint, asBigInt: boolean, options: RmwCallOptions): Promise<number | bigint> {
    const n = this.integerResult(name, await this.rmw(name, [key], { op: 'incrby', by }, options));
    return asBigInt ? n : this.safeNumber(name, key, n, 'counter');
  }

  /**
   * Sends one read-modify-write of `keys` (one, or all of one partition: it is routed by the
   * first), with its idempotency key, and resolves with its result unless it failed. `access`:
   * what a refusal for a key says the user needs (the node checks DEL as Redis does: write alone).
   */
  private async rmw(name: string, keys: readonly Key[], op: WireRmwOp, options: RmwCallOptions, access: 'write' | 'read and write' = 'read and write'): Promise<WireRmwResult> {
    checkCallOptions(name, options);
    const requestId = options.requestId === undefined ? newRequestId(this.options.random) : checkRequestId(name, options.requestId);
    const key = keys[0]!;
    const keyBytes = keys.map((k) => this.keyBytes(name, k));
    for (const k of keyBytes) this.near?.forget(k);
    const body: Request = { op: 'rmw', id: 0, keys: keyBytes, rmw: op, requestId, consistency: this.consistency(options) };
    let reply: ReplyResult;
    try {
      // Safe to re-send (after a lost connection, a timeout, an unavailable replica): every copy
      // carries the same request id, so the primary applies it once.
      reply = await this.call(body, true, options);
    } catch (error) {
      if (error instanceof ShoalError && error.code === 'unknown-op') {
        throw new UnsupportedError(`${name}(): the node does not serve this read-modify-write operation (a node older than it?); nothing was applied`, { cause: error });
      }
      throw namedRefusal(error, name, key, access);
    }
    if (reply.kind !== 'rmw') throw new ShoalError(`${name} reply of kind ${reply.kind}`, 'internal');
    if (reply.result.kind === 'error') throw rmwError(reply.result, `${name}(${describeKey(key)})`);
    return reply.result;
  }

  private integerResult(name: string, result: WireRmwResult): bigint {
    if (result.kind !== 'integer') throw this.unexpected(name, result);
    return result.value;
  }

  /**
   * `n` as a number, or UnsafeIntegerError: what the message says depends on where `n` came from:
   * a counter's new value (applied; a bigint amount gets bigints), append's new length (applied),
   * or a counter read by getInt (nothing was written).
   */
  private safeNumber(name: string, key: Key, n: bigint, from: 'counter' | 'length' | 'read'): number {
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
      const beyond = `beyond a JavaScript number's exact range (2^53 - 1)`;
      const what =
        from === 'read'
          ? `the counter holds ${n}, ${beyond}; the error's \`value\` is it as a bigint (or read it as text with get through stringCodec)`
          : from === 'length'
            ? `the new length ${n} is ${beyond}; it was applied`
            : `${n} is ${beyond} (pass a bigint amount to get bigints); it was applied`;
      throw new UnsafeIntegerError(`${name}(${describeKey(key)}): ${what}`, n);
    }
    return Number(n);
  }

  private unexpected(name: string, result: WireRmwResult): ShoalError {
    return new ShoalError(`${name}: unexpected result of kind ${result.kind}`, 'internal');
  }

  /** Fetches the ring from a node (and routes by it from then on). */
  async topology(options: CallOptions = {}): Promise<WireTopology> {
    checkCallOptions('topology', options);
    const result = await this.call({ op: 'topology', id: 0 }, true, options);
    if (result.kind !== 'topology') throw new ShoalError(`topology reply of kind ${result.kind}`, 'internal');
    this.adoptTopology(result.topology);
    return result.topology;
  }

  /** Stops taking calls, waits for the ones in flight (including queued ones) to settle, then closes. */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.active.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.close();
  }

  /** Closes every connection now; calls still pending reject with ClientClosedError. */
  close(): Promise<void> {
    return (this.closing ??= this.shutDown(new ClientClosedError()));
  }

  // ---- calls ----

  /** `background`: the client's own call (a ring refresh); it never waits in the offline queue. */
  private call(body: Request | HotKeysRequest | InvalidationsRequest, idempotent: boolean, options: CallOptions, background = false): Promise<ReplyResult> {
    if (this.stopped || this.draining) {
      return Promise.reject(new ClientClosedError(this.stopped ? undefined : 'the client is draining; it takes no new calls'));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new AbortError(`${body.op} aborted before it was sent`, { cause: signal.reason }));
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    // The nodes refuse the request, unapplied, once this has passed by their clocks: when the call
    // fails with TimeoutError it is not applied afterwards, retries and a request stuck in a frozen
    // node's socket included (to within the clocks' skew; docs/CLIENT.md). Stamped before the call
    // is tracked, so a clock that throws fails the call (never throws) without leaving it pending.
    if (timeoutMs > 0 && (body.op === 'get' || body.op === 'set' || body.op === 'delete' || body.op === 'rmw')) {
      try {
        // Whole ms, as the wire takes them; rounded down, the safe side.
        body.deadlineMs = Math.floor(this.wallMs() + timeoutMs);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return new Promise<ReplyResult>((resolve, reject) => {
      const call = new PendingCall(body, idempotent, background, resolve, reject);
      this.active.add(call);
      if (timeoutMs > 0) {
        call.timer = this.options.timers.setTimer(timeoutMs, () => this.fail(call, timedOut(body, timeoutMs, call.lastError)));
      }
      if (signal !== undefined) this.watchSignal(signal, call);
      this.dispatch(call);
    });
  }

  /**
   * Fails `call` with AbortError when `signal` fires. One listener per signal, however many calls
   * share it (an mget's gets, a Promise.all of calls under one request's signal): a listener per
   * call made Node warn of an EventTarget leak past 10. The listener goes once no call waits on it.
   */
  private watchSignal(signal: AbortSignal, call: PendingCall): void {
    let watch = this.signalWatches.get(signal);
    if (watch === undefined) {
      const calls = new Set<PendingCall>();
      const onAbort = (): void => {
        this.signalWatches.delete(signal);
        for (const waiting of [...calls]) this.fail(waiting, new AbortError(`${waiting.body.op} aborted`, { cause: signal.reason }));
      };
      watch = { calls, onAbort };
      this.signalWatches.set(signal, watch);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const { calls, onAbort } = watch;
    calls.add(call);
    call.detachSignal = () => {
      calls.delete(call);
      if (calls.size > 0 || this.signalWatches.get(signal)?.calls !== calls) return;
      this.signalWatches.delete(signal);
      signal.removeEventListener('abort', onAbort);
    };
  }

  private dispatch(call: PendingCall): void {
    const connection = this.pick(call);
    if (connection !== null) {
      connection.send(call);
      this.armHedge(call);
      return;
    }
    if (call.background) {
      // The next connection to become ready starts its own ring refresh.
      this.fail(call, new ConnectionError('no node connection is ready', false, { cause: this.lastConnectionError() }));
    } else if (!this.options.offlineQueue && this.everReady) {
      this.fail(call, new ConnectionError('no node connection is ready and the offline queue is off', false, { cause: this.lastConnectionError() }));
    } else if (this.offline.length >= this.options.maxOfflineQueue) {
      this.fail(call, new OfflineQueueFullError(`no node connection is ready and ${this.offline.length} calls are already waiting (maxOfflineQueue)`, { cause: this.lastConnectionError() }));
    } else {
      this.offline.push(call);
    }
  }

  /**
   * A routed get (reads may be repeated) is hedged once: if its node has not answered after
   * READ_HEDGE_AFTER_MS, the read also goes to another ready replica, and whichever answers first
   * settles the call (a late answer from the other is ignored, as after a timeout). The wait is
   * counted in sweeps of one timer shared by every read awaiting its hedge (HEDGE_SWEEP_MS), which
   * runs only while there is one: a busy client arms no timer per read.
   */
  private armHedge(call: PendingCall): void {
    if (call.hedged || this.awaitingHedge.has(call) || !call.idempotent || call.body.op !== 'get' || !this.options.routing || this.router === null) return;
    call.hedgeSweeps = 0;
    this.awaitingHedge.add(call);
    this.hedgeSweepTimer ??= this.options.timers.setTimer(HEDGE_SWEEP_MS, () => this.sweepHedges());
  }

  private sweepHedges(): void {
    this.hedgeSweepTimer = undefined;
    for (const call of this.awaitingHedge) {
      if (++call.hedgeSweeps < HEDGE_SWEEPS) continue;
      this.awaitingHedge.delete(call);
      this.hedge(call);
    }
    if (this.awaitingHedge.size > 0) this.hedgeSweepTimer = this.options.timers.setTimer(HEDGE_SWEEP_MS, () => this.sweepHedges());
  }

  /** Sends a read whose node stayed silent to another ready replica of its key, if there is one. */
  private hedge(call: PendingCall): void {
    call.hedged = true;
    const silent = call.carrier?.connection;
    if (!this.active.has(call) || silent === undefined) return;
    // Only another replica: the read must not come back to the node that is silent.
    const previousAvoid = call.avoid;
    call.avoid = silent.address;
    const other = this.pick(call);
    call.avoid = previousAvoid;
    if (other === null || other === silent) return;
    other.send(call);
  }

  /** A ready connection for the call: a replica of its key if the ring says which, else any ready node. */
  private pick(call: PendingCall): NodeConnection | null {
    if (this.options.routing && this.router !== null && call.body.op !== 'topology' && call.body.op !== 'hotkeys' && call.body.op !== 'invalidations') {
      const key = routingKey(call.body);
      const replicas = this.router.replicasOf(key);
      // A hot key's reads take turns over its replicas instead of all going to its primary.
      const first = call.body.op === 'get' && this.hotKeys.size > 0 && this.hotKeys.has(storeKey(key), performance.now()) ? this.hotReads++ : 0;
      for (let i = 0; i < replicas.length; i++) {
        const address = replicas[(first + i) % replicas.length]!;
        if (address === call.avoid) continue;
        const connection = this.connectionTo(address);
        if (connection.state === 'ready') return connection;
      }
    }
    let best: NodeConnection | null = null;
    for (const c of this.connections.values()) {
      if (c.state === 'ready' && c.address !== call.avoid && (best === null || c.load < best.load)) best = c;
    }
    return best;
  }

  private settle(call: PendingCall): boolean {
    if (!this.active.delete(call)) return false;
    if (call.timer !== undefined) this.options.timers.cancelTimer(call.timer);
    if (call.retryTimer !== undefined) this.options.timers.cancelTimer(call.retryTimer);
    if (this.awaitingHedge.delete(call) && this.awaitingHedge.size === 0 && this.hedgeSweepTimer !== undefined) {
      this.options.timers.cancelTimer(this.hedgeSweepTimer);
      this.hedgeSweepTimer = undefined;
    }
    call.detachSignal?.();
    call.carrier?.connection.forget(call);
    if (this.offline.includes(call)) this.offline = this.offline.filter((c) => c !== call);
    if (this.waitingForRing.includes(call)) this.waitingForRing = this.waitingForRing.filter((c) => c !== call);
    if (this.active.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    return true;
  }

  private fail(call: PendingCall, error: Error): void {
    if (this.settle(call)) call.reject(error);
  }

  /** Re-sends a call that was not applied (or is safe to repeat), up to `maxRetries` times. */
  private retry(call: PendingCall, cause: Error): void {
    call.lastError = cause;
    if (call.retries >= this.options.maxRetries) {
      this.fail(call, cause);
      return;
    }
    call.retries++;
    this.dispatch(call);
  }

  /**
   * A read the cluster could not serve just now (too few replicas answered in time, a node
   * overloaded, a node-side timeout) is sent again after a capped, jittered backoff, within
   * `maxRetries`. Only reads: a write that failed this way may still have been applied by some
   * replicas, and repeating it could overwrite a newer write.
   */
  private retryRead(call: PendingCall, cause: Error): void {
    call.lastError = cause;
    if (call.retries >= this.options.maxRetries) {
      this.fail(call, cause);
      return;
    }
    const delay = backoffDelay(call.retries, READ_RETRY_BACKOFF, this.options.random);
    call.retries++;
    call.retryTimer = this.options.timers.setTimer(delay, () => {
      call.retryTimer = undefined;
      if (this.active.has(call)) this.dispatch(call);
    });
  }

  // ---- connection events ----

  private onReady(connection: NodeConnection): void {
    this.everReady = true;
    // The credentials are good here: a node that refused them is asked again.
    for (const other of this.connections.values()) if (other !== connection) other.retryRefused();
    this.updateStatus();
    if (this.hotKeysWanted) this.subscribeHotKeys(connection);
    if (this.near !== null) {
      this.near.connectionReady(connection.address);
      this.subscribe(connection, this.near.subscription(), 'invalidation subscription');
      // Once the new stream's first heartbeat is in (fills need it), the hottest entries a loss dropped are read again.
      if (this.near.refetchPending) {
        // On the client's timers, as every other delay: virtual time in the simulator, and cancelled by close().
        const id = this.options.timers.setTimer(NEAR_REFETCH_DELAY_MS, () => {
          this.refetchTimers.delete(id);
          this.refetchNear();
        });
        this.refetchTimers.add(id);
      }
    }
    const version = connection.welcome?.topologyVersion;
    if (this.options.routing && version !== this.router?.version) this.refreshRing();
    const queued = this.offline;
    this.offline = [];
    for (const call of queued) this.dispatch(call);
  }

  private onReply(connection: NodeConnection, call: PendingCall, reply: Reply): void {
    if (!this.active.has(call)) return;
    if (reply.ok) {
      this.settle(call);
      call.resolve(reply.result);
      return;
    }
    const error = errorFromReply(reply.error, connection.address);
    switch (reply.error.code) {
      case 'not-owner':
        // Not applied: re-read the ring and resend to the owner.
        call.lastError = error;
        this.waitingForRing.push(call);
        this.refreshRing();
        return;
      case 'shutting-down':
      case 'not-ready':
        // Not applied: another node can take it, a write included.
        call.avoid = connection.address;
        this.retry(call, error);
        return;
      case 'unavailable':
      case 'overloaded':
      case 'timeout':
        if (call.idempotent) this.retryRead(call, error);
        else this.fail(call, error);
        return;
      default:
        this.fail(call, error);
    }
  }

  private onLost(connection: NodeConnection, lost: { call: PendingCall; sent: boolean }[], cause: Error): void {
    for (const { call, sent } of lost) {
      if (!this.active.has(call)) continue;
      if (!sent || call.idempotent) {
        this.retry(call, cause);
      } else {
        this.fail(
          call,
          new ConnectionError(
            `the connection to ${connection.address} was lost after the ${call.body.op} was sent; it may or may not have been applied`,
            true,
            { cause },
          ),
        );
      }
    }
  }

  private onPush(connection: NodeConnection, push: Push): void {
    if (push.kind === 'hotkey') {
      if (!push.alert.cleared) this.noteHotKey(storeKey(utf8.encode(push.alert.key)));
      return this.emit('hotkey', push.alert);
    }
    if (push.kind === 'invalidations') return this.near?.receive(connection.address, push.batch);
    if (push.kind === 'ring-changed' && this.options.routing && push.topologyVersion !== this.router?.version) this.refreshRing();
  }

  /** Reads again, in the background, the entries a lost connection's flush dropped, most read first (near.ts). */
  private refetchNear(): void {
    if (this.near === null || this.stopped) return;
    for (const key of this.near.takeRefetch()) {
      const token = this.near.beginFill(key);
      if (token === null) continue;
      this.call({ op: 'get', id: 0, key, consistency: this.consistency({}) }, true, {}, true).then(
        (result) => (result.kind === 'value' ? this.near!.completeFill(token, result.value, result.expiresAtMs) : this.near!.abandonFill(token)),
        () => this.near!.abandonFill(token),
      );
    }
  }

  /** A node says `key` is hot: keep it near and, if it is outside the near cache's prefixes, subscribe to its invalidations. */
  private noteHotKey(key: string): void {
    if (!this.hotKeys.add(key, performance.now()) || this.near === null || !this.near.widensSubscription(key)) return;
    for (const c of this.connections.values()) if (c.state === 'ready') this.subscribe(c, this.near.subscription(), 'invalidation subscription');
  }

  // ---- the ring ----

  private refreshRing(): void {
    if (this.refreshingRing || this.stopped) return;
    this.refreshingRing = true;
    const release = (): void => {
      this.refreshingRing = false;
      const waiting = this.waitingForRing;
      this.waitingForRing = [];
      for (const call of waiting) this.retry(call, call.lastError ?? new ShoalError('redirected', 'not-owner'));
    };
    this.call({ op: 'topology', id: 0 }, true, {}, true).then(
      (result) => {
        if (result.kind === 'topology') this.adoptTopology(result.topology);
        release();
      },
      (error: ShoalError) => {
        release();
        if (!(error instanceof ClientClosedError || error instanceof ConnectionError)) this.emit('error', error);
      },
    );
  }

  private adoptTopology(topology: WireTopology): void {
    if (topology.version === this.router?.version) return;
    this.router = new Router(topology);
    this.near?.onTopology(topology);
    // Dial every node of the ring now, so the first request for a key finds its replica ready.
    const current = new Set(this.router.addresses());
    for (const address of current) this.connectionTo(address);
    // Nodes that left the ring are forgotten at once (nothing new goes to them) and their
    // connections close once their calls have settled. Seeds stay: they are how the client finds
    // the cluster again, and a seed may be an alias (a DNS name) the ring lists differently.
    for (const [address, connection] of this.connections) {
      if (!current.has(address) && !this.seedAddresses.has(address)) {
        this.connections.delete(address);
        if (connection.state !== 'closed') this.leaving.add(connection);
        connection.retire();
      }
    }
    this.emit('ring-changed', topology.version);
  }

  private connectionTo(address: string, url = `${this.options.tls === null ? 'ws' : 'wss'}://${address}${CLIENT_ENDPOINT_PATH}`): NodeConnection {
    let connection = this.connections.get(address);
    if (connection === undefined) {
      connection = new NodeConnection(address, url, this.options, this.handler);
      this.connections.set(address, connection);
    }
    return connection;
  }

  // ---- status and shutdown ----

  private updateStatus(): void {
    if (this.stopped) return;
    const states = [...this.connections.values()].map((c) => c.state);
    if (states.length > 0 && states.every((s) => s === 'closed')) {
      // Reconnecting is off (or refused for good) and nothing is left to talk to. Refused
      // credentials are the reason to report as such: calls and connect() fail with them.
      const refusal = this.refusal();
      this.refusedForGood = refusal ?? null;
      void (this.closing = this.shutDown(refusal ?? new ConnectionError('every node connection is closed and will not reconnect', false, { cause: this.lastConnectionError() })));
      return;
    }
    const status: ClientStatus = states.includes('ready') ? 'ready' : this.everReady ? 'reconnecting' : 'connecting';
    this.setStatus(status, status === 'ready' ? null : (this.lastConnectionError() ?? null));
  }

  private setStatus(status: ClientStatus, cause: Error | null): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emit('status', status, cause);
  }

  private async shutDown(reason: ShoalError): Promise<void> {
    this.stopped = true;
    this.stopReason = reason;
    for (const id of this.refetchTimers) this.options.timers.cancelTimer(id);
    this.refetchTimers.clear();
    for (const call of [...this.active]) this.fail(call, reason);
    const connections = [...this.connections.values(), ...this.leaving];
    this.connections.clear();
    this.leaving.clear();
    await Promise.all(connections.map((c) => c.close()));
    this.setStatus('closed', reason instanceof ClientClosedError ? null : reason);
  }

  /**
   * Why the nodes refuse this client, if they did on their connections' last attempts: a node
   * that refused the credentials, or every node failing TLS for a reason a retry cannot change
   * (its message names each node's reason).
   */
  private refusal(): ShoalError | undefined {
    for (const c of this.connections.values()) if (c.lastError instanceof AuthenticationError) return c.lastError;
    const connections = [...this.connections.values()];
    if (connections.length === 0 || !connections.every((c) => c.tlsRefused)) return undefined;
    if (connections.length === 1) return connections[0]!.lastError as ConnectionError;
    const reasons = [...new Set(connections.map((c) => c.lastError!.message))];
    return new ConnectionError(`TLS failed with every node: ${reasons.join('; ')}`, false, { cause: connections[0]!.lastError });
  }

  /** The connections' last errors, for a message ("; last errors: ..."), or nothing when there are none. */
  private connectionErrors(): string {
    const messages = new Set<string>();
    for (const c of this.connections.values()) if (c.lastError !== null) messages.add(c.lastError.message);
    return messages.size === 0 ? '' : `: ${[...messages].join('; ')}`;
  }

  private lastConnectionError(): Error | undefined {
    for (const c of this.connections.values()) if (c.lastError !== null) return c.lastError;
    return undefined;
  }

  // ---- keys ----

  /** The key's bytes, `keyPrefix` included; `call` names the call in a TypeError for anything but a string or bytes. */
  private keyBytes(call: string, key: Key): Uint8Array {
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw new TypeError(`${call}(): a key must be a string or a Uint8Array, got ${shown(key)}`);
    }
    // A lone surrogate would be sent as U+FFFD: two distinct strings, one key.
    if (typeof key === 'string') wellFormed(key, `${call}(): a string key`, ' (the bytes of another key); give a binary key as a Uint8Array');
    const raw = typeof key === 'string' ? utf8.encode(key) : key;
    const prefix = this.options.keyPrefix;
    let bytes = raw;
    if (prefix.byteLength > 0) {
      bytes = new Uint8Array(prefix.byteLength + raw.byteLength);
      bytes.set(prefix);
      bytes.set(raw, prefix.byteLength);
    }
    const maxKeyBytes = this.limits.maxKeyBytes;
    if (bytes.byteLength > maxKeyBytes) {
      throw new TooLargeError(`key of ${bytes.byteLength} bytes (prefix included) exceeds the cluster's limit of ${maxKeyBytes} bytes`, 'key-too-large');
    }
    return bytes;
  }

  /** Now by the wall clock deadlines are stamped with (the timers' own, if they have one). */
  private wallMs(): number {
    const timers = this.options.timers;
    return timers.wallMs === undefined ? Date.now() : timers.wallMs();
  }

  private consistency(options: CallOptions): Consistency | null {
    return options.consistency ?? this.options.consistency;
  }

  // ---- values ----

  /**
   * The value's bytes through the client's codec; `call` and `key` name it in errors. `undefined`
   * is never a value: msgpack would store it as nil, which reads back as null, like a miss.
   */
  private encodeValue(call: string, key: Key, value: V): Uint8Array {
    if (value === undefined) {
      throw new TypeError(`${call}(${describeKey(key)}): the value is undefined, which would read back as null, as a missing key does; to remove a key use delete()`);
    }
    let bytes: Uint8Array;
    try {
      bytes = this.options.codec.encode(value);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new ValueEncodeError(`${call}(${describeKey(key)}): the client's codec could not encode the value (${why}); nothing was sent`, { cause });
    }
    const maxValueBytes = this.limits.maxValueBytes;
    if (bytes.byteLength > maxValueBytes) {
      throw new TooLargeError(`value of ${bytes.byteLength} bytes exceeds the cluster's limit of ${maxValueBytes} bytes`, 'value-too-large');
    }
    return bytes;
  }

  /** A codec failure names the likely cause: a counter (decimal text) read through msgpackCodec. */
  private decodeValue(bytes: Uint8Array, call: string, key: Key, note = ''): V {
    try {
      return this.options.codec.decode(bytes);
    } catch (cause) {
      throw new ValueDecodeError(
        `${call}(${describeKey(key)}): the client's codec could not decode the stored value (${bytes.byteLength} bytes)${note}. Text written by other clients (shoal set, redis-cli) needs stringCodec; a counter written by incr is decimal text: read it with getInt`,
        bytes,
        { cause },
      );
    }
  }
}

function ttlOption(call: string, ttlMs: number | undefined): number {
  const ttl = ttlMs ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0) throw new TypeError(`${call}(): ttlMs must be a non-negative integer, got ${ttl}`);
  return ttl;
}

/**
 * A refusal by the user's ACL, named with the call and the key as the application gave them (the
 * node's NOPERM text names neither: an mget or mset would not say which of its keys it was), and,
 * when a key was refused, the access the call needed (a get reads, a set or delete writes, a
 * read-modify-write does both: `%R~` and `%W~` patterns grant one). Other errors pass unchanged.
 */
function namedRefusal(error: unknown, call: string, key: Key, access: 'read' | 'write' | 'read and write'): unknown {
  if (!(error instanceof ForbiddenError)) return error;
  const keyRefused = error.message.includes('no permissions to access one of the keys');
  return new ForbiddenError(`${call}(${describeKey(key)}): ${error.message}${keyRefused ? `; the user needs ${access} access to this key` : ''}`);
}

/**
 * The error of a call whose timeout passed. A call re-sent after retryable errors (a read, a
 * read-modify-write) says what its last attempt met: an rmw at `all` with an owner down is re-sent
 * until its timeout, and "did not complete" alone hid that the node said why.
 */
function timedOut(body: Request | HotKeysRequest | InvalidationsRequest, timeoutMs: number, lastError: Error | null): TimeoutError {
  const what = body.op === 'rmw' ? `rmw ${body.rmw.op}` : body.op;
  const last = lastError === null ? '' : `; the last attempt failed: ${lastError.message}`;
  return new TimeoutError(`${what} did not complete within ${timeoutMs} ms${last}`, { cause: lastError ?? undefined });
}

/** A key for an error message: strings as they are (cut), bytes by their length. */
function describeKey(key: Key): string {
  if (typeof key !== 'string') return key instanceof Uint8Array ? `<${key.byteLength} bytes>` : shown(key);
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}...` : key);
}

/** The key a request is routed by: an rmw's keys are all in one partition, so its first. */
function routingKey(body: Exclude<Request, { op: 'topology' }>): Uint8Array {
  return body.op === 'rmw' ? body.keys[0]! : body.key;
}

function isIterable<T>(value: unknown): value is Iterable<T> {
  return typeof (value as Iterable<T>)[Symbol.iterator] === 'function';
}

/**
 * Connects to a Shoal cluster and resolves once a node is ready (or rejects with ConnectionError
 * after `connectTimeoutMs`, or at once, naming the reason, when every seed fails TLS in a way a
 * retry cannot change, or with AuthenticationError when the nodes refuse the credentials).
 */
export async function connect<V = unknown>(options: ClientOptions<V>): Promise<ShoalClient<V>> {
  const client = new ShoalClient<V>(options);
  try {
    await client.ready();
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}
