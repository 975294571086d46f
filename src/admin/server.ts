/**
 * The admin port (`--admin-port`, default client port + 3): plain HTTP (HTTPS with the client
 * port's TLS settings) for the people and tools that watch a node: health probes, status and ring
 * as JSON, Prometheus metrics, the dashboard. Edge code: it reads the node, it never drives it.
 *
 * Each feature contributes routes (an `AdminRoute` per path). GET and HEAD only; anything else is
 * 405, an unknown path is 404 with the list of paths, so `curl host:port/` explains the port.
 *
 * Access: while the cluster's default user needs no password and may run INFO (a fresh or
 * loopback node), anyone who reaches the port may read it, as with the other ports, provided the
 * request's Host names the node (DNS rebinding: host-check.ts). Once the
 * default user has a password, is off or may not run INFO, every route except the health probes asks for HTTP Basic credentials (or a bearer token) of an ACL user
 * allowed the `admin` category (or the INFO command): Prometheus's `basic_auth` and any browser
 * speak it. Failed attempts count against the address like AUTH (src/security/auth-guard.ts).
 * Connections count against --admin-max-clients and --max-clients-per-address (connection-gate.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { Logger } from '../runtime/env.ts';
import { ADMIN_ACCESS, commandAllowed, type AclStore, type AclUser } from '../security/acl.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import type { ConnectionLimitsConfig } from '../security/limits.ts';
import type { OriginPolicy } from '../security/origins.ts';
import { gateConnections } from './connection-gate.ts';
import { hostGuard } from './host-check.ts';

export interface AdminCall {
  readonly path: string;
  readonly query: URLSearchParams;
  /** The authenticated user, or null when the port is open (no password needed). */
  readonly user: AclUser | null;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
}

export interface AdminRoute {
  /** The exact path served (`/metrics`); a path ending in `/` serves everything under it. */
  readonly path: string;
  /** One line for the index of paths. */
  readonly description: string;
  /** Served without credentials even when the port asks for them (liveness and readiness probes). */
  readonly open?: boolean;
  handle(call: AdminCall): void | Promise<void>;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  routes: readonly AdminRoute[];
  log: Logger;
  /** HTTPS with these options; null for plain HTTP. */
  tls: TlsOptions | null;
  /** Users; null: the port is open (tests, a MemoryKv server). */
  acl: AclStore | null;
  authGuard: AuthGuard | null;
  /** Whose Host is served without credentials: the node's own names, and --allowed-origins (host-check.ts). */
  origins: OriginPolicy;
  /** --admin-max-clients and --max-clients-per-address, counted for this port alone. */
  connectionLimits: ConnectionLimitsConfig;
}

export interface AdminServer {
  readonly port: number;
  /** Swaps the certificate (TLS reload); absent on plain HTTP. */
  readonly setSecureContext?: (options: TlsOptions) => void;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(response, status, `${JSON.stringify(body, null, 2)}\n`, 'application/json; charset=utf-8', headers);
}

/**
 * A yes/no query parameter (`?local=1`): true or 1, false or 0; absent is false. Anything else
 * (`?local=yes`, a bare `?local`) is answered 400 here, and the result is undefined: the route stops.
 */
