/**
 * The real node-to-node `Transport`: datagrams over WebSocket, on the node endpoint (its own port
 * and path, apart from the client endpoint).
 *
 * - One outbound connection per peer and lane, dialed on the first send. Traffic is one-way per
 *   connection (the peer dials back for its replies), so `from` is always the dialer's listening
 *   address, announced in the handshake (src/protocol/node-frames.ts).
 * - Lanes: 'control' (gossip probes) and 'bulk' (handoff streams) use separate connections, so a
 *   probe never waits behind megabytes of handoff in one TCP stream.
 * - Unreliable by contract, so nothing queues without bound: while a connection is being dialed a
 *   few messages wait (then are dropped); after a failed dial the peer is in backoff and sends are
 *   dropped until it ends; bulk sends are dropped while too many bytes are buffered for the socket.
 * - A failed dial calls the `onUnreachable` hooks (with why, in a few words), which gossip may
 *   count as a failed probe and report as the reason it cannot join.
 * - TLS failures are told by the node that sees them, with the other node's address, in words
 *   (src/protocol/tls-failure.ts) and what to give, at warn, at most once a minute per peer and
 *   reason: a peer whose certificate this node refuses when it dials (another CA, a certificate
 *   that does not name the address the peer advertises), which `tlsRefusals` also lists for
 *   status; and, on the listener, a connection without TLS, a certificate refused, or a
 *   handshake the dialing node cut (it did not accept ours).
 * - Per-peer state is pruned, so a long-running node whose peers churn through addresses does not
 *   grow: a link nobody has sent on for an idle period is closed (or, waiting out a redial backoff,
 *   simply dropped) and forgotten. The next send to that address starts a fresh link. A dead
 *   address that is still sent to keeps its link, redialled at most once per capped backoff.
 * - Order: datagrams to one peer on one lane arrive in the order they were sent while they share a
 *   connection. An idle link is only closed once nothing is waiting to be written to it, so its
 *   successor cannot overtake it.
 * - Batching: the datagrams of one event-loop turn for a peer and lane leave in one WebSocket
 *   message (flushed from `setImmediate`), so a node coordinating thousands of replica writes a
 *   second pays one frame and one socket write per peer and turn, not one per write or ack.
 *   Sends take gather lists (src/protocol/datagram.ts); a datagram's parts are copied once, into
 *   the batch, and a large one (SEND_ALONE_BYTES) not at all.
 */
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { ConnectionOptions, TLSSocket, TlsOptions } from 'node:tls';
import {
  DATAGRAM_LENGTH_BYTES,
  DatagramBatchError,
  DatagramBatchWriter,
  NODE_ENDPOINT_PATH,
  NODE_PROTOCOL_VERSION,
  NodeHandshakeError,
  decodeNodeHandshake,
  encodeNodeHandshake,
  datagramByteLength,
  datagramLengthPrefix,
  forEachDatagram,
  joinDatagram,
  openSslReason,
  tlsFailure,
  type Credentials,
  type TlsFailure,
} from '../protocol/index.ts';
import { backoffDelay, type BackoffPolicy } from '../protocol/backoff.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';
import type { Datagram, Lane, Logger, NodeAddress, ReceiveHandler, Transport } from '../runtime/env.ts';

/** Messages held per peer and lane while its connection is being dialed. */
export const DEFAULT_MAX_PENDING_WHILE_DIALING = { control: 64, bulk: 256 } as const;
/** Bulk sends are dropped while more than this is buffered for the socket (8 MiB). */
export const DEFAULT_MAX_BULK_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Control sends are dropped beyond this (1 MiB): a peer that cannot take probes is as good as down. */
export const DEFAULT_MAX_CONTROL_BUFFERED_BYTES = 1024 * 1024;
/** Largest datagram accepted (16 MiB): handoff chunks must stay below it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * A turn's batch for one link is sent early once it would pass this (256 KiB), so batching never
 * builds a message near the receiver's limit; a larger datagram travels alone.
 */
