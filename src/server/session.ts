/**
 * One client connection on the server: the hello handshake, then batches of requests served by a
 * KvService, with replies batched back. A frame the connection cannot survive (malformed, too
 * large, wrong order) gets an `error` frame and closes this connection only.
 */
import { ADMIN_ACCESS, check, keyFilter, SDK_OPERATIONS, type AclCommand, type AclStore } from '../security/acl.ts';
import { hostOf, type AuthGuard } from '../security/auth-guard.ts';
import { suppressedField, type LogLimiter } from '../runtime/log-limiter.ts';
import type { Consistency, GetResult, KvError, KvService, RmwExpiry, RmwOp, RmwOptions, RmwResult, RmwService, WriteResult } from '../replication/api.ts';
import {
  FrameDecodeError,
  REPLIES_FRAME_OVERHEAD_BYTES,
  decodeClientFrame,
  encodeReplies,
  encodeServerFrame,
  negotiateVersion,
  replyBytesBound,
  type ErrorCode,
  type AdminRequest,
  type DrainStatus,
  type HelloFrame,
  type InvalidationBatch,
  type NodeStatus,
  type RejectedRequest,
  type Reply,
  type ReplyResult,
  type Request,
  type RmwRequest,
  type WireLimits,
  type WireRmwExpiry,
  type WireRmwOp,
  type WireHotKeyAlert,
  type WireHotKeys,
} from '../protocol/index.ts';
import { IDLE_CLOSE_REASON } from '../protocol/frames.ts';
import { partitionOf } from '../ring/partition.ts';
import type { Clock, Logger, TimerId, Timers } from '../runtime/env.ts';
import type { InvalidationSubscription } from '../replication/invalidation.ts';
import type { AdmissionGate } from '../replication/admission-gate.ts';
import { rateLimitMessage, ReplySizeEstimate, type RequestLimiter } from '../security/limits.ts';

/** WebSocket close codes (RFC 6455 section 7.4.1) used for connection-level errors. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

const CLOSE_CODE_FOR: Partial<Record<ErrorCode, number>> = {
  'frame-too-large': CloseCode.messageTooBig,
  'batch-too-large': CloseCode.messageTooBig,
  'hello-timeout': CloseCode.policyViolation,
  unauthenticated: CloseCode.policyViolation,
};

/**
 * Replies a connection may have waiting for its client to read them: those queued in the session
 * and those handed to the socket, counted together (64 MiB). At this mark the session stops serving
 * that connection's requests (and stops reading its socket) until the client reads; replies
 * already being computed still arrive (UNREAD_HARD_LIMIT_FACTOR bounds how far past it they go).
 */
export const DEFAULT_UNREAD_REPLIES_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Replies complete after their requests were served, so a burst of reads can pass the unread limit
 * before the first of them answers. Two guards: a read in flight counts against the limit as
 * large as recent value replies on the connection were (the largest value allowed until one has
 * been seen), and a value reply that would take the unread bytes past this multiple of the limit is
 * answered `overloaded` instead, so a connection never holds much more than that.
 */
export const UNREAD_HARD_LIMIT_FACTOR = 2;

/**
 * A connection at the unread limit whose client reads nothing for this long (no reply frame leaves
 * for the network) is closed as a non-reader, and its queued replies are dropped (10 s). A client
 * that reads slowly is not closed: every frame it reads restarts the wait.
 */
export const DEFAULT_UNREAD_REPLIES_STALL_MS = 10_000;

/** Close reason (and log message) for a connection closed because its client did not read. */
export const UNREAD_CLOSE_REASON = 'replies not read';

/** Counters shared by every session of one server (for metrics, benchmarks and tests). */
export interface ClientServerStats {
  /** WebSocket messages received from clients (hello included). */
  framesReceived: number;
  /** Requests received inside `requests` frames. */
  requestsReceived: number;
  /** `replies` frames sent. */
  replyFramesSent: number;
  /** Connections closed because of a connection-level error. */
  connectionsFailed: number;
  /** Connections closed because their client did not read its replies. */
  connectionsClosedUnread: number;
  /** Value replies answered `overloaded` because the connection had too many unread replies. */
  repliesRefusedUnread: number;
  /** Requests answered `overloaded` by the request rate limit (--max-request-rate). */
  requestsRateLimited?: number;
  /** Requests answered `timeout` unapplied: their client's deadline had passed when this node took them up. */
  requestsExpired?: number;
}

/**
 * The part of a server-side WebSocket a session uses: `ws`'s WebSocket in production, a simulated
 * connection in the simulator (src/sim/client-links.ts).
 */