export function flagParam(query: URLSearchParams, name: string, response: ServerResponse): boolean | undefined {
  const text = query.get(name);
  if (text === null || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  sendJson(response, 400, { error: `${name} must be true, false, 1 or 0, got ${JSON.stringify(text)}` });
  return undefined;
}

export function send(response: ServerResponse, status: number, body: string | Uint8Array, contentType: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/**
 * Requests one connection is served; later ones are answered 503 unrun, with `Connection: close`
 * on the last served (Node's maxRequestsPerSocket). Node starts every request of a read at once,
 * whether the client reads the answers or not: one connection pipelining 1,000 `GET /metrics`
 * (34 bytes each) had the node render and hold 1,000 pages of some 30 KB
 * (test/integration/admin-abuse.test.ts). Prometheus, curl and browsers reconnect on close.
 */
export const ADMIN_MAX_REQUESTS_PER_CONNECTION = 32;

/** What every request of one port is checked with. */
interface Port {
  readonly options: AdminServerOptions;
  /** Longest path first. */
  readonly routes: readonly AdminRoute[];
  /** Why a request's Host may not be served without credentials (host-check.ts), or null. */
  readonly foreignHost: (request: IncomingMessage) => string | null;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const port: Port = {
    options,
    routes: [...options.routes].sort((a, b) => b.path.length - a.path.length),
    foreignHost: hostGuard(options.origins, options.tls === null ? 'http' : 'https', options.log),
  };
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    void serve(port, request, response).catch((error: unknown) => {
      options.log.error({ err: error, path: request.url }, 'admin request failed');
      send(response, 500, `${(error as Error).message}\n`, 'text/plain; charset=utf-8');
    });
  };
  const server: Server = options.tls === null ? createHttpServer(handler) : createHttpsServer(options.tls, handler);
  server.maxRequestsPerSocket = ADMIN_MAX_REQUESTS_PER_CONNECTION;
  const closeRefused = gateConnections(server, options.connectionLimits, options.tls !== null, options.log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    ...(options.tls === null ? {} : { setSecureContext: (context: TlsOptions) => (server as unknown as { setSecureContext(o: TlsOptions): void }).setSecureContext(context) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        closeRefused();
      }),
  };
}

/**
 * The request target as a URL: a path (`/ring?partitions=1`; `//x` is a path, not a host), or the
 * absolute form HTTP/1.1 servers must take (`http://host/status`); null when it is neither (`*`,
 * `http://a:99999/`), which `new URL` threw on, a 500 and a logged stack trace.
 */
function requestUrl(target: string): URL | null {
  try {
    return new URL(target.startsWith('/') ? `http://admin${target}` : target);
  } catch {
    return null;
  }
}

async function serve({ options, routes, foreignHost }: Port, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = requestUrl(request.url ?? '/');
  if (url === null) {
    sendJson(response, 400, { error: `the request target is not a path or a URL: ${JSON.stringify(request.url?.slice(0, 200))}` });
    return;
  }
  const path = url.pathname;
  const route = routes.find((r) => (r.path.endsWith('/') && r.path !== '/' ? path.startsWith(r.path) : path === r.path));
  if (route === undefined) {
    sendJson(response, 404, { error: `no such path: ${path}`, paths: Object.fromEntries([...routes].sort((a, b) => (a.path < b.path ? -1 : 1)).map((r) => [r.path, r.description])) });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendJson(response, 405, { error: `${path} answers GET and HEAD only` }, { allow: 'GET, HEAD' });
    return;
  }
  // Health probes answer anyone, by any name (a load balancer's check by a service name); they show no keys.
  const openPort = options.acl === null || openToAnyone(options.acl);
  if (!route.open && openPort) {
    const refusal = foreignHost(request);
    if (refusal !== null) {
      sendJson(response, 403, { error: refusal });
      return;
    }
  }
  let user: AclUser | null = null;
  if (!route.open && !openPort) {
    const outcome = await authenticate(options, request);
    if (typeof outcome === 'string') {
      sendJson(response, outcome === RATE_LIMITED ? 429 : 401, { error: outcome }, { 'www-authenticate': 'Basic realm="shoal", charset="UTF-8"' });
      return;
    }
    if (!commandAllowed(outcome, ADMIN_ACCESS)) {
      // Authenticated, not allowed: 403, not 401, which would make a browser ask for the same
      // credentials again and again.
      sendJson(response, 403, { error: `user ${outcome.name} may not read the admin port: it needs INFO (+@admin)` });
      return;
    }
    user = outcome;
  }
  await route.handle({ path, query: url.searchParams, user, request, response });
}

/**
 * Whether the port needs no credentials: the default user needs no password and may run INFO. A
 * default user without a password but kept from INFO (`ACL SETUSER default -@all +get ~public:*`,
 * anonymous clients allowed a little) is no reason to show anyone the key names of /hotkeys.
 */
function openToAnyone(acl: AclStore): boolean {
  if (acl.requiresAuth) return false;
  const anonymous = acl.get('default');
  return anonymous !== undefined && commandAllowed(anonymous, ADMIN_ACCESS);
}

const RATE_LIMITED = 'too many failed authentication attempts from this address, try again later';

/** The user named by HTTP Basic credentials or a token, or why not (a message for the 401/429 answer); what the user may do is the caller's check. */
async function authenticate(options: AdminServerOptions, request: IncomingMessage): Promise<AclUser | string> {
  const header = request.headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  // Or a bearer token (src/security/acl-tokens.ts), which names its user.
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null && bearer === null) return 'credentials needed: HTTP Basic with an ACL user allowed INFO (+@admin), or Authorization: Bearer TOKEN of such a user';
  const host = request.socket.remoteAddress ?? 'unknown';
  if (options.authGuard !== null && !options.authGuard.mayTry(host)) return RATE_LIMITED;
  let name = '(token)';
  let result;
  if (match !== null) {
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    name = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    result = await options.acl!.authenticate(name, password);
  } else {
    result = options.acl!.authenticateToken(bearer![1]!);
    if (result.ok) name = result.user.name;
  }
  if (!result.ok) {
    options.authGuard?.failed(host);
    options.log.warn({ user: name, address: host, listener: 'admin' }, 'authentication failed');
    return 'invalid username-password pair or user is disabled';
  }
  return result.user;
}
