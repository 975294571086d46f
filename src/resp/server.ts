/**
 * The RESP listener: a TCP server whose connections speak Redis to a node's keyspace.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import { DEFAULT_MAX_VALUE_BYTES } from '../protocol/limits.ts';
import type { WireHotKeys } from '../protocol/index.ts';
import type { KeyspaceService } from '../replication/api.ts';
import type { Logger } from '../runtime/env.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';
import { admittingTlsOptions, clientCertificateRefusal, requiresClientCertificate } from '../security/tls.ts';
import type { CommandSpec, ConnectionState, KeyspaceStats, RespServerContext } from './command.ts';
import { CommandTable } from './commands.ts';
import { DEFAULT_CONNECTION_LIMITS, RespConnection, type ConnectionLimits } from './connection.ts';
import { INLINE_MAX_BYTES, RespParser } from './parser.ts';
import { RespServerState, type EvictionPolicyControl, type MemoryBudgetControl } from './server-state.ts';
import type { ClusterView } from './cluster-view.ts';
import type { StoreMemory } from './memory-command.ts';
import { createRouter } from './redirect.ts';
import { AdmissionGate, gatedKeyspace } from '../replication/admission-gate.ts';
import { ConnectionLimiter, remoteAddressKey, UNLIMITED, type ConnectionLimitsConfig, type RateLimitPolicy } from '../security/limits.ts';
import type { AclStore } from '../security/acl.ts';
import type { AuthGuard } from '../security/auth-guard.ts';

/** Redis's maxclients default; INFO reports it. */
export const MAX_CLIENTS = 10_000;

export interface RespServerOptions {
  keyspace: KeyspaceService;
  /** Port to listen on; 0 picks a free one (see `RespServer.port`). */
  port: number;
  host?: string;
  /** Wall time in ms; the daemon passes its environment's clock. Default Date.now. */
  nowMs?: () => number;
  /** Wall time in integer microseconds (TIME); the daemon passes its environment's clock. Default nowMs() * 1000. */
  nowUs?: () => number;
  /**
   * The cluster routing decision for keyed commands (MOVED, CROSSSLOT); default: serve every key
   * here (the node coordinates any key, as for the SDK).
   */
  route?: (connection: ConnectionState, spec: CommandSpec, args: Uint8Array[]) => string | null;
  /**
   * The node's cluster view (cluster-view.ts): the CLUSTER commands answer from it, and unless
   * `route` is given, keyed commands are routed by it (redirect.ts: MOVED, CROSSSLOT).
   */
  cluster?: ClusterView;
  /** Lines for INFO's `shoal` section (node name, cluster...). */
  describe?: () => Record<string, string | number>;
  /** This node's hot keys (SHOAL.HOTKEYS). */
  hotKeys?: (count: number) => WireHotKeys;
  /** How often this node's store has seen a key used (OBJECT FREQ): see RespServerContext.keyFrequency. */
  keyFrequency?: (key: Uint8Array) => number | null;
  /** The node's store against its budget (MEMORY DOCTOR). */
  storeMemory?: () => StoreMemory;
  /** The node's invalidation streams and held partitions, for CLIENT TRACKING; absent: tracking is refused. */
  invalidations?: RespServerContext['invalidations'];
  /** Per-connection limits; see ConnectionLimits. */
  limits?: Partial<ConnectionLimits>;
  /** The command table; default every command module's commands. */
  commands?: CommandTable;
  /** Where a command that throws (a bug) is reported; the client gets an error reply either way. */
  log?: Logger;
  /** The node's store policy, which CONFIG SET maxmemory-policy changes (server-state.ts); absent: the setting is only kept. */
  evictionPolicy?: EvictionPolicyControl;
  /** How many records the node's store has evicted for memory (INFO evicted_keys); absent: 0. */
  storeEvictions?: () => number;
  /** The node's store budget, which CONFIG GET/SET maxmemory and INFO read and change (server-state.ts); absent: the setting is only kept. */
  memoryBudget?: MemoryBudgetControl;
  /** Connections at once, in all (default MAX_CLIENTS) and per remote address (default 0: none). */
  connectionLimits?: Partial<ConnectionLimitsConfig>;
  /** Redis's `timeout`: a connection idle this long (ms; nothing read or written) is closed; 0 (default): never. */
  idleTimeoutMs?: number;
  /** Requests per second per connection (security/limits.ts); default unlimited. */
  rateLimit?: RateLimitPolicy;
  /** The node's users: AUTH, ACL and the permission check; absent, everyone is `default` unchecked. */
  acl?: AclStore;
  /** Counts and rate-limits failed AUTH per remote address. */
  authGuard?: AuthGuard;
  /** TLS (as `redis-server --tls-port`): connections must start with a TLS handshake. Default none: plain TCP. */
  tls?: TlsOptions | null;
  /**
   * The node's admission gate (src/replication/admission-gate.ts), shared with its SDK sessions:
   * how many keyspace calls of all connections may be unanswered at once. Default: one of this
   * listener's own.
   */
  admission?: AdmissionGate;
}