export const MAX_BATCH_BYTES = 256 * 1024;
/**
 * A datagram this large (64 KiB) is not copied into a batch: it leaves at once, after the batch
 * so far (order is kept), as one WebSocket message sent in fragments, its length and then each of
 * its parts as they are. At this size a copy costs more than the frames and writes it saves.
 */
export const SEND_ALONE_BYTES = 64 * 1024;
/** A dial that has not opened by then counts as failed (2 s). */
export const DEFAULT_DIAL_TIMEOUT_MS = 2000;
/** An inbound connection must send its handshake within this (2 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
/** Backoff after failed dials: 100 ms doubling to 5 s, minus up to 50% jitter. */
export const DEFAULT_REDIAL_BACKOFF = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 } as const;
/**
 * An outbound link with no sends for this long is closed and forgotten (60 s). Links are checked
 * once per period, so one closes after 1 to 2 periods of quiet. Live peers hear from us far more
 * often (gossip), so this mostly reaps peers that restarted elsewhere or left.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Largest delay Node timers accept; beyond it they fire after 1 ms. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface WsTransportOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Host peers should dial (needed when `host` is 0.0.0.0). Default `host`. */
  advertiseHost?: string;
  /** Sent in every handshake; reserved for the cluster secret. Default none. */
  credentials?: Credentials | null;
  maxPendingWhileDialing?: { control: number; bulk: number };
  maxBulkBufferedBytes?: number;
  maxControlBufferedBytes?: number;
  maxMessageBytes?: number;
  dialTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  redialBackoff?: BackoffPolicy;
  /** Close an outbound link after this long without sends; positive, at most 2^31-1. Default 60 s. */
  idleTimeoutMs?: number;
  /** Random source for jitter. Default Math.random. */
  random?: () => number;
  log?: Logger;
  /**
   * TLS for the node endpoint (wss): `server` for the listener (certificate, CA, whether peers must
   * show certificates), `client` read at every dial (the node's own certificate as its client
   * certificate, the cluster CA to check the peer against), so a reload reaches new dials.
   * Default none: plain ws, exactly as before.
   */
  tls?: { server: TlsOptions; client: () => ConnectionOptions } | null;
}

export interface WsTransportStats {
  sent: number;
  received: number;
  /** Sends dropped: peer in backoff, dial queue full, socket buffer full, or connection lost. */
  dropped: number;
  failedDials: number;
}

type LinkState = 'idle' | 'dialing' | 'open' | 'backoff';

/** The outbound connection to one peer on one lane. */
interface Link {
  /** Its key in `links`, and the lane and address it is made of. */
  readonly id: string;
  readonly lane: Lane;
  readonly to: NodeAddress;
  state: LinkState;
  socket: WebSocket | null;
  /** Datagrams waiting for the connection to open. */
  pending: Uint8Array[];
  /** Datagrams of this turn, sent as one message by the next flush. */
  batch: DatagramBatchWriter;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  /** Sent on (or tried to) since the last idle sweep. */
  used: boolean;
  /** Why the last dial's TLS handshake refused the peer's certificate (or found no TLS); null once a dial opens. */
  tlsRefusal: string | null;
}

/**
 * Outbound node connections send with an all-zero WebSocket mask, which `ws` recognises and skips
 * (no XOR pass, no copy of the payload). Masking (RFC 6455 section 10.3) protects proxies from
 * script-generated traffic in browsers; between two nodes of one cluster it buys nothing.
 */
const zeroMask = (mask: Uint8Array): void => void mask.fill(0);

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** How long close() lets an open link write out what was sent before it and close cleanly (1 s). */
export const CLOSE_GRACE_MS = 1000;