export interface SessionSocket {
  /** Bytes handed to `send` that have not reached the network yet. */
  readonly bufferedAmount: number;
  readonly isPaused: boolean;
  /** `callback` runs once the frame reached the network (with an error if the socket is closing). */
  send(data: Uint8Array, callback?: (error?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Stops reading the client's frames until `resume` (TCP pushes back). */
  pause(): void;
  resume(): void;
  on(event: 'message', listener: (data: Uint8Array, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface SessionConfig {
  stats: ClientServerStats;
  /** Hello and stall timeouts, and the reply flush after the current turn (`setTimer(0)`). */
  timers: Timers;
  /** Relative expiries of read-modify-writes (wall) and the request rate limit (monotonic). */
  clock: Clock;
  kv: KvService;
  /**
   * The node's admission gate (src/replication/admission-gate.ts), shared with its RESP listener:
   * get, set and delete start through it. Null: they start at once (a MemoryKv in tests).
   */
  admission: AdmissionGate | null;
  /** Serves read-modify-write requests; null: they get `unknown-op`. */
  rmw: RmwService | null;
  nodeName: string;
  limits: WireLimits;
  maxInFlight: number;
  helloTimeoutMs: number;
  /** See DEFAULT_UNREAD_REPLIES_LIMIT_BYTES. */
  unreadLimitBytes: number;
  /** See DEFAULT_UNREAD_REPLIES_STALL_MS. */
  unreadStallMs: number;
  /** Answer `not-owner` for keys this node does not hold (see ClientServerOptions.ownersOnly). */
  ownersOnly: boolean;
  /** Answers `status` requests (see ClientServerOptions.status); null: they get `unknown-op`. */
  status: (() => NodeStatus) | null;
  /** Answers `hotkeys` requests and their subscriptions; null: they get `unknown-op`. */
  hotKeys: HotKeysSource | null;
  /** The node's invalidation streams (near caches); null: `invalidations` requests get `unknown-op`. */
  invalidations: InvalidationSource | null;
  /** Drains and undrains the node (`shoal drain`); null: `drain` requests get `unknown-op`. */
  drain: DrainControl | null;
  log: Logger;
  /** The node's users (hello's credentials, each request's permission); null: no checks. */
  acl: AclStore | null;
  authGuard: AuthGuard | null;
  /**
   * Rate limit of the `closing client connection` line, per remote address and error code: a
   * client reconnecting to send a malformed frame made one line per connection. Absent: every one.
   */
  closeLog?: LogLimiter;
}

/** The node's hot keys as the client port serves them (ShoalNode.hotKeys and onHotKeyAlert). */
export interface HotKeysSource {
  report(count: number): WireHotKeys;
  /** Calls `listener` with every alert and clearing until the returned function is called. */
  subscribe(listener: (alert: WireHotKeyAlert) => void): () => void;
}

/** The node's invalidation streams as the client port serves them (src/replication/invalidation.ts's InvalidationHub). */
export interface InvalidationSource {
  subscribe(deliver: (batch: InvalidationBatch) => void): InvalidationSubscription;
}

/** The node's drain as the client port serves it (ShoalNode.drain, undrain): the progress, or why the node refused. */
export type DrainControl = (action: 'drain' | 'undrain') => DrainStatus | { refused: string };

/** What draining a node needs: it changes where the cluster keeps data, so the admin category (as CLUSTER's commands). */
export const DRAIN_ACCESS: AclCommand = { name: 'shoal.drain', categories: ['admin', 'slow', 'dangerous'] };

/** What reading hot keys needs: key names of every user, so what INFO needs (+@admin), as in RESP. */
export const HOT_KEYS_ACCESS: AclCommand = { name: 'shoal.hotkeys', categories: ['admin', 'slow'] };
/** At most this many keys per answer (the store's tracker holds 64). */
export const MAX_HOT_KEYS = 64;

/**
 * A KvService callback (`Callback<T>` accepts it: its error type is wider), which the server may
 * also call itself with a protocol error such as `internal`.
 */
type Completion<T> = (error: { code: ErrorCode; message: string } | KvError | null, result?: T) => void;

type SessionState = 'awaiting-hello' | 'ready' | 'closed';

type AnyRequest = Request | AdminRequest | RejectedRequest;

export class ClientSession {
  private state: SessionState = 'awaiting-hello';
  /** Ends this connection's hot-key alert subscription (null: none). */
  private stopHotKeys: (() => void) | null = null;
  private invalidations: InvalidationSubscription | null = null;
  private inFlight = 0;
  /** Gets in flight, and what each is expected to add to the unread replies (see UNREAD_HARD_LIMIT_FACTOR). */
  private readsInFlight = 0;
  private readonly readEstimate: ReplySizeEstimate;
  /** Ids of requests received and not yet answered: a client must not reuse one (docs/PROTOCOL.md). */
  private readonly unanswered = new Set<number>();
  /** Requests received while the connection was at its unread limit, served once the client reads. */
  private held: AnyRequest[] = [];
  /** Replies not yet handed to the socket, and a bound on their encoded size. */
  private outbox: Reply[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  private shuttingDown = false;
  private readonly helloTimer: TimerId;
  /** Armed while the connection is at its unread limit; restarted by every frame the client takes. */
  private stallTimer: TimerId | undefined;
  /** Resolved when the last in-flight request has been answered (used by a graceful close). */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: SessionSocket,
    private readonly config: SessionConfig,
    private readonly remote: string,
    /** Requests per second (security/limits.ts; --max-request-rate); null: unlimited. */
    private readonly rateLimiter: RequestLimiter | null = null,
  ) {
    this.readEstimate = new ReplySizeEstimate(config.limits.maxValueBytes);
    this.helloTimer = config.timers.setTimer(config.helloTimeoutMs, () => this.fail('hello-timeout', `no hello within ${config.helloTimeoutMs} ms`));
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.onClosed());
    // A socket error is followed by 'close'; logging it is all there is to do.
    socket.on('error', (error) => config.log.debug({ remote, err: error.message }, 'client socket error'));
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** Sends a frame if the handshake is done (pushes before welcome would confuse the client). */
  push(bytes: Uint8Array): void {
    if (this.state === 'ready') this.socket.send(bytes);
  }

  /** Stops taking new requests: they get `shutting-down`; in-flight ones still complete. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Resolves once nothing is in flight or held and every reply has been handed to the socket. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Closes the connection for being idle (`IDLE_CLOSE_REASON`), unless a request is in flight or
   * held or a reply waits to be sent: then it is not idle, and this returns false. Once closed,
   * nothing more the client sent is read, so what it sent meanwhile was never applied.
   */
  closeIfIdle(): boolean {
    if (this.state === 'closed') return true;
    if (!this.isIdle()) return false;
    this.close(1000, IDLE_CLOSE_REASON);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.release();
    // Reading resumes so the client's answer to the close handshake is heard (what else it sent is
    // ignored); a client that never answers is cut off by ws after its close timeout.
    if (this.socket.isPaused) this.socket.resume();
    this.socket.close(code, reason);
  }

  /** Bytes of replies the client has not read yet, as far as this server can tell. */
  get unreadBytes(): number {
    return this.outboxBytes + this.socket.bufferedAmount;
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.outbox.length === 0 && this.held.length === 0;
  }

  private onMessage(data: Uint8Array, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.config.stats.framesReceived++;
    if (!isBinary) {
      this.fail('malformed-frame', 'frames must be binary WebSocket messages (msgpack)');
      return;
    }
    let frame;
    try {
      // A plain Uint8Array view, so keys and values handed to the service are not Buffers.
      frame = decodeClientFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.config.limits);
    } catch (error) {
      if (!(error instanceof FrameDecodeError)) throw error;
      this.fail(error.code, error.message);
      return;
    }
    if (frame.type === 'hello') {
      this.onHello(frame);
      return;
    }
    if (this.state !== 'ready') {
      this.fail('hello-required', 'the first frame on a connection must be hello');
      return;
    }
    this.config.stats.requestsReceived += frame.requests.length;
    for (const request of frame.requests) {
      // Two unanswered requests with one id would get replies the client cannot tell apart.
      if (this.unanswered.has(request.id)) {
        this.fail('malformed-frame', `request id ${request.id} is already in flight on this connection`);
        return;
      }
      if (request.id !== 0) this.unanswered.add(request.id);
      this.held.push(request);
    }
    this.serveHeld();
  }

  /** Serves held requests in order while the connection is below its unread limit. */
  private serveHeld(): void {
    const held = this.held;
    for (let i = 0; i < held.length && this.state === 'ready'; i++) {
      if (this.unreadBytes + this.readsInFlight * this.readEstimate.bytes >= this.config.unreadLimitBytes) {
        // Wait for the client to read (or the reads in flight to answer); meanwhile stop reading
        // its socket, so TCP pushes back.
        this.held = held.slice(i);
        this.socket.pause();
        if (this.unreadBytes >= this.config.unreadLimitBytes) this.armStallTimer();
        return;
      }
      this.serve(held[i]!);
    }
    this.held = [];
    if (this.state === 'ready' && this.socket.isPaused) this.socket.resume();
  }

  private onHello(hello: HelloFrame): void {
    if (this.state === 'ready' || this.authenticating) {
      this.fail('hello-required', 'hello was sent twice on one connection');
      return;
    }
    const version = negotiateVersion(hello.minVersion, hello.maxVersion);
    if (version === null) {
      this.fail('unsupported-version', `client speaks protocol versions ${hello.minVersion}..${hello.maxVersion}, which this server does not`);
      return;
    }
    const acl = this.config.acl;
    if (acl !== null) {
      const credentials = hello.credentials;
      if (credentials === null || (credentials.username === undefined && credentials.password === undefined && credentials.token === undefined)) {
        if (acl.requiresAuth) {
          this.fail('unauthenticated', 'this node requires credentials: give { username, password } or { token } in the client options');
          return;
        }
        this.user = 'default';
      } else {
        const token = credentials.token;
        const username = credentials.username ?? (token === undefined ? 'default' : '(token)');
        const host = hostOf(this.remote);
        const guard = this.config.authGuard;
        if (guard !== null && !guard.mayTry(host)) {
          const suppressed = guard.refusalToLog(host);
          if (suppressed !== null) this.config.log.warn({ remote: this.remote, user: username, ...suppressedField(suppressed) }, 'authentication refused: too many failures from this address');
          this.fail('unauthenticated', 'too many failed authentication attempts from this address, try again later');
          return;
        }
        this.authenticating = true;
        // A bearer token names its user by its hash (src/security/acl-tokens.ts); with a username too, that user's only.
        const check = token === undefined ? acl.authenticate(username, credentials.password ?? '') : Promise.resolve(acl.authenticateToken(token, credentials.username));
        void check.then((result) => {
          this.authenticating = false;
          if (this.state !== 'awaiting-hello') return;
          if (!result.ok) {
            guard?.failed(host);
            this.config.log.warn({ remote: this.remote, user: username }, 'authentication failed');
            this.fail('unauthenticated', 'invalid username-password pair or user is disabled');
            return;
          }
          this.user = result.user.name;
          this.userSince = result.user.since;
          this.welcome(hello, version);
        });
        return;
      }
    }
    this.welcome(hello, version);
  }

  /** The ACL user of this connection ('default' until hello authenticates another). */
  private user = 'default';
  /** The `since` of the user it authenticated as: a user deleted and created again is another (AclStore.loggedIn). */
  private userSince: string | undefined = undefined;
  /** Hello's password is being checked: frames before the welcome are a protocol error. */
  private authenticating = false;

  /** Null when the connection's user may run `op` on `keys`, else the NOPERM text. */
  private refusal(op: string, keys: readonly Uint8Array[]): string | null {
    const acl = this.config.acl;
    if (acl === null) return null;
    const sdk = SDK_OPERATIONS[op];
    if (sdk === undefined) return null;
    return check(acl.loggedIn(this.user, this.userSince), sdk.command, keys.map((key) => ({ key, access: sdk.access })));
  }

  private welcome(hello: HelloFrame, version: number): void {
    this.config.timers.cancelTimer(this.helloTimer);
    this.state = 'ready';
    this.socket.send(
      encodeServerFrame({
        type: 'welcome',
        version,
        node: this.config.nodeName,
        topologyVersion: this.config.kv.topology().version,
        limits: this.config.limits,
      }),
    );
    this.config.log.debug({ remote: this.remote, client: hello.client, version }, 'client connected');
  }

  private serve(request: AnyRequest): void {
    const { id } = request;
    if (request.op === 'rejected') return this.replyError(id, request.code, request.message);
    // 0 is reserved (the SDK never uses it), so that it can never collide with a real request.
    if (id === 0) return this.replyError(id, 'bad-request', 'request id 0 is reserved; use 1 to 2^32-1');
    // Status is answered even while shutting down: an operator wants to watch a node leave.
    if (request.op === 'status') return this.serveStatus(id);
    if (request.op === 'hotkeys') return this.serveHotKeys(id, request.count, request.subscribe);
    if (request.op === 'invalidations') return this.serveInvalidations(id, request.partitions, request.prefixes);
    if (request.op === 'drain') return this.serveDrain(id, request.action);
    if (request.op !== 'topology' && request.deadlineMs !== undefined && this.expired(id, request.deadlineMs)) return;
    if (this.shuttingDown) return this.replyError(id, 'shutting-down', 'this node is shutting down; use another node');
    if (this.rateLimiter !== null && !this.rateLimiter.allow(this.config.clock.monoMs(), 1, this.user)) {
      this.config.stats.requestsRateLimited = (this.config.stats.requestsRateLimited ?? 0) + 1;
      return this.replyError(id, 'overloaded', rateLimitMessage(this.rateLimiter));
    }
    if (this.inFlight >= this.config.maxInFlight) {
      return this.replyError(id, 'overloaded', `more than ${this.config.maxInFlight} requests in flight on this connection`);
    }
    const kv = this.config.kv;
    if (request.op === 'topology') return this.reply({ id, ok: true, result: { kind: 'topology', topology: kv.topology() } });
    if (request.op === 'rmw' || request.op === 'get' || request.op === 'set' || request.op === 'delete') {
      // A read-modify-write DEL (the SDK's deleteIfExists) is checked as Redis checks DEL, and as
      // the SDK's delete is: the `del` command, write access. The other operations read too.
      const operation = request.op === 'rmw' && request.rmw.op === 'del' ? 'delete' : request.op;
      const refused = this.refusal(operation, request.op === 'rmw' ? request.keys : [request.key]);
      if (refused !== null) return this.replyError(id, 'forbidden', refused);
    }
    if (request.op === 'rmw') return this.serveRmw(request);
    if (this.config.ownersOnly && !this.owns(request.key)) {
      return this.reply({
        id,
        ok: false,
        error: { code: 'not-owner', message: 'this node does not hold that key', topologyVersion: kv.topology().version },
      });
    }
    // Key and value are views into the frame, lent to the service for the call only (KvService
    // copies what it keeps), so nothing is copied here; a request waiting in the admission gate
    // holds its frame until it starts.
    const key = request.key;
    this.inFlight++;
    switch (request.op) {
      case 'get': {
        this.readsInFlight++;
        const done = this.completion(id, toValueResult, true);
        return this.admit(request, done, (answer) => kv.get(key, consistencyOption(request.consistency), answer));
      }
      case 'set': {
        const done = this.completion(id, toWriteResult);
        const options = request.consistency === null ? { ttlMs: request.ttlMs } : { consistency: request.consistency, ttlMs: request.ttlMs };
        return this.admit(request, done, (answer) => kv.set(key, request.value, options, answer));
      }
      case 'delete': {
        const done = this.completion(id, toWriteResult);
        return this.admit(request, done, (answer) => kv.delete(key, consistencyOption(request.consistency), answer));
      }
    }
  }

  /**
   * Starts a get, set or delete through the node's admission gate: at once if it has room, else
   * when the request's turn comes. Its client's deadline is checked again then: a request that
   * waited past it is answered `timeout` and not applied, as one taken up late is (`expired`), and
   * a request whose connection closed meanwhile is dropped (its client has already failed it).
   * Read-modify-writes do not pass here, as RESP's do not: they queue on their keys' primary, and
   * room held for a hot key's INCRs would hold every other client's get behind them.
   */
  private admit<T>(request: Request & { op: 'get' | 'set' | 'delete' }, done: Completion<T>, call: (answer: Completion<T>) => void): void {
    const gate = this.config.admission;
    if (gate === null) return this.invoke(request.op, done, () => call(done));
    if (gate.enter()) {
      const startedMs = gate.nowMs();
      const answer: Completion<T> = (error, result) => {
        gate.release(startedMs, error?.code);
        done(error, result);
      };
      return this.invoke(request.op, answer, () => call(answer));
    }
    gate.admit(
      (release) => {
        const answer: Completion<T> = (error, result) => {
          release(error?.code);
          done(error, result);
        };
        this.invoke(request.op, answer, () => call(answer));
      },
      () => this.abandonedInGate(request.deadlineMs, done),
      this,
    );
  }

  /** A request's turn in the admission gate came: true (and answered) if it must not start now. */
  private abandonedInGate<T>(deadlineMs: number | undefined, done: Completion<T>): boolean {
    if (this.state === 'closed') {
      done({ code: 'shutting-down', message: 'the connection closed while the request waited for room' });
      return true;
    }
    if (deadlineMs === undefined) return false;
    const late = this.pastDeadline(deadlineMs, 'started it (it waited for room in the admission gate)');
    if (late === null) return false;
    done(late);
    return true;
  }

  /**
   * A request taken up at or after its deadline (by this node's wall clock) is answered `timeout`
   * and not applied: its client has given up on it and reported it failed. Without this, a write
   * that waited out a freeze of this node in its socket (SIGSTOP, a long GC pause) would be
   * versioned now, after writes acknowledged meanwhile, and overwrite them (probe-sdk finding 1).
   * Every request passes here when it is taken up, whether it was read just now or held while the
   * client was not reading its replies; a get, set or delete that then waits in the admission gate
   * is checked again when it starts (`admit`). The guarantee holds to within the skew between the
   * client's and this node's clocks; no grace is added, since a grace is the window the bug needs.
   */
  private expired(id: number, deadlineMs: number): boolean {
    const late = this.pastDeadline(deadlineMs, 'took it up');
    if (late === null) return false;
    this.replyError(id, late.code, late.message);
    return true;
  }

  /** Null before `deadlineMs` by this node's wall clock; else the `timeout` to answer, counted in `requestsExpired`. */
  private pastDeadline(deadlineMs: number, what: string): { code: 'timeout'; message: string } | null {
    const lateMs = this.config.clock.wallMs() - deadlineMs;
    if (lateMs < 0) return null;
    this.config.stats.requestsExpired = (this.config.stats.requestsExpired ?? 0) + 1;
    return { code: 'timeout', message: `the request's deadline passed ${Math.floor(lateMs)} ms before ${this.config.nodeName} ${what} (by its clock); not applied` };
  }

  /**
   * A read-modify-write: every key must be in one partition (the primary serialises the operation
   * there), relative expiries become absolute by this node's clock, and the service runs it.
   */
  private serveRmw(request: RmwRequest): void {
    const { id, keys } = request;
    const { kv, rmw } = this.config;
    if (rmw === null) return this.replyError(id, 'unknown-op', 'this server does not serve read-modify-write operations');
    const topology = kv.topology();
    const partition = partitionOf(keys[0]!, topology.partitions);
    if (keys.some((key) => partitionOf(key, topology.partitions) !== partition)) {
      return this.replyError(id, 'bad-request', 'the keys of one read-modify-write must all be in one partition');
    }
    if (this.config.ownersOnly && !this.owns(keys[0]!)) {
      return this.reply({
        id,
        ok: false,
        error: { code: 'not-owner', message: 'this node does not hold that key', topologyVersion: topology.version },
      });
    }
    const options: RmwOptions = {};
    if (request.consistency !== null) options.consistency = request.consistency;
    if (request.requestId !== null) options.requestId = request.requestId;
    // The primary checks it again when the operation leaves its queue (rmw-primary.ts).
    if (request.deadlineMs !== undefined) options.deadlineMs = request.deadlineMs;
    const op = rmwOpAt(request.rmw, this.config.clock.wallMs());
    this.inFlight++;
    const done = this.completion(id, toRmwResult);
    this.invoke('rmw', done, () => rmw.rmw(keys, op, options, done));
  }

  /**
   * The node's view: members and their addresses, counters, the top key prefixes of all traffic.
   * What INFO and the admin port show, so it needs what they need (ADMIN_ACCESS). The SDK never
   * asks for it: it routes by `topology`, which every user may read.
   */
  private serveStatus(id: number): void {
    const status = this.config.status;
    if (status === null) return this.replyError(id, 'unknown-op', 'this server does not report status');
    const acl = this.config.acl;
    const refused = acl === null ? null : check(acl.loggedIn(this.user, this.userSince), ADMIN_ACCESS);
    if (refused !== null) return this.replyError(id, 'forbidden', refused);
    try {
      this.reply({ id, ok: true, result: { kind: 'status', status: status() } });
    } catch (error) {
      this.config.log.error({ err: error }, 'status provider threw');
      this.replyError(id, 'internal', `status failed: ${String(error)}`);
    }
  }

  private serveHotKeys(id: number, count: number, subscribe: boolean): void {
    const source = this.config.hotKeys;
    if (source === null) return this.replyError(id, 'unknown-op', 'this server does not report hot keys');
    const acl = this.config.acl;
    const refused = acl === null ? null : check(acl.loggedIn(this.user, this.userSince), HOT_KEYS_ACCESS);
    if (refused !== null) return this.replyError(id, 'forbidden', refused);
    if (subscribe && this.stopHotKeys === null) {
      this.stopHotKeys = source.subscribe((alert) => this.push(encodeServerFrame({ type: 'push', push: { kind: 'hotkey', alert } })));
    }
    try {
      this.reply({ id, ok: true, result: { kind: 'hotkeys', hotkeys: source.report(Math.min(count, MAX_HOT_KEYS)) } });
    } catch (error) {
      this.config.log.error({ err: error }, 'hot-keys provider threw');
      this.replyError(id, 'internal', `hotkeys failed: ${String(error)}`);
    }
  }

  private serveDrain(id: number, action: 'drain' | 'undrain'): void {
    const control = this.config.drain;
    if (control === null) return this.replyError(id, 'unknown-op', 'this server cannot be drained');
    const acl = this.config.acl;
    const refused = acl === null ? null : check(acl.loggedIn(this.user, this.userSince), DRAIN_ACCESS);
    if (refused !== null) return this.replyError(id, 'forbidden', refused);
    const answer = control(action);
    if ('refused' in answer) return this.replyError(id, 'unavailable', answer.refused);
    this.reply({ id, ok: true, result: { kind: 'drain', drain: answer } });
  }

  /**
   * Subscribes this connection to invalidation streams (or changes or ends its subscription):
   * batches and heartbeats become `invalidations` pushes. Invalidations name keys, so under an ACL
   * each pushed key is one the connection's user may read (visibleKeys), whatever the prefixes: a
   * prefix says where keys start, a pattern such as `~user:*:profile` says what they are, and no
   * check of the prefix alone can tell that `user:1:profile:ssn` under prefix `user:1:profile` is
   * not readable. So a subscription needs only `get`; a restricted user's subscription to every
   * key streams the keys it may read.
   */
  private serveInvalidations(id: number, partitions: Uint8Array, prefixes: string[]): void {
    const source = this.config.invalidations;
    if (source === null) return this.replyError(id, 'unknown-op', 'this server does not stream invalidations');
    const acl = this.config.acl;
    const refused = acl === null ? null : check(acl.loggedIn(this.user, this.userSince), SDK_OPERATIONS['get']!.command);
    if (refused !== null) return this.replyError(id, 'forbidden', refused);
    this.invalidations ??= source.subscribe((batch) => this.push(encodeServerFrame({ type: 'push', push: { kind: 'invalidations', batch: this.visibleKeys(batch) } })));
    this.invalidations.update(partitions, prefixes);
    this.reply({ id, ok: true, result: { kind: 'write', acks: 1 } });
  }

  /**
   * The batch with only the keys the connection's user may read now (the user as it
   * authenticated: a deleted one reads none). Seqs and counts stay, so the client sees no gap:
   * keys were already only those under its prefixes. Untouched, with no glob run, for a user with
   * `~*` or without ACLs.
   */
  private visibleKeys(batch: InvalidationBatch): InvalidationBatch {
    const acl = this.config.acl;
    if (acl === null) return batch;
    const visible = keyFilter(acl.loggedIn(this.user, this.userSince), 'r');
    if (visible === null) return batch;
    const partitions = batch.partitions.map((entry) => (entry.keys.length === 0 ? entry : { ...entry, keys: entry.keys.filter((k) => visible(k.key)) }));
    return { heartbeat: batch.heartbeat, partitions };
  }

  /** Calls the service; a throwing KvService is a bug in the node, answered rather than left hanging. */
  private invoke<T>(op: string, done: Completion<T>, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.config.log.error({ err: error, op }, 'KvService threw');
      done({ code: 'internal', message: `${op} failed: ${String(error)}` });
    }
  }

  private owns(key: Uint8Array): boolean {
    const topology = this.config.kv.topology();
    const owners = topology.owners[partitionOf(key, topology.partitions)] ?? [];
    return owners.includes(this.config.nodeName);
  }

  /** A KvService callback that answers request `id` exactly once. */
  private completion<T>(id: number, toResult: (result: T) => ReplyResult, read = false): Completion<T> {
    let called = false;
    return (error, result) => {
      if (called) {
        this.config.log.warn({ id }, 'KvService called back twice for one request; ignoring the second');
        return;
      }
      called = true;
      if (error !== null || result === undefined) {
        const code: ErrorCode = error?.code ?? 'internal';
        const message = error?.message ?? 'KvService returned neither an error nor a result';
        this.settle({ id, ok: false, error: { code, message, topologyVersion: null } }, read);
      } else {
        this.settle({ id, ok: true, result: toResult(result) }, read);
      }
    };
  }

  /** Answers a request that was counted in flight. */
  private settle(reply: Reply, read: boolean): void {
    this.inFlight--;
    if (read) this.readsInFlight--;
    this.reply(reply);
  }

  private replyError(id: number, code: ErrorCode, message: string): void {
    this.reply({ id, ok: false, error: { code, message, topologyVersion: null } });
  }

  /**
   * Queues a reply. Replies that complete in the same turn of the event loop (all of a batch, when
   * the service answers synchronously) leave together, in as few frames of at most `maxFrameBytes`
   * as they fit in.
   */
  private reply(reply: Reply): void {
    if (this.state === 'closed') return;
    this.unanswered.delete(reply.id);
    let bytes = replyBytesBound(reply);
    const room = this.config.limits.maxFrameBytes - REPLIES_FRAME_OVERHEAD_BYTES;
    if (bytes > room) {
      // A frame over the limit would be refused by the client; the request gets an error instead.
      const what = reply.ok && reply.result.kind === 'value' ? 'the value' : `the ${reply.ok ? reply.result.kind : 'error'} reply`;
      const code: ErrorCode = reply.ok && reply.result.kind === 'value' ? 'value-too-large' : 'internal';
      reply = {
        id: reply.id,
        ok: false,
        error: { code, message: `${what} (up to ${bytes} bytes) does not fit in a frame of ${this.config.limits.maxFrameBytes} bytes`, topologyVersion: null },
      };
      bytes = replyBytesBound(reply);
    }
    if (reply.ok && reply.result.kind === 'value') {
      this.readEstimate.note(bytes);
      const hardLimit = UNREAD_HARD_LIMIT_FACTOR * this.config.unreadLimitBytes;
      if (this.unreadBytes + bytes > hardLimit) {
        this.config.stats.repliesRefusedUnread++;
        reply = {
          id: reply.id,
          ok: false,
          error: { code: 'overloaded', message: `more than ${hardLimit} bytes of replies are waiting for this client to read them; read before asking for more`, topologyVersion: null },
        };
        bytes = replyBytesBound(reply);
      }
    }
    this.outbox.push(reply);
    this.outboxBytes += bytes;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.config.timers.setTimer(0, () => this.flush());
    }
  }

  /**
   * Hands queued replies to the socket, one frame of at most `maxFrameBytes` at a time, while the
   * socket holds less than a frame: the rest waits here as replies (not encoded copies), and the
   * socket's write callback brings the next frame. A client that does not read therefore stops
   * the flow, and what it left unread is counted by `unreadBytes`.
   */
  private flush(): void {
    this.flushScheduled = false;
    const { maxFrameBytes } = this.config.limits;
    while (this.state !== 'closed' && this.outbox.length > 0 && this.socket.bufferedAmount < maxFrameBytes) {
      let frameBytes = REPLIES_FRAME_OVERHEAD_BYTES;
      let count = 0;
      for (const reply of this.outbox) {
        const bytes = replyBytesBound(reply);
        if (count > 0 && frameBytes + bytes > maxFrameBytes) break;
        frameBytes += bytes;
        count++;
      }
      const batch = this.outbox.splice(0, count);
      this.outboxBytes = this.outbox.length === 0 ? 0 : this.outboxBytes - (frameBytes - REPLIES_FRAME_OVERHEAD_BYTES);
      this.socket.send(encodeReplies(batch), (error) => this.onFrameSent(error));
      this.config.stats.replyFramesSent++;
    }
    this.afterProgress();
  }

  /** A frame reached the network: the client is reading. An error means the socket is closing. */
  private onFrameSent(error: Error | null | undefined): void {
    if (this.state === 'closed' || error instanceof Error) return;
    this.cancelStallTimer();
    this.flush();
  }

  private afterProgress(): void {
    if (this.state === 'closed') return;
    if (this.held.length > 0) this.serveHeld();
    if (this.unreadBytes >= this.config.unreadLimitBytes) this.armStallTimer();
    else this.cancelStallTimer();
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private armStallTimer(): void {
    if (this.stallTimer !== undefined) return;
    this.stallTimer = this.config.timers.setTimer(this.config.unreadStallMs, () => this.closeNonReader());
  }

  private cancelStallTimer(): void {
    if (this.stallTimer !== undefined) this.config.timers.cancelTimer(this.stallTimer);
    this.stallTimer = undefined;
  }

  private closeNonReader(): void {
    this.stallTimer = undefined;
    if (this.state === 'closed') return;
    this.config.log.warn(
      {
        remote: this.remote,
        unreadBytes: this.unreadBytes,
        limitBytes: this.config.unreadLimitBytes,
        stalledMs: this.config.unreadStallMs,
        closeCode: CloseCode.policyViolation,
      },
      'closing a client that does not read its replies',
    );
    this.config.stats.connectionsClosedUnread++;
    this.close(CloseCode.policyViolation, UNREAD_CLOSE_REASON);
  }

  /** Sends a connection-level error and closes this connection; nothing else is affected. */
  private fail(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    const suppressed = this.config.closeLog === undefined ? 0 : this.config.closeLog.pass(`${hostOf(this.remote)} ${code}`, this.config.clock.monoMs());
    if (suppressed !== null) this.config.log.info({ remote: this.remote, code, message, ...suppressedField(suppressed) }, 'closing client connection');
    this.config.stats.connectionsFailed++;
    this.socket.send(encodeServerFrame({ type: 'error', code, message }));
    this.close(CLOSE_CODE_FOR[code] ?? CloseCode.protocolError, closeReason(`${code}: ${message}`));
  }

  private onClosed(): void {
    this.release();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Marks the session closed and drops everything it holds for the client. */
  private release(): void {
    this.state = 'closed';
    this.stopHotKeys?.();
    this.stopHotKeys = null;
    this.invalidations?.close();
    this.invalidations = null;
    this.config.timers.cancelTimer(this.helloTimer);
    this.cancelStallTimer();
    this.outbox = [];
    this.outboxBytes = 0;
    this.held = [];
    this.unanswered.clear();
  }
}

/** WebSocket close reasons are limited to 123 bytes of UTF-8: cut longer ones there. */
const MAX_CLOSE_REASON_BYTES = 123;

function closeReason(text: string): string {
  let reason = text.slice(0, MAX_CLOSE_REASON_BYTES);
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}

function toValueResult(r: GetResult): ReplyResult {
  const result: ReplyResult = { kind: 'value', value: r.value, expiresAtMs: r.expiresAtMs, acks: r.acks };
  if (r.miss !== undefined) result.miss = r.miss;
  return result;
}

function toWriteResult(r: WriteResult): ReplyResult {
  return { kind: 'write', acks: r.acks };
}

const NO_OPTIONS: { consistency?: Consistency } = Object.freeze({});

function consistencyOption(consistency: Consistency | null): { consistency?: Consistency } {
  return consistency === null ? NO_OPTIONS : { consistency };
}

function toRmwResult(r: RmwResult): ReplyResult {
  return { kind: 'rmw', result: r };
}

/** The wire's relative expiry (`in`) made absolute by this node's clock; the other kinds as they are. */
function expiryAt(e: WireRmwExpiry, nowMs: number): RmwExpiry {
  return e.kind === 'in' ? { kind: 'at', atMs: nowMs + e.ttlMs } : e;
}

/** The service's operation for a wire operation (they differ only in relative expiries). */
function rmwOpAt(o: WireRmwOp, nowMs: number): RmwOp {
  switch (o.op) {
    case 'set':
      return { ...o, expiry: expiryAt(o.expiry, nowMs) };
    case 'getex':
      return { op: 'getex', expiry: o.expiry === null ? null : expiryAt(o.expiry, nowMs) };
    default:
      return o;
  }
}
