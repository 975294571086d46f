/**
 * One WebSocket connection from the client to one node: dial, hello/welcome, batched sends,
 * reply matching by request id, keepalive pings, and reconnecting with capped exponential backoff
 * and jitter.
 *
 * It knows nothing of keys, codecs or retries: it reports replies and losses to its owner (the
 * client), which decides what to do with each call.
 */
import {
  DEFAULT_WIRE_LIMITS,
  FrameDecodeError,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  decodeServerFrame,
  encodeClientFrame,
  encodeRequests,
  type Credentials,
  type ErrorCode,
  type Push,
  type Reply,
  type Request,
  type HotKeysRequest,
  type InvalidationsRequest,
  type RmwRequest,
  type WelcomeFrame,
  type WireLimits,
  tlsFailure,
  type TlsFailureKind,
  upgradeCertificateRefusal,
} from '../protocol/index.ts';
import { AuthenticationError, ConnectionError, ProtocolError, TimeoutError, TooLargeError } from './errors.ts';
import { backoffDelay } from '../protocol/backoff.ts';
import { DRAINED_CLOSE_REASON, IDLE_CLOSE_REASON } from '../protocol/frames.ts';
import type { ReconnectOptions } from './options.ts';
import type { TimerId } from '../runtime/env.ts';
import type { ClientTimers } from './timers.ts';
import { CLOSED, CONNECTING, messageBytes, OPEN, pingable, terminate, type WebSocketConstructor, type WebSocketLike } from './websocket.ts';

/** A request in flight on some connection; the client owns it, the connection carries it. */
export interface Call {
  /** The request; its `id` is assigned by the connection that sends it (in place, to save a copy per call). */
  readonly body: Request | HotKeysRequest | InvalidationsRequest;
  /** Where it is now: set by the connection while it holds the call, null otherwise. */
  carrier: { connection: NodeConnection; id: number } | null;
}

export type ConnectionState = 'connecting' | 'ready' | 'backoff' | 'closed';

export interface ConnectionHandler {
  onReady(connection: NodeConnection): void;
  onReply(connection: NodeConnection, call: Call, reply: Reply): void;
  /** The connection dropped; `sent` tells whether each call had left the client. */
  onLost(connection: NodeConnection, lost: { call: Call; sent: boolean }[], cause: Error): void;
  onPush(connection: NodeConnection, push: Push): void;
  onStateChange(connection: NodeConnection): void;
  /**
   * Whether some node has accepted this client (its credentials, and its TLS). Then a node refusing
   * them is asked again (it may not have the user yet: users spread between nodes in the
   * background; or its auth guard refuses for a while; or its certificate is being replaced);
   * credentials or TLS no node ever accepted stay refused for good.
   */
  credentialsAccepted(): boolean;
}

export interface ConnectionOptions {
  dialTimeoutMs: number;
  reconnect: Required<ReconnectOptions> | false;
  /** 0: no keepalive. */
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  credentials: Credentials | null;
  clientName: string;
  random: () => number;
  timers: ClientTimers;
  webSocket: WebSocketConstructor;
  /** TLS settings handed to the WebSocket (ws passes them to tls.connect); null: none. */
  tls: object | null;
}

/** What to do about a TLS failure, by kind (see src/protocol/tls-failure.ts). */
const TLS_ADVICE: Record<TlsFailureKind, string> = {
  untrusted: 'give the CA that signed the node\'s certificate as `tls.ca`',
  'wrong-name': 'dial the node by a name its certificate has, or set `tls.servername` to one',
  expired: 'the node\'s certificate must be renewed',
  'not-tls': 'drop `tls` (and wss:// seeds) to talk to it without TLS, or dial a node that uses TLS',
  'certificate-required': 'the node requires a client certificate: give `tls.cert` and `tls.key`',
  'certificate-refused': 'the node refused the client certificate: `tls.cert` must be signed by a CA the node trusts, and not expired',
};

/** What a failed dial says when the platform gives no reason: a browser never tells a page why. */
const NO_DETAIL = 'WebSocket error';

/** How a node refusing a web page's origin (HTTP 403 to the upgrade; src/security/origins.ts) is allowed. */
const ORIGIN_ADVICE = "a node whose default user needs no password takes only local pages unless started with --allowed-origins listing this page's origin (docs/CLIENT.md, Browsers)";