/** A clean close (buffered messages first, then the close handshake), cut short after `graceMs`. */
function closeWithin(socket: WebSocket, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    const cut = setTimeout(() => socket.terminate(), graceMs);
    socket.once('close', () => {
      clearTimeout(cut);
      resolve();
    });
    socket.close(1000, 'node stopping');
  });
}

export class WsTransport implements Transport {
  readonly stats: WsTransportStats = { sent: 0, received: 0, dropped: 0, failedDials: 0 };
  private handler: ReceiveHandler = () => {};
  private readonly unreachableHooks = new Set<(address: NodeAddress, reason: string) => void>();
  private readonly links = new Map<string, Link>();
  /** The same links by lane and address: a send finds its link without building the `lane address` key. */
  private readonly linksByLane = { control: new Map<NodeAddress, Link>(), bulk: new Map<NodeAddress, Link>() };
  private readonly inbound = new Set<WebSocket>();
  /** Idle links closed gracefully and not yet gone; terminated if we close first. */
  private readonly retiring = new Set<WebSocket>();
  private readonly idleSweep: NodeJS.Timeout;
  /** Open links with datagrams waiting for this turn's flush. */
  private readonly toFlush = new Set<Link>();
  private flushScheduled = false;
  private closed = false;
  /** A TLS failure, once a minute per peer and reason: redials come every few seconds. */
  private readonly tlsLogLimiter = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  /** The listener's refusals (bad handshake, corrupt batch, a browser): anyone may send them. */
  private readonly refusalLogLimiter = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);

  private constructor(
    private readonly wss: WebSocketServer,
    /** This node's address on the node network (`host:port`). */
    readonly address: NodeAddress,
    private readonly options: Required<Omit<WsTransportOptions, 'host' | 'port' | 'advertiseHost'>>,
    /** The HTTPS server under `wss` when TLS is on (its context is what a reload swaps). */
    readonly secureServer: HttpsServer | null = null,
  ) {
    // With TLS, a peer without a certificate of the cluster CA never gets here: the handshake refuses it.
    wss.on('connection', (socket, request) => this.accept(socket, request));
    wss.on('error', (error) => options.log.error({ err: error.message }, 'node endpoint error'));
    // One sweep for all links rather than a timer per link, so a send only sets a flag.
    this.idleSweep = setInterval(() => this.closeIdleLinks(), options.idleTimeoutMs).unref();
  }

  /** Starts listening; resolves once the port is bound (rejects if it is in use). */
  static async listen(options: WsTransportOptions = {}): Promise<WsTransport> {
    const host = options.host ?? '127.0.0.1';
    const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    // Checked before binding, so a bad value leaves no server behind.
    if (!(Number.isFinite(idleTimeoutMs) && idleTimeoutMs > 0 && idleTimeoutMs <= MAX_TIMER_DELAY_MS)) {
      throw new RangeError(`idleTimeoutMs must be a positive number of milliseconds up to ${MAX_TIMER_DELAY_MS}, got ${idleTimeoutMs}`);
    }
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // A datagram of maxMessageBytes travels alone in a batch, behind its length.
    const maxPayload = maxMessageBytes + DATAGRAM_LENGTH_BYTES;
    const tls = options.tls ?? null;
    let secureServer: HttpsServer | null = null;
    let wss: WebSocketServer;
    if (tls === null) {
      wss = new WebSocketServer({ host, port: options.port ?? 0, path: NODE_ENDPOINT_PATH, maxPayload, perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        wss.once('listening', resolve);
        wss.once('error', reject);
      });
    } else {
      const server = createHttpsServer(tls.server, (_request, response) => response.writeHead(426).end());
      secureServer = server;
      // A peer whose certificate does not chain to the cluster CA is refused in the handshake; say so.
      const limiter = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
      // A socket the other side closed mid-handshake has lost its address by the time the error
      // is reported: noted per TCP socket as it connects.
      const remotes = new WeakMap<object, string>();
      server.on('connection', (raw: Socket) => {
        if (raw.remoteAddress !== undefined) remotes.set(raw, raw.remoteAddress);
      });
      server.on('tlsClientError', (error, socket: FailedTlsSocket) => {
        const remote = socket.remoteAddress ?? (socket._parent === undefined ? undefined : remotes.get(socket._parent)) ?? 'an unknown address';
        logInboundTlsFailure(options.log ?? silent, limiter, error, socket, remote);
      });
      wss = new WebSocketServer({ server, path: NODE_ENDPOINT_PATH, maxPayload, perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: options.port ?? 0 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    const port = (wss.address() as AddressInfo).port;
    return new WsTransport(wss, `${options.advertiseHost ?? host}:${port}`, {
      credentials: options.credentials ?? null,
      maxPendingWhileDialing: options.maxPendingWhileDialing ?? DEFAULT_MAX_PENDING_WHILE_DIALING,
      maxBulkBufferedBytes: options.maxBulkBufferedBytes ?? DEFAULT_MAX_BULK_BUFFERED_BYTES,
      maxControlBufferedBytes: options.maxControlBufferedBytes ?? DEFAULT_MAX_CONTROL_BUFFERED_BYTES,
      maxMessageBytes,
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      redialBackoff: options.redialBackoff ?? DEFAULT_REDIAL_BACKOFF,
      idleTimeoutMs,
      random: options.random ?? Math.random,
      log: options.log ?? silent,
      tls,
    }, secureServer);
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /**
   * Called with a peer's address and the reason (`connection refused`, `timed out`...) each time a
   * dial to it fails; returns an unsubscribe function.
   */
  onUnreachable(hook: (address: NodeAddress, reason: string) => void): () => void {
    this.unreachableHooks.add(hook);
    return () => this.unreachableHooks.delete(hook);
  }

  /** Outbound links held (one per peer and lane), whatever their state. */
  linkCount(): number {
    return this.links.size;
  }

  /** Inbound connections open (handshaken or not). */
  inboundCount(): number {
    return this.inbound.size;
  }

  send(to: NodeAddress, datagram: Datagram, lane: Lane = 'control'): void {
    if (this.closed) return;
    const link = this.linkTo(to, lane);
    link.used = true;
    switch (link.state) {
      case 'open': {
        const limit = lane === 'bulk' ? this.options.maxBulkBufferedBytes : this.options.maxControlBufferedBytes;
        if (link.socket!.bufferedAmount + link.batch.byteLength > limit) {
          this.stats.dropped++;
          return;
        }
        this.addToBatch(link, datagram);
        this.stats.sent++;
        return;
      }
      case 'backoff':
        this.stats.dropped++;
        return;
      case 'idle':
        // A dial can fail at once (an address no URL can hold): then it is dropped as in backoff.
        if (this.dial(to, lane, link)) this.queue(link, lane, datagram);
        else this.stats.dropped++;
        return;
      case 'dialing':
        this.queue(link, lane, datagram);
        return;
    }
  }

  /**
   * Stops listening and closes every connection. What this turn already sent still leaves: a
   * stopping node's last datagrams (gossip's `left` announcement among them, sent in the very
   * turn the node stops) are flushed, and each open link gets up to CLOSE_GRACE_MS to write them
   * out and close cleanly before it is cut. Without this a graceful leave was never announced,
   * and a peer leaving at the same time waited for the departed node as if it had crashed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.idleSweep);
    for (const socket of this.retiring) socket.terminate();
    this.retiring.clear();
    const closing: Promise<void>[] = [];
    for (const link of this.links.values()) {
      clearTimeout(link.timer);
      const socket = link.socket;
      if (socket !== null && link.state === 'open') closing.push(closeWithin(socket, CLOSE_GRACE_MS));
      else socket?.terminate();
    }
    this.links.clear();
    this.linksByLane.control.clear();
    this.linksByLane.bulk.clear();
    // Their 'close' events (which clear the handshake timers) come later; the set is done now.
    for (const socket of this.inbound) socket.terminate();
    this.inbound.clear();
    const server = this.secureServer;
    const serverClosed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    server?.closeAllConnections();
    await Promise.all([...closing, new Promise<void>((resolve) => this.wss.close(() => resolve())), serverClosed]);
  }

  private linkTo(to: NodeAddress, lane: Lane): Link {
    const known = this.linksByLane[lane].get(to);
    if (known !== undefined) return known;
    const id = `${lane} ${to}`;
    const link: Link = { id, lane, to, state: 'idle', socket: null, pending: [], batch: new DatagramBatchWriter(), failures: 0, timer: undefined, used: false, tlsRefusal: null };
    this.links.set(id, link);
    this.linksByLane[lane].set(to, link);
    return link;
  }

  private queue(link: Link, lane: Lane, datagram: Datagram): void {
    if (link.pending.length >= this.options.maxPendingWhileDialing[lane]) {
      this.stats.dropped++;
      return;
    }
    // Copied (its parts joined): the caller may reuse its buffers before the connection opens.
    link.pending.push(joinDatagram(datagram));
  }

  /** Copies a datagram into the link's batch (sending the batch first if it would grow too big). */
  private addToBatch(link: Link, datagram: Datagram): void {
    const length = datagramByteLength(datagram);
    if (length >= SEND_ALONE_BYTES) return this.sendAlone(link, datagram, length);
    if (link.batch.byteLength > 0 && link.batch.byteLength + DATAGRAM_LENGTH_BYTES + length > MAX_BATCH_BYTES) this.sendBatch(link);
    link.batch.add(datagram);
    this.toFlush.add(link);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Sends a large datagram without copying it (see SEND_ALONE_BYTES): the receiver gets the same
   * message bytes as for a batch of one. The socket holds on to the parts until they are written,
   * which is safe because senders never change bytes they have sent (see Transport).
   */
  private sendAlone(link: Link, datagram: Datagram, length: number): void {
    this.sendBatch(link);
    const socket = link.socket!;
    const parts = datagram instanceof Uint8Array ? [datagram] : datagram.filter((part) => part.byteLength > 0);
    socket.send(datagramLengthPrefix(length), { binary: true, fin: false });
    parts.forEach((part, i) => socket.send(part, { binary: true, fin: i === parts.length - 1 }));
  }

  private sendBatch(link: Link): void {
    const batch = link.batch.take();
    if (batch !== null && link.state === 'open') link.socket!.send(batch);
  }

  /** Sends each link's batch of this turn as one WebSocket message. */
  private flush(): void {
    this.flushScheduled = false;
    for (const link of this.toFlush) this.sendBatch(link);
    this.toFlush.clear();
  }

  /** Starts a dial; false if it failed at once (the link is then in backoff). */
  private dial(to: NodeAddress, lane: Lane, link: Link): boolean {
    link.state = 'dialing';
    const tls = this.options.tls;
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${tls === null ? 'ws' : 'wss'}://${to}${NODE_ENDPOINT_PATH}`, {
        perMessageDeflate: false,
        handshakeTimeout: this.options.dialTimeoutMs,
        generateMask: zeroMask,
        ...(tls === null ? {} : tls.client()),
      });
    } catch (error) {
      // An address no URL can hold ('host:port:port', a space): addresses come from other nodes'
      // gossip, so one node advertising a broken one must not stop every node that dials it.
      // It is a dial that failed, at once; the backoff keeps the warnings rare.
      const reason = `not a dialable address (${(error as Error).message})`;
      this.options.log.warn({ peer: to, lane, err: reason }, 'cannot dial a node');
      this.dialFailed(to, link, reason);
      return false;
    }
    link.socket = socket;
    let opened = false;
    let failure = 'connection failed';
    socket.on('open', () => {
      opened = true;
      link.state = 'open';
      link.failures = 0;
      link.tlsRefusal = null;
      socket.send(encodeNodeHandshake({ version: NODE_PROTOCOL_VERSION, from: this.address, lane, credentials: this.options.credentials }));
      for (const bytes of link.pending) this.addToBatch(link, bytes);
      this.stats.sent += link.pending.length;
      link.pending = [];
    });
    // Outbound connections only send (the peer dials back for replies); an error is followed by 'close'.
    socket.on('error', (error) => {
      const tlsProblem = opened ? null : tlsFailure(error);
      if (tlsProblem === null) {
        failure = dialFailure(error, tls !== null);
        this.options.log.debug({ peer: to, lane, err: error.message }, 'node connection error');
        return;
      }
      failure = tlsProblem.reason;
      link.tlsRefusal = tlsProblem.reason;
      this.logDialTlsFailure(to, lane, tlsProblem);
    });
    socket.on('close', () => {
      if (link.socket !== socket || this.closed) return;
      link.socket = null;
      this.stats.dropped += link.pending.length + link.batch.datagrams;
      link.pending = [];
      link.batch.take();
      if (opened) {
        // The peer went away after we had talked: redial on the next send.
        link.state = 'idle';
        return;
      }
      this.dialFailed(to, link, failure);
    });
    return true;
  }

  /** A dial that never opened: drop what waited for it, back off, tell the hooks why. */
  private dialFailed(to: NodeAddress, link: Link, reason: string): void {
    this.stats.dropped += link.pending.length;
    link.pending = [];
    this.stats.failedDials++;
    link.state = 'backoff';
    const delay = backoffDelay(link.failures++, this.options.redialBackoff, this.options.random);
    link.timer = setTimeout(() => {
      link.timer = undefined;
      link.state = 'idle';
    }, delay).unref();
    for (const hook of this.unreachableHooks) hook(to, reason);
  }

  /**
   * Peers this node cannot dial because their TLS certificate fails its check (or they have no
   * TLS), by address, with the reason, while their link is kept (status lists them as refused).
   */
  tlsRefusals(): { address: NodeAddress; reason: string }[] {
    const byAddress = new Map<NodeAddress, string>();
    for (const link of this.links.values()) {
      if (link.tlsRefusal === null) continue;
      byAddress.set(link.id.slice(link.id.indexOf(' ') + 1), link.tlsRefusal);
    }
    return [...byAddress].map(([address, reason]) => ({ address, reason: `this node cannot dial it over TLS: ${reason}` }));
  }

  /** A dial's TLS handshake failed: the peer's address, why, and what to give, rate-limited per peer and reason. */
  private logDialTlsFailure(to: NodeAddress, lane: Lane, failure: TlsFailure): void {
    const suppressed = this.tlsLogLimiter.pass(`${to} ${failure.kind}`, performance.now());
    if (suppressed === null) return;
    this.options.log.warn(
      { peer: to, lane, err: failure.reason, ...suppressedField(suppressed) },
      `cannot dial node ${to} over TLS: ${failure.reason}; ${DIAL_TLS_ADVICE[failure.kind]}`,
    );
  }

  private forget(link: Link): void {
    clearTimeout(link.timer);
    link.timer = undefined;
    if (this.links.get(link.id) === link) this.links.delete(link.id);
    if (this.linksByLane[link.lane].get(link.to) === link) this.linksByLane[link.lane].delete(link.to);
  }

  /**
   * Closes and forgets links nobody has sent on since the last sweep. A dialing link is left to its
   * dial timeout; an open link with bytes still waiting to be written is busy, not idle, and
   * closing it could let its successor overtake them.
   */
  private closeIdleLinks(): void {
    for (const link of this.links.values()) {
      if (link.used) {
        link.used = false;
        continue;
      }
      if (link.state === 'open') {
        const socket = link.socket!;
        if (socket.bufferedAmount > 0 || link.batch.byteLength > 0) continue;
        // Detached first, so the dial's 'close' handler ignores it.
        link.socket = null;
        link.state = 'idle';
        this.retiring.add(socket);
        socket.once('close', () => this.retiring.delete(socket));
        socket.close(1000, 'idle');
      } else if (link.state === 'dialing') {
        continue;
      }
      this.forget(link);
    }
  }

  /**
   * A peer that just dialed us is up: links to it that are waiting out a redial backoff (from
   * while it was down) may dial again at once, instead of dropping our answers to it for up to
   * the backoff's maximum (a restarted node would otherwise not hear replies for seconds).
   */
  private endBackoff(peer: NodeAddress): void {
    for (const lane of ['control', 'bulk'] as const) {
      const link = this.links.get(`${lane} ${peer}`);
      if (link === undefined || link.state !== 'backoff') continue;
      clearTimeout(link.timer);
      link.state = 'idle';
      link.failures = 0;
    }
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    this.inbound.add(socket);
    const remote = request.socket.remoteAddress ?? 'an unknown address';
    // A browser always sends Origin with a WebSocket upgrade, a node never does: a web page the
    // operator visits could otherwise open this port on loopback and, without the keyring, speak
    // the node protocol (join, replicate). Closed before anything it sends is read.
    if (request.headers.origin !== undefined) {
      this.warnRefused(remote, 'browser', `a web page (Origin ${request.headers.origin.slice(0, 200)}) opened a WebSocket to the peer port; only nodes may connect here`);
      socket.close(1008, 'browsers may not connect to the peer port');
      return;
    }
    let from: NodeAddress | null = null;
    const timer = setTimeout(() => socket.close(1008, 'no handshake'), this.options.handshakeTimeoutMs);
    socket.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (from === null) {
        try {
          from = decodeNodeHandshake(bytes).from;
          clearTimeout(timer);
          this.endBackoff(from);
        } catch (error) {
          if (!(error instanceof NodeHandshakeError)) throw error;
          this.warnRefused(remote, 'handshake', `its node handshake is not valid (${error.message})`);
          socket.close(1008, 'bad handshake');
        }
        return;
      }
      const sender = from;
      try {
        forEachDatagram(bytes, (datagram) => {
          this.stats.received++;
          this.handler(sender, datagram);
        });
      } catch (error) {
        if (!(error instanceof DatagramBatchError)) throw error;
        this.warnRefused(remote, 'batch', `node ${from} sent a corrupt batch (${error.message}); closed the connection`);
        socket.close(1007, 'corrupt datagram batch');
      }
    });
    socket.on('error', () => {}); // followed by 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      this.inbound.delete(socket);
    });
  }

  /** `refused a node connection from IP: WHY` at warn, once a minute per address and kind (anyone can provoke it). */
  private warnRefused(remote: string, kind: string, why: string): void {
    const suppressed = this.refusalLogLimiter.pass(`${remote} ${kind}`, performance.now());
    if (suppressed !== null) this.options.log.warn({ remote, ...suppressedField(suppressed) }, `refused a node connection from ${remote}: ${why}`);
  }
}

