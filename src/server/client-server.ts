/**
 * The client-facing WebSocket server of a node: serves a KvService to SDK clients over the wire
 * protocol (src/protocol), and pushes `ring-changed` when the ring's version changes. The same port
 * answers plain HTTP health probes, `/healthz` and `/readyz` (see health.ts).
 *
 * Edge code: it owns sockets and timers, and wraps the callback-style service for the network.
 * The daemon embeds it with `startClientServer`; tests run it on port 0 with a MemoryKv.
 */
import type { AclStore } from '../security/acl.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import { admittingTlsOptions, clientCertificateRefusal, requiresClientCertificate } from '../security/tls.ts';
import { WebSocketServer, type WebSocket } from 'ws';
import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KvService, RmwService } from '../replication/api.ts';
import type { AdmissionGate } from '../replication/admission-gate.ts';
import { CLIENT_ENDPOINT_PATH, DEFAULT_WIRE_LIMITS, encodeServerFrame, type NodeStatus, type WireLimits } from '../protocol/index.ts';
import { DRAINED_CLOSE_REASON } from '../protocol/frames.ts';
import { silentLogger, type Logger } from '../runtime/env.ts';
import { RealTimers, realClock } from '../runtime/real.ts';
import {
  ClientSession,
  CloseCode,
  DEFAULT_UNREAD_REPLIES_LIMIT_BYTES,
  DEFAULT_UNREAD_REPLIES_STALL_MS,
  type ClientServerStats,
} from './session.ts';
import { DEFAULT_TOPOLOGY_POLL_MS, watchTopology } from './topology-watch.ts';
import type { DrainControl, HotKeysSource, InvalidationSource } from './session.ts';
import { answerHttpRequest, readinessOf, type Readiness } from './health.ts';
import { ConnectionLimiter, remoteAddressKey, UNLIMITED, type RateLimitPolicy } from '../security/limits.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';
import { originRefusal, type OriginPolicy } from '../security/origins.ts';

/** Requests one connection may have waiting on the service; more are answered `overloaded`. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 16_384;

/** A connection that has not sent hello by then is closed (5 s): it holds a socket and does nothing. */
export const DEFAULT_HELLO_TIMEOUT_MS = 5000;

/** Concurrent client connections per node; further upgrades are refused with HTTP 503. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** How long `close()` lets in-flight requests finish before closing connections (5 s). */
export const DEFAULT_CLOSE_GRACE_MS = 5000;

/** How long `close()` waits for clients to answer the WebSocket close handshake before cutting them off. */
export const CLOSE_HANDSHAKE_TIMEOUT_MS = 1000;

/**
 * Frames over `maxFrameBytes` get a `frame-too-large` error frame; frames over this multiple of it
 * are cut off by the WebSocket layer itself (close code 1009, no error frame), so that a peer
 * cannot make the server buffer an arbitrarily large message just to reject it.
 */
export const OVERSIZED_FRAME_READ_FACTOR = 2;