/** Likely causes of a dial that failed for no TLS reason, from what the platform said. */
function failureHint(cause: Error | undefined, why: string, url: string): string {
  // A TLS port cuts a plain WebSocket handshake off before any answer.
  if ((cause as { code?: unknown } | undefined)?.code === 'ECONNRESET' && url.startsWith('ws:')) return '; the node may require TLS: give the `tls` option (`tls: { ca }` with its CA, or `tls: true`) or wss:// seeds';
  // Over ws:// only a page's origin gets a 403 (a certificate needs wss://).
  if (why === 'Unexpected server response: 403') return `; the node refused this page's origin (the Origin header browsers send; its log says why): ${ORIGIN_ADVICE}`;
  if (why === NO_DETAIL) return `; the platform does not say why (a browser hides it from the page): the node may be down or unreachable, or refusing this page's origin (its log says): ${ORIGIN_ADVICE}`;
  return '';
}

/** Connection errors after which reconnecting cannot help (a refused login only while no node accepted it). */
const FATAL_CODES: ReadonlySet<ErrorCode> = new Set(['unsupported-version', 'unauthenticated']);

/** Room for the frame header and per-request framing when splitting a batch by bytes. */
const FRAME_OVERHEAD_BYTES = 64;
/** A set's framing, the longest: array, id, op, key and value headers, ttl, consistency, deadline (9 bytes). */
const REQUEST_OVERHEAD_BYTES = 48;

const UINT32_LIMIT = 0x1_0000_0000;

/**
 * A batch leaves as soon as this many calls are queued, without waiting for the end of the tick.
 * Waiting for the whole tick makes client and node take turns: the node idles while the client
 * builds one big frame, and the client idles while the node serves it. Sending the first calls
 * early lets the node start on them meanwhile. Measured with `npm run bench` (one node, 256
 * calls outstanding, 2 cores): 64 gave about 20-30% more ops/s than one frame per tick, and more
 * than 32 or 128.
 */
export const EARLY_FLUSH_REQUESTS = 64;

/**
 * A connection that holds sent calls and has received nothing for this long is pinged at once,
 * rather than after `keepaliveIntervalMs` (5 s by default) of silence. A frozen node (SIGSTOP, a
 * long GC pause) keeps its connection looking ready, and the writes sent to it waited for the idle
 * keepalive (10 to 15 s with the defaults) or their own timeout. A node that is only slow to
 * answer a call still answers a ping at once: its event loop runs.
 */
export const BUSY_SILENCE_MS = 1_000;
/** The ping a busy, silent connection gets is answered within this (or `keepaliveTimeoutMs` if shorter), or the connection is cut. */
export const BUSY_PING_TIMEOUT_MS = 2_000;