/** What to do about a peer's certificate this node refused when dialing it, by kind of failure. */
const DIAL_TLS_ADVICE: Record<TlsFailure['kind'], string> = {
  'wrong-name': 'give that node a certificate that names the address it advertises (its --advertise-host, or --host), or advertise a name its certificate has',
  untrusted: 'node certificates must be signed by the CA this node trusts for peers (--peer-tls-ca, or --tls-ca)',
  expired: 'renew that node\'s certificate (nodes reload it on SIGHUP or when the file changes)',
  'not-tls': 'start that node with TLS too (--tls-cert, --tls-key, --tls-ca, or the --peer-tls-* ones), or this one without',
  'certificate-required': 'that node does not take this node\'s certificate; see its log',
  'certificate-refused': 'that node does not accept this node\'s certificate; see its log for why',
};

/**
 * What the peer port's `tlsClientError` hands over: the TLS socket, often destroyed by then, with
 * Node's `_parent`, the TCP socket it wraps (the key its address was noted under).
 */
type FailedTlsSocket = TLSSocket & { authorizationError?: Error | string | null; _parent?: object };

/**
 * A connection to the peer port failed its TLS handshake: log who connected (the address) and
 * what happened, in words, with what to do, rate-limited per address and reason. OpenSSL's raw
 * text (codes, source file names, a trailing newline) never reaches the log.
 */