export interface ClientServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one (read it back from `.port`). Default 0. */
  port?: number;
  /**
   * The service to serve. Read-modify-write requests (incr, append... from the SDK) go to `rmw`, or
   * to this when it also implements RmwService (MemoryKv does); with neither they get `unknown-op`.
   */
  kv: KvService & Partial<RmwService>;
  /** Serves read-modify-write requests (a node's KeyspaceService); default: `kv` if it implements RmwService. */
  rmw?: RmwService;
  /**
   * The node's admission gate (src/replication/admission-gate.ts), shared with its RESP listener:
   * at most its limit of get/set/delete calls of all clients are started and unanswered at once;
   * the rest wait, and a request whose deadline passes while it waits is answered `timeout`,
   * unapplied. Absent: every request starts at once (the daemon always passes the node's).
   */
  admission?: AdmissionGate;
  /** This node's name, reported in `welcome` and used by `ownersOnly`. */
  nodeName: string;
  /** Wire limits; each defaults to DEFAULT_WIRE_LIMITS. */
  limits?: Partial<WireLimits>;
  /** Default DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION. */
  maxInFlightPerConnection?: number;
  /** Default DEFAULT_HELLO_TIMEOUT_MS. */
  helloTimeoutMs?: number;
  /** Replies a connection may leave unread before its requests wait. Default DEFAULT_UNREAD_REPLIES_LIMIT_BYTES. */
  unreadRepliesLimitBytes?: number;
  /** How long a connection at that limit may read nothing before it is closed. Default DEFAULT_UNREAD_REPLIES_STALL_MS. */
  unreadRepliesStallMs?: number;
  /** Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Connections one remote address may hold at once; 0 (default): no such limit. */
  maxConnectionsPerAddress?: number;
  /**
   * A connection that sends nothing (no frame, no WebSocket ping) for this long (ms) is closed
   * with 1000 and reason `idle timeout`, as Redis's `timeout` closes idle clients; 0 (default): never.
   */
  idleTimeoutMs?: number;
  /** Requests per second per connection (security/limits.ts); default unlimited. */
  rateLimit?: RateLimitPolicy;
  /** Polling interval for a KvService without `onTopologyChange`. Default DEFAULT_TOPOLOGY_POLL_MS. */
  topologyPollMs?: number;
  /**
   * Answer `not-owner` for a key this node does not hold, instead of coordinating it. Off by
   * default (any node coordinates any key); a leaving node can turn clients towards the owners.
   */
  ownersOnly?: boolean;
  /**
   * Answers the `status` admin request (`shoal status`) and decides `/readyz`. The daemon passes
   * one built from its membership and ring; without it, status requests get `unknown-op` and the
   * server is ready as soon as it listens.
   */
  status?: () => NodeStatus;
  /**
   * Answers the `hotkeys` admin request (`shoal hotkeys`) and feeds the `hotkey` pushes of the
   * connections that subscribed (the SDK's `client.on('hotkey')`). Absent: `unknown-op`.
   */
  hotKeys?: HotKeysSource;
  /** Serves `invalidations` subscriptions (SDK near caches): the daemon passes the node's InvalidationHub. Absent: `unknown-op`. */
  invalidations?: InvalidationSource;
  /** Drains and undrains the node (`shoal drain`, `shoal undrain`). Absent: `unknown-op`. */
  drain?: DrainControl;
  /** Default: silent. */
  log?: Logger;
  /**
   * The node's users: hello's credentials (`{ username, password }`) are checked against them and
   * every request against the user's ACL. Absent: every client is `default`, unchecked.
   */
  acl?: AclStore;
  /** Counts and rate-limits failed authentications per remote address. */
  authGuard?: AuthGuard;
  /** TLS: the port serves https and wss (health probes too). Default none: plain http and ws. */
  tls?: TlsOptions | null;
  /**
   * Which web pages' browsers may upgrade (security/origins.ts); an upgrade without Origin (not a
   * browser) is never refused for it. Default: no --allowed-origins, no own host beyond loopback.
   */
  origins?: OriginPolicy;
}

export interface ClientServer {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port/shoal` (`wss://` with TLS). */
  readonly url: string;
  /** Swaps the TLS certificate for new connections (open ones keep theirs); absent without TLS. */
  setSecureContext?: (options: SecureContextOptions) => void;
  /** Open client connections (handshake done or not). */
  readonly connectionCount: number;
  /** Live counters since the server started. */
  readonly stats: Readonly<ClientServerStats>;
  /** What `GET /readyz` answers now. */
  readiness(): Readiness;
  /**
   * Stops accepting WebSocket connections (an upgrade gets HTTP 503), answers new requests with
   * `shutting-down`, lets in-flight ones finish for up to `graceMs`, then closes every connection
   * with 1001 (going away). The port stays open for health probes, `/readyz` answering 503, until
   * `close`: a node stopping gracefully is alive but not ready for as long as its leave lasts.
   */
  drain(options?: { graceMs?: number }): Promise<void>;
  /** Drains (if not already under way; `graceMs` as for `drain`), then closes the port. */
  close(options?: { graceMs?: number }): Promise<void>;
}


