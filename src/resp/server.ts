/**
 * The RESP listener: a TCP server whose connections speak Redis to a node's keyspace.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { DEFAULT_MAX_VALUE_BYTES } from '../protocol/limits.ts';
import type { KeyspaceService } from '../replication/api.ts';
import type { Logger } from '../runtime/env.ts';
import type { CommandSpec, ConnectionState, KeyspaceStats, RespServerContext } from './command.ts';
import { CommandTable } from './commands.ts';
import { DEFAULT_CONNECTION_LIMITS, RespConnection, type ConnectionLimits } from './connection.ts';
import { RespServerState } from './server-state.ts';
import type { ClusterView } from './cluster-view.ts';
import { createRouter } from './redirect.ts';

/** Redis's maxclients default; INFO reports it. */
export const MAX_CLIENTS = 10_000;

export interface RespServerOptions {
  keyspace: KeyspaceService;
  /** Port to listen on; 0 picks a free one (see `RespServer.port`). */
  port: number;
  host?: string;
  /** Wall time in ms; the daemon passes its environment's clock. Default Date.now. */
  nowMs?: () => number;
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
  /** Per-connection limits; see ConnectionLimits. */
  limits?: Partial<ConnectionLimits>;
  /** The command table; default every command module's commands. */
  commands?: CommandTable;
  /** Where a command that throws (a bug) is reported; the client gets an error reply either way. */
  log?: Logger;
  /** TLS (as `redis-server --tls-port`): connections must start with a TLS handshake. Default none: plain TCP. */
  tls?: TlsOptions | null;
}

export interface RespServer {
  readonly host: string;
  readonly port: number;
  readonly context: RespServerContext;
  readonly state: RespServerState;
  /** Swaps the TLS certificate for new connections (open ones keep theirs); absent without TLS. */
  setSecureContext?: (options: SecureContextOptions) => void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

export async function startRespServer(options: RespServerOptions): Promise<RespServer> {
  const nowMs = options.nowMs ?? (() => Date.now());
  const table = options.commands ?? new CommandTable();
  // No argument can be longer than Shoal's largest value (a key is smaller still), so longer ones
  // are refused as they arrive instead of being buffered up to Redis's 512 MB.
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, maxArgumentBytes: DEFAULT_MAX_VALUE_BYTES, ...options.limits };
  const host = options.host ?? '127.0.0.1';
  const route = options.route ?? (options.cluster === undefined ? () => null : createRouter(options.cluster));
  const stats: KeyspaceStats = { keyspaceHits: 0, keyspaceMisses: 0 };
  const sockets = new Set<Socket>();
  const state = new RespServerState(table, nowMs(), nowMs, options.describe);
  state.log = options.log;

  const context: RespServerContext = {
    keyspace: options.keyspace,
    nowMs,
    topology: () => options.keyspace.topology(),
    route,
    stats,
    state,
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
  };

  const onConnection = (socket: Socket): void => {
    if (state.clients.size >= MAX_CLIENTS) {
      // Redis's maxclients (10000 by default), with its text.
      state.rejectedConnections++;
      socket.on('error', () => socket.destroy());
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    sockets.add(socket);
    state.totalConnections++;
    const connection = new RespConnection(socket, context, state!, table, limits, (closed) => {
      sockets.delete(socket);
      state.clients.delete(closed.id);
    });
    state.clients.set(connection.id, connection);
  };
  const tls = options.tls ?? null;
  let server: Server;
  if (tls === null) {
    server = createServer(onConnection);
  } else {
    const secure = createTlsServer(tls, onConnection);
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

  return {
    host,
    port,
    context,
    state,
    ...(tls === null ? {} : { setSecureContext: (o: SecureContextOptions) => (server as ReturnType<typeof createTlsServer>).setSecureContext(o) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