function logInboundTlsFailure(log: Logger, limiter: LogLimiter, error: Error, socket: FailedTlsSocket, remote: string): void {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const refused = socket.authorizationError;
  let kind: string;
  let message: string;
  let err: string;
  if (refused !== undefined && refused !== null) {
    // We refused its certificate (Node destroys the socket, which then reads as a hang-up).
    const refusedCode = typeof refused === 'string' ? refused : String((refused as NodeJS.ErrnoException).code ?? refused.message);
    err = tlsFailure({ code: refusedCode, message: refusedCode })?.reason ?? `its certificate was refused (${refusedCode})`;
    kind = 'refused';
    message = `refused a node connection from ${remote}: ${err}; a node must show a certificate from this cluster's CA (--peer-tls-ca, or --tls-ca)`;
  } else if (code === 'ERR_SSL_HTTP_REQUEST') {
    kind = 'plain';
    err = 'a plain HTTP request, without TLS';
    message = `refused a node connection from ${remote}: it connected without TLS, and this node's peer port requires TLS; start that node with --tls-cert, --tls-key and --tls-ca (or --peer-tls-cert, --peer-tls-key and --peer-tls-ca) from this cluster's CA`;
  } else if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
    kind = 'no-certificate';
    err = 'no client certificate';
    message = `refused a node connection from ${remote}: it showed no certificate, and this node's peer port requires one (--peer-tls-client-auth require); give that node --tls-cert and --tls-key from this cluster's CA`;
  } else if (code === 'ECONNRESET') {
    kind = 'cut';
    err = 'the dialing node closed the connection during the TLS handshake';
    message = `a node connection from ${remote} was closed by that node during the TLS handshake: most likely it did not accept this node's certificate (not signed by the CA it trusts, or not naming the address it dialed); its log says why`;
  } else {
    kind = code === '' ? 'other' : code;
    err = openSslReason(error.message);
    message = `refused a node connection from ${remote}: the TLS handshake failed (${err})`;
  }
  const suppressed = limiter.pass(`${remote} ${kind}`, performance.now());
  if (suppressed === null) return;
  log.warn({ remote, err, ...(code === '' ? {} : { code }), ...suppressedField(suppressed) }, message);
}

/**
 * Why a dial failed, in the words an operator expects (the error's own message otherwise). A
 * plain dial cut before any answer is what a TLS port does to it: say so.
 */
function dialFailure(error: Error, tls: boolean): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ECONNRESET':
      return tls
        ? `${error.message}: the node closed the connection during the TLS handshake; it may not accept this node's certificate (its log says why)`
        : `${error.message}: the node may require TLS on its peer port; give this node --tls-cert, --tls-key and --tls-ca (or --peer-tls-cert, --peer-tls-key and --peer-tls-ca) from the cluster's CA`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    default:
      return httpAnswer(error.message) ?? error.message;
  }
}

/**
 * `ws`'s "Unexpected server response: 404" means an HTTP server answered where a peer port should
 * have upgraded the dial: most often another port of a node (client, RESP, admin) or another service.
 */
function httpAnswer(message: string): string | null {
  const status = /^Unexpected server response: (\d+)$/.exec(message)?.[1];
  if (status === undefined) return null;
  return `an HTTP server answered ${status} instead of a Shoal peer port; check the address names a node's peer port (--peer-port), not its client, RESP or admin port`;
}