export interface RespServer {
  readonly host: string;
  readonly port: number;
  readonly context: RespServerContext;
  readonly state: RespServerState;
  /** Admission of the connections' keyspace calls (src/replication/admission-gate.ts): `admission`, or its own. */
  readonly admission: AdmissionGate;
  /** Swaps the TLS certificate for new connections (open ones keep theirs); absent without TLS. */
  setSecureContext?: (options: SecureContextOptions) => void;
  /**
   * A graceful stop: stops listening (a new connection is refused, so a client or load balancer
   * tries another node) and has every connection finish the commands it started and close
   * (RespConnection.drain). Resolves once all have closed, or after `graceMs`, when the rest are
   * closed at once. Idempotent.
   */
  drain(options: { graceMs: number }): Promise<void>;
  /** Connections open now (a stop's progress log counts those still draining). */
  readonly connectionCount: number;
  /** Stops listening and closes every connection at once. */
  close(): Promise<void>;
}

/** How long a connection whose certificate was refused stays open to be told why, at most. */
const REFUSED_CONNECTION_WAIT_MS = 10_000;
/** Commands such a connection is answered (with why) before it is closed. */
const REFUSED_CONNECTION_REPLIES = 8;

export async function startRespServer(options: RespServerOptions): Promise<RespServer> {
  const nowMs = options.nowMs ?? (() => Date.now());
  const nowUs = options.nowUs ?? (() => Math.floor(nowMs() * 1000));
  const table = options.commands ?? new CommandTable();
  // No argument can be longer than Shoal's largest value (a key is smaller still), so longer ones
  // are refused as they arrive instead of being buffered up to Redis's 512 MB.
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, maxArgumentBytes: DEFAULT_MAX_VALUE_BYTES, ...options.limits };
  const host = options.host ?? '127.0.0.1';
  const route = options.route ?? (options.cluster === undefined ? () => null : createRouter(options.cluster));
  const stats: KeyspaceStats = { keyspaceHits: 0, keyspaceMisses: 0 };
  const sockets = new Set<Socket>();
  /** A drain waiting for the last socket to close. */
  const allClosedWaiters: (() => void)[] = [];
  const forget = (socket: Socket): void => {
    sockets.delete(socket);
    if (sockets.size === 0) for (const waiter of allClosedWaiters.splice(0)) waiter();
  };
  const state = new RespServerState(table, nowMs(), nowMs, options.describe, options.evictionPolicy, options.storeEvictions, options.memoryBudget);
  state.log = options.log;

  const gate = options.admission ?? new AdmissionGate({ nowMs: () => performance.now() });
  const context: RespServerContext = {
    keyspace: gatedKeyspace(options.keyspace, gate),
    nowMs,
    nowUs,
    topology: () => options.keyspace.topology(),
    route,
    stats,
    state,
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    ...(options.acl === undefined ? {} : { acl: options.acl }),
    ...(options.hotKeys === undefined ? {} : { hotKeys: options.hotKeys }),
    ...(options.keyFrequency === undefined ? {} : { keyFrequency: options.keyFrequency }),
    ...(options.storeMemory === undefined ? {} : { storeMemory: options.storeMemory }),
    ...(options.authGuard === undefined ? {} : { authGuard: options.authGuard }),
    ...(options.invalidations === undefined ? {} : { invalidations: options.invalidations }),
  };
  if (options.acl !== undefined && options.acl.catalog === undefined) options.acl.catalog = tableCatalog(table);

  const admission = new ConnectionLimiter({ maxConnections: MAX_CLIENTS, maxPerAddress: 0, ...options.connectionLimits });
  const rateLimit = options.rateLimit ?? UNLIMITED;
  const idleTimeoutMs = options.idleTimeoutMs ?? 0;
  state.maxClients = admission.maxConnections;
  const tls = options.tls ?? null;
  const requireCertificate = requiresClientCertificate(tls);
  // A refused client certificate: once a minute per address and reason.
  const refusalLog = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  /**
   * A connection whose client certificate was refused, or not shown: every command it sends is
   * answered with an error saying so, and never run; it is closed after REFUSED_CONNECTION_REPLIES
   * answers, or REFUSED_CONNECTION_WAIT_MS after it connected. redis-server cuts such a handshake,
   * and its clients report only "Connection reset by peer" (redis-cli) or an OpenSSL alert; here
   * they read why as the reply to their first command. Not closed at the first reply: ioredis
   * handles the close before that reply's error and reports only "Connection is closed".
   */
  const refuseCertificate = (socket: TLSSocket, reason: string, release: () => void): void => {
    const remote = socket.remoteAddress ?? '?';
    const suppressed = refusalLog.pass(`${remote} ${reason}`, performance.now());
    if (suppressed !== null) options.log?.warn({ remote, reason, ...suppressedField(suppressed) }, `refused a client certificate on the RESP port from ${remote}: ${reason}`);
    sockets.add(socket);
    const closing = setTimeout(() => socket.destroy(), REFUSED_CONNECTION_WAIT_MS);
    socket.once('close', () => {
      clearTimeout(closing);
      release();
      forget(socket);
    });
    socket.on('error', () => socket.destroy());
    // The client sends nothing more (the listener allows half-open sockets): done once answered.
    socket.once('end', () => socket.end());
    const parser = new RespParser({ maxArgumentBytes: INLINE_MAX_BYTES });
    let replies = 0;
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      parser.push(chunk);
      for (let command = parser.next(); command !== null && !done; command = parser.next()) {
        if (Array.isArray(command) && command.length === 0) continue;
        socket.write(`-ERR ${reason}\r\n`);
        // After a protocol error the parser only repeats it.
        done = ++replies >= REFUSED_CONNECTION_REPLIES || !Array.isArray(command);
      }
      if (done) socket.end();
    });
  };
  const onConnection = (socket: Socket): void => {
    const address = remoteAddressKey(socket.remoteAddress);
    const admitted = admission.admit(address);
    if (!admitted.ok) {
      // Redis's maxclients (10000 by default), with its text; the others go on being served.
      state.rejectedConnections++;
      // Held in `sockets` until it closes, so close() does not wait on it.
      sockets.add(socket);
      socket.once('close', () => forget(socket));
      socket.on('error', () => socket.destroy());
      socket.end(`-ERR ${admitted.message}\r\n`);
      return;
    }
    // Counted among the connections while it waits to be told why.
    const refusal = requireCertificate ? clientCertificateRefusal(socket as TLSSocket) : null;
    if (refusal !== null) return refuseCertificate(socket as TLSSocket, refusal, admitted.release);
    sockets.add(socket);
    state.totalConnections++;
    const limiter = rateLimit.limiterFor({ address }, nowMs());
    const connection: RespConnection = new RespConnection(socket, context, state!, table, limits, (closed) => {
      admitted.release();
      state.clients.delete(closed.id);
      forget(socket);
    }, limiter);
    state.clients.set(connection.id, connection);
    // Redis's `timeout`: an idle client is closed without a reply; one waiting on a command is not idle.
    if (idleTimeoutMs > 0) {
      socket.setTimeout(idleTimeoutMs);
      socket.on('timeout', () => {
        if (connection.commandsRunning > 0) socket.setTimeout(idleTimeoutMs);
        else socket.destroy();
      });
    }
  };
  let server: Server;
  if (tls === null) {
    // Half-open: a client that sends its commands and then closes its side still gets every
    // reply (RespConnection ends the connection once they are written), as from redis-server.
    server = createServer({ allowHalfOpen: true }, onConnection);
  } else {
    const secure = createTlsServer({ ...admittingTlsOptions(tls), allowHalfOpen: true }, onConnection);
    // A client that does not trust our certificate, or shows none when one is required.
    secure.on('tlsClientError', (error, socket) => options.log?.debug({ remote: socket.remoteAddress, err: error.message }, 'RESP TLS handshake failed'));
    server = secure;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  state.port = port;

  let draining: Promise<void> | null = null;
  const drain = async (graceMs: number): Promise<void> => {
    server.close();
    for (const client of state.clients.values()) if (client instanceof RespConnection) client.drain();
    let graceTimer: NodeJS.Timeout | undefined;
    const allClosed = new Promise<void>((resolve) => (sockets.size === 0 ? resolve() : allClosedWaiters.push(resolve)));
    const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
    await Promise.race([allClosed, graceOver]);
    clearTimeout(graceTimer);
    for (const socket of sockets) socket.destroy();
  };

  return {
    host,
    port,
    context,
    state,
    admission: gate,
    ...(tls === null ? {} : { setSecureContext: (o: SecureContextOptions) => (server as ReturnType<typeof createTlsServer>).setSecureContext(o) }),
    drain: (drainOptions) => (draining ??= drain(drainOptions.graceMs)),
    get connectionCount() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Already closed by a drain: close() would wait for nothing and call back with an error.
        if (!server.listening) resolve();
        else server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** The command table as the ACL rule parser validates `+command` and `+command|sub`. */
export function tableCatalog(table: CommandTable): { isCommand(name: string): boolean } {
  return {
    isCommand(name: string): boolean {
      const bar = name.indexOf('|');
      if (bar < 0) return table.lookup(name) !== undefined;
      const parent = table.lookup(name.slice(0, bar));
      return parent?.subcommands?.some((s) => s.name === name.slice(bar + 1)) === true;
    },
  };
}