export async function startClientServer(options: ClientServerOptions): Promise<ClientServer> {
  const host = options.host ?? '127.0.0.1';
  const limits: WireLimits = { ...DEFAULT_WIRE_LIMITS, ...options.limits };
  const log = options.log ?? silentLogger;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const admission = new ConnectionLimiter({ maxConnections, maxPerAddress: options.maxConnectionsPerAddress ?? 0 });
  const rateLimit = options.rateLimit ?? UNLIMITED;
  const idleTimeoutMs = options.idleTimeoutMs ?? 0;
  const sessions = new Set<ClientSession>();
  const stats: ClientServerStats = { framesReceived: 0, requestsReceived: 0, replyFramesSent: 0, connectionsFailed: 0, connectionsClosedUnread: 0, repliesRefusedUnread: 0 };
  const sessionConfig = {
    stats,
    timers: new RealTimers(),
    clock: realClock,
    kv: options.kv,
    admission: options.admission ?? null,
    rmw: options.rmw ?? (typeof options.kv.rmw === 'function' ? (options.kv as RmwService) : null),
    nodeName: options.nodeName,
    limits,
    maxInFlight: options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
    helloTimeoutMs: options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
    unreadLimitBytes: options.unreadRepliesLimitBytes ?? DEFAULT_UNREAD_REPLIES_LIMIT_BYTES,
    unreadStallMs: options.unreadRepliesStallMs ?? DEFAULT_UNREAD_REPLIES_STALL_MS,
    ownersOnly: options.ownersOnly ?? false,
    status: options.status ?? null,
    hotKeys: options.hotKeys ?? null,
    invalidations: options.invalidations ?? null,
    drain: options.drain ?? null,
    log,
    acl: options.acl ?? null,
    authGuard: options.authGuard ?? null,
    // A connection closed for an error is logged once a minute per address and code (with `suppressed`).
    closeLog: new LogLimiter(REFUSAL_LOG_INTERVAL_MS),
  };

  let draining = false;
  const readiness = (): Readiness => readinessOf(options.status ? options.status() : null, draining);
  // One HTTP server for the port: WebSocket upgrades on CLIENT_ENDPOINT_PATH, health probes on plain GETs.
  const tls = options.tls ?? null;
  // Client certificates required: Node's TLS server would cut a handshake whose certificate fails
  // verification (expired, from another CA) without a TLS alert, so the client saw only "socket
  // hang up", could not tell it from a fault, and waited out its connect timeout. So the handshake
  // admits any certificate and the check is made here, before anything is served: a refusal is
  // an HTTP 403 (which the SDK reads as the node refusing its certificate) and a log line saying why.
  const requireCertificate = requiresClientCertificate(tls);
  // Once a minute per address and reason, as the RESP port's: a client redialing without a certificate made a line per dial.
  const refusalLog = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  const refused = (request: IncomingMessage): string | null => {
    const reason = requireCertificate ? clientCertificateRefusal(request.socket as TLSSocket) : null;
    if (reason === null) return null;
    const remote = request.socket.remoteAddress ?? '?';
    const suppressed = refusalLog.pass(`${remote} ${reason}`, performance.now());
    if (suppressed !== null) log.warn({ remote, reason, ...suppressedField(suppressed) }, `refused a client certificate from ${remote}: ${reason}`);
    return reason;
  };
  // Cross-site WebSocket hijacking (security/origins.ts): refused before the upgrade, with why and
  // how to allow the page; logged once a minute per origin (a page can redial in a loop).
  const originPolicy = options.origins ?? { allowed: null, ownHosts: [] };
  const originLog = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  const originRefused = (request: IncomingMessage): string | null => {
    const origin = request.headers.origin;
    if (origin === undefined) return null;
    const open = options.acl === undefined || !options.acl.requiresAuth;
    const reason = originRefusal(origin, originPolicy, open);
    if (reason === null) return null;
    const remote = request.socket.remoteAddress ?? '?';
    const suppressed = originLog.pass(origin, performance.now());
    if (suppressed !== null) log.warn({ remote, origin, ...suppressedField(suppressed) }, `refused a browser's WebSocket from ${remote} on the client port: ${reason}`);
    return reason;
  };
  const answer = (request: IncomingMessage, response: Parameters<typeof answerHttpRequest>[1]) => {
    const reason = refused(request);
    if (reason !== null) response.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(reason);
    else answerHttpRequest(request, response, readiness, CLIENT_ENDPOINT_PATH);
  };
  const https = tls === null ? null : createHttpsServer(admittingTlsOptions(tls), answer);
  const http = https ?? createServer(answer);
  https?.on('tlsClientError', (error, socket) => log.debug({ remote: socket.remoteAddress, err: error.message }, 'client TLS handshake failed'));
  const wss = new WebSocketServer({
    noServer: true,
    path: CLIENT_ENDPOINT_PATH,
    maxPayload: limits.maxFrameBytes * OVERSIZED_FRAME_READ_FACTOR,
    perMessageDeflate: false,
    verifyClient: (info: { req: IncomingMessage }, accept: (ok: boolean, code?: number, message?: string) => void) => {
      const admitted = admission.admit(remoteAddressKey(info.req.socket.remoteAddress));
      if (!admitted.ok) {
        accept(false, 503, admitted.message);
        return;
      }
      // Counted until the TCP connection closes, whether or not the upgrade completes.
      info.req.socket.once('close', admitted.release);
      accept(true);
    },
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const forbidden = refused(request) ?? originRefused(request);
    if (forbidden !== null) refuseUpgrade(socket, 403, forbidden);
    else if (draining) refuseUpgrade(socket, 503, 'server shutting down');
    else wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('listening', resolve);
    http.once('error', reject);
    http.listen({ host, port: options.port ?? 0 });
  });
  // After startup, a server error (rare: the listening socket failing) is logged, not thrown.
  http.on('error', (error) => log.error({ err: error.message }, 'client server error'));
  const port = (http.address() as AddressInfo).port;

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const session = new ClientSession(socket, sessionConfig, remote, rateLimit.limiterFor({ address: remoteAddressKey(request.socket.remoteAddress) }, performance.now()));
    if (idleTimeoutMs > 0) closeWhenIdle(session, socket, idleTimeoutMs);
    sessions.add(session);
    socket.once('close', () => sessions.delete(session));
  });

  const stopWatching = watchTopology(
    options.kv,
    (topologyVersion) => {
      const frame = encodeServerFrame({ type: 'push', push: { kind: 'ring-changed', topologyVersion } });
      for (const session of sessions) session.push(frame);
    },
    options.topologyPollMs ?? DEFAULT_TOPOLOGY_POLL_MS,
  );

  const drain = async (graceMs: number): Promise<void> => {
    draining = true;
    stopWatching();
    const stopped = new Promise<void>((resolve) => wss.close(() => resolve()));
    for (const session of sessions) session.beginShutdown();
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
    const drained = await Promise.race([Promise.all([...sessions].map((s) => s.whenIdle())).then(() => true), graceOver.then(() => false)]);
    clearTimeout(graceTimer);
    const closed = [...wss.clients].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    // Drained: every accepted request was answered (later ones got shutting-down), so the client may resend what is unanswered.
    const reason = drained ? DRAINED_CLOSE_REASON : 'server shutting down; requests still in flight were abandoned';
    for (const session of sessions) session.close(CloseCode.goingAway, reason);
    let handshakeTimer: NodeJS.Timeout | undefined;
    const handshakeOver = new Promise<void>((resolve) => (handshakeTimer = setTimeout(resolve, CLOSE_HANDSHAKE_TIMEOUT_MS)));
    await Promise.race([Promise.all(closed), handshakeOver]);
    clearTimeout(handshakeTimer);
    // Peers that did not answer the close handshake in time are cut off.
    for (const socket of wss.clients) socket.terminate();
    await stopped;
  };
  let drainRun: Promise<void> | null = null;
  let closeRun: Promise<void> | null = null;
  const startDrain = (graceMs: number) => (drainRun ??= drain(graceMs));
  const close = async (graceMs: number): Promise<void> => {
    await startDrain(graceMs);
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    // Idle keep-alive connections (a load balancer's probes) would hold close() open.
    http.closeAllConnections();
    await stopped;
  };

  return {
    host,
    port,
    url: `${tls === null ? 'ws' : 'wss'}://${host}:${port}${CLIENT_ENDPOINT_PATH}`,
    ...(https === null ? {} : { setSecureContext: (o: SecureContextOptions) => https.setSecureContext(o) }),
    get connectionCount() {
      return sessions.size;
    },
    stats,
    readiness,
    drain: (drainOptions = {}) => startDrain(drainOptions.graceMs ?? DEFAULT_CLOSE_GRACE_MS),
    close: (closeOptions = {}) => (closeRun ??= close(closeOptions.graceMs ?? DEFAULT_CLOSE_GRACE_MS)),
  };
}

/**
 * Answers an upgrade the server will not take with a plain HTTP error (what `ws` does for its own
 * refusals): the standard reason phrase, and why in the body (it may quote a header the client sent).
 */
function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

/**
 * Closes `session` once its socket has received nothing (no message, no ping) for `idleMs` and it
 * has no request in flight (a connection waiting on a slow write is not idle; it is looked at again
 * `idleMs` later).
 */
function closeWhenIdle(session: ClientSession, socket: WebSocket, idleMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!session.closeIfIdle()) arm();
    }, idleMs);
  };
  arm();
  socket.on('message', arm);
  socket.on('ping', arm);
  socket.once('close', () => clearTimeout(timer));
}