export class NodeConnection {
  state: ConnectionState = 'connecting';
  /** The node's welcome, once the handshake is done (kept across reconnects for its limits). */
  welcome: WelcomeFrame | null = null;
  /** Why the connection last failed or closed. */
  lastError: Error | null = null;
  /**
   * Whether the last attempt failed its TLS handshake for a reason a retry cannot change (the
   * node's certificate, or a port without TLS): `lastError` says which.
   */
  tlsRefused = false;
  private socket: WebSocketLike | null = null;
  private readonly sent = new Map<number, Call>();
  private outgoing: Call[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private failedAttempts = 0;
  private timer: TimerId | undefined;
  private fatal = false;
  /** The node left the ring: close once nothing is in flight, and never redial. */
  private retiring = false;
  private keepaliveTimer: TimerId | undefined;
  /** Whether anything (a frame or a pong) arrived since the keepalive timer was last armed. */
  private heard = false;
  private awaitingPong = false;
  /** The silence watch while calls are outstanding (watchBusy), and whether anything arrived since it was armed. */
  private busyTimer: TimerId | undefined;
  private heardWhileBusy = false;
  private busyPinged = false;
  private closedWaiters: (() => void)[] = [];

  constructor(
    /** `host:port` of the node. */
    readonly address: string,
    readonly url: string,
    private readonly options: ConnectionOptions,
    private readonly handler: ConnectionHandler,
  ) {
    this.dial();
  }

  get limits(): WireLimits {
    return this.welcome?.limits ?? DEFAULT_WIRE_LIMITS;
  }

  /** Requests sent or queued on this connection and not yet answered. */
  get load(): number {
    return this.sent.size + this.outgoing.length;
  }

  /**
   * Queues a call; calls queued in the same tick leave together, in frames of up to
   * EARLY_FLUSH_REQUESTS calls each (see there). Only when ready.
   */
  send(call: Call): void {
    if (this.state !== 'ready') throw new Error(`NodeConnection.send while ${this.state}`);
    call.carrier = { connection: this, id: 0 };
    this.outgoing.push(call);
    if (this.outgoing.length >= EARLY_FLUSH_REQUESTS) {
      this.flush();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Stops tracking a call that settled elsewhere (timeout, abort); a late reply is ignored. */
  forget(call: Call): void {
    const carrier = call.carrier;
    if (carrier === null || carrier.connection !== this) return;
    call.carrier = null;
    if (carrier.id !== 0) this.sent.delete(carrier.id);
    else this.outgoing = this.outgoing.filter((c) => c !== call);
    this.closeIfRetiredAndIdle();
  }

  /**
   * For a node that left the ring: closes once the calls it carries have been answered or have
   * failed (closing now would turn acknowledged-but-unanswered writes into errors), and never
   * redials. The owner sends it nothing new.
   */
  retire(): void {
    this.retiring = true;
    this.closeIfRetiredAndIdle();
  }

  private closeIfRetiredAndIdle(): void {
    if (this.retiring && this.load === 0 && this.state !== 'closed') void this.close();
  }

  /**
   * Dials again, after a backoff, a connection closed because its node refused the credentials
   * (or failed TLS), now that another node accepted them (the owner calls it when one does): the
   * refusing node may not have had the user yet, its auth guard refused for a while, or its
   * certificate was being replaced. Otherwise does nothing.
   */
  retryRefused(): void {
    const reconnect = this.options.reconnect;
    if (this.state !== 'closed' || !this.fatal || !(this.lastError instanceof AuthenticationError || this.tlsRefused) || this.retiring || reconnect === false) return;
    this.fatal = false;
    this.setState('backoff');
    this.timer = this.options.timers.setTimer(backoffDelay(this.failedAttempts++, reconnect, this.options.random), () => this.dial());
  }

  /** Closes for good. Calls still held are dropped: the owner settles them itself. */
  close(): Promise<void> {
    this.cancel(this.timer);
    this.cancel(this.keepaliveTimer);
    this.stopBusyWatch();
    const socket = this.socket;
    this.setState('closed');
    this.sent.clear();
    for (const call of this.outgoing) call.carrier = null;
    this.outgoing = [];
    if (socket === null || socket.readyState === CLOSED) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    if (socket.readyState === CONNECTING) terminate(socket);
    else socket.close(1000, 'client closing');
    return done;
  }

  private dial(): void {
    this.setState('connecting');
    this.tlsRefused = false;
    // The third argument is `ws`'s options; WHATWG implementations take only (url, protocols).
    const socket = new this.options.webSocket(this.url, [], { perMessageDeflate: false, handshakeTimeout: this.options.dialTimeoutMs, ...this.options.tls });
    // Blobs (the WHATWG default) would need an async read; `ws` already delivers Buffers.
    if (socket.binaryType === 'blob') socket.binaryType = 'arraybuffer';
    this.socket = socket;
    // The handshake timeout covers the HTTP upgrade; this one also covers hello -> welcome.
    this.timer = this.options.timers.setTimer(this.options.dialTimeoutMs, () => {
      this.lastError = new TimeoutError(`no welcome from ${this.address} within ${this.options.dialTimeoutMs} ms`);
      terminate(socket);
    });
    socket.addEventListener('open', () => {
      const hello = encodeClientFrame({
        type: 'hello',
        minVersion: MIN_PROTOCOL_VERSION,
        maxVersion: PROTOCOL_VERSION,
        client: this.options.clientName,
        credentials: this.options.credentials,
      });
      socket.send(hello);
    });
    socket.addEventListener('message', (event) => {
      // After close() the socket lingers for the close handshake; a welcome arriving then must not
      // revive the connection (it would redial forever, unowned).
      if (this.socket !== socket || this.state === 'closed') return;
      this.onHeard(socket);
      const bytes = messageBytes(event.data);
      if (bytes === null) {
        this.lastError = new ProtocolError(`text frame from ${this.address}: the protocol is binary`, 'malformed-frame');
        terminate(socket);
        return;
      }
      this.onMessage(bytes);
    });
    if (pingable(socket)) {
      socket.on('pong', () => {
        if (this.socket === socket) this.onHeard(socket);
      });
    }
    socket.addEventListener('error', (event) => {
      // `ws` says why; a WHATWG error event carries no detail (the close event follows).
      const cause = event.error instanceof Error ? event.error : undefined;
      // Over wss://, a 403 to the upgrade is a node refusing the client certificate (or its absence).
      const certificateShown = (this.options.tls as { cert?: unknown } | null)?.cert !== undefined;
      const refused = this.url.startsWith('wss:') ? upgradeCertificateRefusal(cause, certificateShown) : null;
      const tls = this.state === 'connecting' ? (tlsFailure(cause) ?? refused) : null;
      if (tls !== null) {
        // The node's certificate (or a port without TLS) fails the same way on every attempt:
        // until some node has accepted this client, no redial (connect() need not wait out its timeout).
        this.lastError = new ConnectionError(`TLS with node ${this.address} failed: ${tls.reason}; ${TLS_ADVICE[tls.kind]}`, false, { cause });
        this.tlsRefused = true;
        if (!this.handler.credentialsAccepted()) this.fatal = true;
        return;
      }
      const why = cause?.message ?? event.message ?? NO_DETAIL;
      const hint = failureHint(cause, why, this.url);
      this.lastError ??= new ConnectionError(`connection to ${this.address} failed: ${why}${hint}`, false, { cause });
    });
    socket.addEventListener('close', (event) => this.onClose(socket, event.code, event.reason));
  }

  private onMessage(bytes: Uint8Array): void {
    let frame;
    try {
      frame = decodeServerFrame(bytes);
    } catch (error) {
      if (!(error instanceof FrameDecodeError)) throw error;
      this.lastError = new ProtocolError(`bad frame from ${this.address}: ${error.message}`, error.code, { cause: error });
      if (this.socket !== null) terminate(this.socket);
      return;
    }
    switch (frame.type) {
      case 'welcome':
        this.cancel(this.timer);
        this.welcome = frame;
        this.failedAttempts = 0;
        this.lastError = null;
        this.setState('ready');
        if (this.socket !== null) this.armKeepalive(this.socket);
        this.handler.onReady(this);
        return;
      case 'replies':
        for (const reply of frame.replies) {
          const call = this.sent.get(reply.id);
          if (call === undefined) continue; // timed out or aborted meanwhile
          this.sent.delete(reply.id);
          call.carrier = null;
          this.handler.onReply(this, call, reply);
        }
        this.closeIfRetiredAndIdle();
        return;
      case 'push':
        this.handler.onPush(this, frame.push);
        return;
      case 'error': {
        // The server closes the connection after this; the close handler reports it.
        const message = `node ${this.address} closed the connection: ${frame.message} (${frame.code})`;
        if (frame.code === 'unauthenticated') {
          this.lastError = new AuthenticationError(
            `authentication ${describeCredentials(this.options.credentials)} failed: node ${this.address} refused it: ${frame.message}`,
            this.address,
            frame.message,
          );
        } else {
          this.lastError =
            frame.code === 'frame-too-large' || frame.code === 'batch-too-large'
              ? new TooLargeError(message, frame.code)
              : new ProtocolError(message, frame.code);
        }
        if (FATAL_CODES.has(frame.code) && !(frame.code === 'unauthenticated' && this.handler.credentialsAccepted())) this.fatal = true;
        return;
      }
    }
  }

  /**
   * Detects a half-open connection (node frozen, network black-holed), which TCP alone may not
   * notice for many minutes: after an interval with nothing received, ping; if nothing (pong or
   * frame) arrives within the timeout, cut the socket so that the usual loss handling (retry,
   * failover, reconnect) takes over. A flag checked per interval rather than a timer reset per
   * frame keeps the cost off the hot path; the price is that a ping goes out after one to two
   * intervals of silence. Unref'd where timers can be: keepalive alone never keeps the process
   * running.
   *
   * A WHATWG WebSocket (browsers, Deno, Bun) cannot send pings. There the silence itself is the
   * probe, and only while calls are outstanding: every call is answered within the node's own
   * deadlines, so a connection that holds calls and stays silent for the timeout is dead. An idle
   * half-open connection does no harm, and is caught this way by the first call sent on it.
   */
  private armKeepalive(socket: WebSocketLike): void {
    const { keepaliveIntervalMs, keepaliveTimeoutMs } = this.options;
    if (keepaliveIntervalMs === 0) return;
    this.heard = false;
    this.awaitingPong = false;
    this.keepaliveTimer = this.backgroundTimer(keepaliveIntervalMs, () => {
      if (this.heard) return this.armKeepalive(socket);
      if (pingable(socket)) socket.ping();
      else if (this.load === 0) return this.armKeepalive(socket);
      this.awaitingPong = true;
      this.keepaliveTimer = this.backgroundTimer(keepaliveTimeoutMs, () => {
        const what = pingable(socket) ? 'a keepalive ping' : 'its outstanding calls (keepalive)';
        this.lastError = new ConnectionError(`${this.address} did not answer ${what} within ${keepaliveTimeoutMs} ms`, false);
        terminate(socket);
      });
    });
  }

  /**
   * While sent calls wait, checks every BUSY_SILENCE_MS that something arrived; after a silent
   * check, pings, and cuts the socket unless a pong or any frame arrives within
   * BUSY_PING_TIMEOUT_MS (or `keepaliveTimeoutMs` if shorter). The usual loss handling follows: a
   * sent write fails with ConnectionError (`sent: true`), never resent; reads and unsent calls go
   * to another node; new calls skip this node while it redials. Armed by the flush that sends the
   * first outstanding call and ended once none is outstanding, so an idle or busy-and-answering
   * connection costs at most one timer a second. Only where pings exist (`ws`; not the WHATWG
   * API, where silence alone cannot tell a frozen node from a slow call) and keepalive is on.
   */
  private watchBusy(socket: WebSocketLike): void {
    if (this.busyTimer !== undefined || this.options.keepaliveIntervalMs === 0 || !pingable(socket)) return;
    this.heardWhileBusy = false;
    this.busyTimer = this.backgroundTimer(BUSY_SILENCE_MS, () => {
      this.busyTimer = undefined;
      if (this.socket !== socket || this.state !== 'ready' || this.sent.size === 0) return;
      if (this.heardWhileBusy) return this.watchBusy(socket);
      const timeoutMs = Math.min(BUSY_PING_TIMEOUT_MS, this.options.keepaliveTimeoutMs);
      const waiting = this.sent.size;
      socket.ping();
      this.busyPinged = true;
      this.busyTimer = this.backgroundTimer(timeoutMs, () => {
        this.busyTimer = undefined;
        this.lastError = new ConnectionError(
          `${this.address} sent nothing for ${BUSY_SILENCE_MS} ms while ${waiting} call${waiting === 1 ? '' : 's'} waited, and did not answer a ping within ${timeoutMs} ms`,
          false,
        );
        terminate(socket);
      });
    });
  }

  private stopBusyWatch(): void {
    this.cancel(this.busyTimer);
    this.busyTimer = undefined;
    this.busyPinged = false;
  }

  /** A timer that alone never keeps the process running (unref'd where timers can be). */
  private backgroundTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.options.timers.setTimer(delayMs, fn);
    this.options.timers.unref?.(id);
    return id;
  }

  private cancel(timer: TimerId | undefined): void {
    if (timer !== undefined) this.options.timers.cancelTimer(timer);
  }

  private onHeard(socket: WebSocketLike): void {
    this.heard = true;
    this.heardWhileBusy = true;
    if (this.busyPinged) {
      // It answered: watch the calls still outstanding afresh.
      this.stopBusyWatch();
      if (this.sent.size > 0) this.watchBusy(socket);
    }
    if (!this.awaitingPong || this.state !== 'ready') return;
    // The node is alive: count the next idle interval from now rather than from the timeout's end.
    this.cancel(this.keepaliveTimer);
    this.armKeepalive(socket);
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    // onClose reports the queued calls. A socket cut (keepalive) but not closed yet takes nothing:
    // a call written to it never leaves, and must be reported unsent, free to go elsewhere.
    if (this.state !== 'ready' || socket === null || socket.readyState !== OPEN) return;
    const { maxBatchRequests, maxFrameBytes } = this.limits;
    const unsendable: { call: Call; size: number }[] = [];
    while (this.outgoing.length > 0) {
      const batch: (Request | HotKeysRequest | InvalidationsRequest)[] = [];
      let bytes = FRAME_OVERHEAD_BYTES;
      let taken = 0;
      for (const call of this.outgoing) {
        const size = requestBytes(call.body);
        if (batch.length > 0 && (batch.length >= maxBatchRequests || bytes + size > maxFrameBytes)) break;
        if (FRAME_OVERHEAD_BYTES + size > maxFrameBytes) {
          // Alone over the node's frame limit: the node would close the connection for it.
          unsendable.push({ call, size });
          taken++;
          continue;
        }
        const id = this.allocateId();
        call.carrier = { connection: this, id };
        this.sent.set(id, call);
        call.body.id = id;
        batch.push(call.body);
        bytes += size;
        taken++;
      }
      this.outgoing = this.outgoing.slice(taken);
      if (batch.length > 0) socket.send(encodeRequests(batch));
    }
    if (this.sent.size > 0) this.watchBusy(socket);
    for (const { call, size } of unsendable) {
      call.carrier = null;
      const message = `request of about ${size} bytes does not fit in ${this.address}'s frame limit of ${maxFrameBytes} bytes`;
      this.handler.onReply(this, call, { id: 0, ok: false, error: { code: 'frame-too-large', message, topologyVersion: null } });
    }
  }

  private allocateId(): number {
    // Ids wrap at 2^32; skipping ids still in use keeps them unique per connection. 0 means "unsent".
    do {
      this.nextId = (this.nextId + 1) % UINT32_LIMIT;
    } while (this.nextId === 0 || this.sent.has(this.nextId));
    return this.nextId;
  }

  private onClose(socket: WebSocketLike, code: number, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.cancel(this.timer);
    this.cancel(this.keepaliveTimer);
    this.stopBusyWatch();
    const waiters = this.closedWaiters;
    this.closedWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.state === 'closed') return;

    const cause =
      this.lastError ?? new ConnectionError(`connection to ${this.address} closed (code ${code}${reason ? `: ${reason}` : ''})`, true);
    this.lastError = cause;
    // A node that closed drained, or idle, never applied what it did not answer: as good as unsent.
    const unapplied = (code === 1001 && reason === DRAINED_CLOSE_REASON) || (code === 1000 && reason === IDLE_CLOSE_REASON);
    const lost = [
      ...[...this.sent.values()].map((call) => ({ call, sent: !unapplied })),
      ...this.outgoing.map((call) => ({ call, sent: false })),
    ];
    this.sent.clear();
    this.outgoing = [];
    for (const { call } of lost) call.carrier = null;

    const reconnect = this.options.reconnect;
    if (reconnect === false || this.fatal || this.retiring) {
      // The lost calls are reported before the state change: that may be the client's last
      // connection, whose closing shuts the client down and fails what is still active with
      // the shutdown's reason, which cannot tell a call that was sent from one that was not.
      this.state = 'closed';
      if (lost.length > 0) this.handler.onLost(this, lost, cause);
      this.handler.onStateChange(this);
      return;
    }
    this.setState('backoff');
    const delay = backoffDelay(this.failedAttempts++, reconnect, this.options.random);
    this.timer = this.options.timers.setTimer(delay, () => this.dial());
    if (lost.length > 0) this.handler.onLost(this, lost, cause);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.handler.onStateChange(this);
  }
}

/** Who the client tried to log in as, for an AuthenticationError's message (never the secret). */
function describeCredentials(credentials: Credentials | null): string {
  if (credentials === null || (credentials.username === undefined && credentials.password === undefined && credentials.token === undefined)) return 'without credentials';
  if (credentials.token !== undefined) return credentials.username === undefined ? 'with a token' : `with a token of user ${JSON.stringify(credentials.username)}`;
  return `as user ${JSON.stringify(credentials.username ?? 'default')}`;
}

function requestBytes(body: Request | HotKeysRequest | InvalidationsRequest): number {
  switch (body.op) {
    case 'set':
      return REQUEST_OVERHEAD_BYTES + body.key.byteLength + body.value.byteLength;
    case 'get':
    case 'delete':
      return REQUEST_OVERHEAD_BYTES + body.key.byteLength;
    case 'topology':
    case 'hotkeys':
      return REQUEST_OVERHEAD_BYTES;
    case 'rmw':
      return REQUEST_OVERHEAD_BYTES + rmwRequestBytes(body);
    case 'invalidations':
      return REQUEST_OVERHEAD_BYTES + body.partitions.byteLength + body.prefixes.reduce((n, p) => n + p.length + 5, 0);
  }
}

/** Keys, values and the fields around them, each counted generously (a few bytes of framing each). */
function rmwRequestBytes(body: RmwRequest): number {
  const o = body.rmw;
  let bytes = 64 + (body.requestId?.length ?? 0) * 3;
  for (const key of body.keys) bytes += key.byteLength + 5;
  if (o.op === 'append' || o.op === 'setrange' || o.op === 'set') bytes += o.value.byteLength;
  else if (o.op === 'incrbyfloat') bytes += o.by.length * 3;
  else if (o.op === 'msetnx') for (const value of o.values) bytes += value.byteLength + 5;
  return bytes;
}
