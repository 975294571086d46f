/**
 * How the client commands (`status`, `ring`, `get`, `set`, `del`, `hotkeys`, `stats`) find a node
 * and log in: `--node HOST:PORT`, else `SHOAL_NODE`, else the first node `shoal dev` starts; TLS
 * from --tls-* or SHOAL_TLS_*; `--user` with the password in $SHOAL_PASSWORD, or a bearer token in
 * $SHOAL_TOKEN (`shoal acl` logs in the same way). `startTargetCommand` is their common start. And
 * the errors they all give when nothing answers there, or when the node refuses the login.
 */
import { createRequire } from 'node:module';
import type WsWebSocket from 'ws';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AuthenticationError, connect, ConnectionError, stringCodec, type ClientTlsOptions, type ShoalClient, type ValueCodec } from '../client/index.ts';
import { CLIENT_ENDPOINT_PATH, NODE_ENDPOINT_PATH, upgradeCertificateRefusal, type Credentials, type NodeStatus, type ReplyResult } from '../protocol/index.ts';
import { formatHelp, parseArgs, UsageError, type FlagSpecs, type Parsed } from './args.ts';
import { DEV_BASE_PORT } from './dev.ts';
import { askNode, NodeRefusedError, type OneAdminRequest } from '../daemon/ask-node.ts';
import { parseHostPort } from '../daemon/seeds.ts';
import { PORT_OFFSETS } from '../daemon/options.ts';

// `ws` through require: its ESM wrapper costs a measurable share of a `shoal status` call's start-up
// (bench/cli), and the CLI should answer fast (src/client/index.ts does the same).
const WebSocket = createRequire(import.meta.url)('ws') as typeof WsWebSocket;

export const DEFAULT_NODE = `127.0.0.1:${DEV_BASE_PORT}`;

/** How long a command waits for a node to answer (3 s): it is on loopback or a LAN. */
export const COMMAND_TIMEOUT_MS = 3000;

/** The flags every client command takes. */
export const TARGET_FLAGS: FlagSpecs = {
  node: { kind: 'string', description: 'a node\'s client port: HOST:PORT, ws://HOST:PORT/shoal or wss://HOST:PORT/shoal (env SHOAL_NODE)', default: DEFAULT_NODE },
  'tls-ca': { kind: 'string', description: 'talk TLS (wss), trusting this PEM CA file (env SHOAL_TLS_CA)' },
  'tls-cert': { kind: 'string', description: 'PEM client certificate, for a node that requires one (env SHOAL_TLS_CERT)' },
  'tls-key': { kind: 'string', description: 'PEM private key of --tls-cert (env SHOAL_TLS_KEY)' },
  user: { kind: 'string', description: 'the user to log in as, with its password in $SHOAL_PASSWORD (or a bearer token in $SHOAL_TOKEN alone)', default: 'default' },
  json: { kind: 'boolean', description: 'print JSON instead of a table' },
  help: { kind: 'boolean', description: 'show this help' },
};

/** Nothing answered at the node's address: a message that says how to get a node running. */
export class NoNodeError extends Error {
  override readonly name = 'NoNodeError';
  constructor(
    readonly node: string,
    options?: { cause?: unknown },
  ) {
    super(noNodeMessage(node, options?.cause), options);
  }
}

/** `--node` names a node's node-to-node port: a Shoal node answers there, but not to clients. */
export class PeerPortError extends Error {
  override readonly name = 'PeerPortError';
  constructor(readonly node: string) {
    super(`${node} is a Shoal node's node-to-node (peer) port, not its client port; point --node at the node's client port (its --port; \`shoal status\` lists both, as CLIENTS and PEERS)`);
  }
}

/**
 * Whether a TLS handshake failed because the other side answered without TLS: OpenSSL reads a
 * plain reply (HTTP, RESP) as a record of an unknown version. Then no CA would help: the port is
 * not a TLS port.
 */
export function answeredWithoutTls(error: unknown): boolean {
  const c = rootCause(error);
  return c instanceof Error && ((c as NodeJS.ErrnoException).code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(c.message));
}

/** Nothing answered, or (when the cause is a certificate problem) TLS failed: say which, and what to give. */
function noNodeMessage(node: string, cause: unknown): string {
  const c = rootCause(cause);
  const refusal = targetTls === null ? null : upgradeCertificateRefusal(c, targetTls.cert !== undefined);
  if (refusal?.kind === 'certificate-required') return `${node} requires a client certificate: give --tls-cert and --tls-key (or SHOAL_TLS_CERT and SHOAL_TLS_KEY)`;
  if (refusal !== null) return `${node} refused the client certificate (--tls-cert): it must be signed by the node's --tls-ca and not expired; the node's log says why`;
  const code = c instanceof Error ? String((c as NodeJS.ErrnoException).code ?? '') : '';
  if (answeredWithoutTls(cause)) {
    return `${node} does not speak TLS: the TLS handshake got a plain answer; drop --tls-ca / SHOAL_TLS_CA (and wss://) to talk to it without TLS, or point --node at a node that uses TLS`;
  }
  if (c instanceof Error && (/^(ERR_TLS|ERR_SSL|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO|CERT_)/.test(code) || /certificate|ssl/i.test(c.message))) {
    // OpenSSL's texts end with a newline and name its source files: one line, its first part.
    return `TLS with ${node} failed (${c.message.trim().replace(/\s+/g, ' ')}): give the node's CA with --tls-ca (or SHOAL_TLS_CA), and --tls-cert/--tls-key if it requires a client certificate`;
  }
  // A TLS port cuts off a plain WebSocket handshake.
  if (code === 'ECONNRESET' && targetTls === null) return `no Shoal node answered plain WebSocket at ${node} (ECONNRESET); if the node uses TLS, give --tls-ca (or SHOAL_TLS_CA) or a wss:// address`;
  return `no Shoal node at ${node}${detail(cause)} — start one with \`npm start\` (or point --node / SHOAL_NODE at a running node)`;
}

function rootCause(cause: unknown): unknown {
  let c = cause;
  while (c instanceof Error && c.cause instanceof Error) c = c.cause;
  return c;
}

/** The root cause's code or message, in parentheses: "(ECONNREFUSED)". */
function detail(cause: unknown): string {
  const c = rootCause(cause);
  if (!(c instanceof Error)) return '';
  const code = (c as NodeJS.ErrnoException).code;
  return ` (${typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : c.message})`;
}

/** TLS for the commands' connections (set by resolveNode from the flags and SHOAL_TLS_*), or null: plain ws. */
let targetTls: ClientTlsOptions | null = null;

/** The TLS the commands dial with (after resolveNode), or null: plain ws. */
export function targetTlsOptions(): ClientTlsOptions | null {
  return targetTls;
}

/** Sets the TLS the commands dial with (`shoal dev --tls` sets its CA for its own status checks). */
export function setTargetTls(tls: ClientTlsOptions | null): void {
  targetTls = tls;
}

/** The variables the client commands read, beside SHOAL_NODE. */
export const TARGET_TLS_ENV = { 'tls-ca': 'SHOAL_TLS_CA', 'tls-cert': 'SHOAL_TLS_CERT', 'tls-key': 'SHOAL_TLS_KEY' } as const;

function readTlsFile(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, name: keyof typeof TARGET_TLS_ENV): string | undefined {
  const fromFlag = flags[name];
  const path = typeof fromFlag === 'string' ? fromFlag : env[TARGET_TLS_ENV[name]] || undefined;
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const by = typeof fromFlag === 'string' ? `--${name}` : TARGET_TLS_ENV[name];
    throw new UsageError(`cannot read ${path} (given by ${by}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** TLS settings from --tls-ca/--tls-cert/--tls-key or SHOAL_TLS_*; `wss://` alone means the system's CAs. */
export function resolveTargetTls(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, wss: boolean): ClientTlsOptions | null {
  const ca = readTlsFile(flags, env, 'tls-ca');
  const cert = readTlsFile(flags, env, 'tls-cert');
  const key = readTlsFile(flags, env, 'tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together (a client certificate and its key)');
  if (ca === undefined && cert === undefined && !wss) return null;
  return { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert, key }) };
}

/** The variables holding a command's secrets: never flags, which other users of the machine see in `ps`. */
export const CREDENTIAL_ENV = { password: 'SHOAL_PASSWORD', token: 'SHOAL_TOKEN' } as const;

/**
 * The login from --user and $SHOAL_PASSWORD, or $SHOAL_TOKEN (a bearer token names its user; with
 * --user, that user's token only); null when neither variable is set. A password is `default`'s
 * unless --user names another user.
 */
export function resolveCredentials(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Credentials | null {
  const user = typeof flags.user === 'string' ? flags.user : undefined;
  const password = env[CREDENTIAL_ENV.password] || undefined;
  const token = env[CREDENTIAL_ENV.token] || undefined;
  if (password !== undefined) return { username: user ?? 'default', password };
  if (token !== undefined) return { token, ...(user === undefined ? {} : { username: user }) };
  if (user !== undefined) throw new UsageError(`--user ${user} needs its password in $${CREDENTIAL_ENV.password} (or a bearer token in $${CREDENTIAL_ENV.token})`);
  return null;
}

/** The login the commands send (set by resolveNode from --user and the environment), or null. */
let targetCredentials: Credentials | null = null;

export function targetLogin(): Credentials | null {
  return targetCredentials;
}

/** The node refused the login (wrong or missing credentials): what to give. */
export class LoginRefusedError extends Error {
  override readonly name = 'LoginRefusedError';
  /** `login`: the credentials the command gave (those of the client commands unless told). */
  constructor(node: string, reason: string, login: Credentials | null = targetCredentials) {
    // The node's reason may end in the SDK's advice ("give { username, password } ... in the client
    // options"): a CLI user has no client options, and the CLI's own advice follows.
    const why = reason.replace(/:\s*give [^:]*\bclient options\.?$/, '');
    super(
      `${node} refused the login: ${why}. ` +
        (login === null
          ? `Give --user NAME with the password in $${CREDENTIAL_ENV.password}, or a bearer token in $${CREDENTIAL_ENV.token}`
          : `Check --user and $${login.token === undefined ? CREDENTIAL_ENV.password : CREDENTIAL_ENV.token}`),
    );
  }
}

/**
 * The start of every client command: its flags and arguments, or null after printing --help; the
 * node to talk to, with the TLS and the login the commands will use (see resolveNode).
 */
export function startTargetCommand(argv: readonly string[], usage: string, specs: FlagSpecs = TARGET_FLAGS): (Parsed & { node: string }) | null {
  const { flags, positionals } = parseArgs(argv, specs);
  if (flags.help) {
    process.stdout.write(formatHelp(usage, specs));
    return null;
  }
  return { flags, positionals, node: resolveNode(flags) };
}

/**
 * The `host:port` of the node to talk to. Takes `HOST:PORT` or, as the SDK's seeds do, the client
 * endpoint's URL: `ws://HOST:PORT` or `ws://HOST:PORT/shoal`.
 */
export function resolveNode(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string {
  const given = String(flags.node ?? (env.SHOAL_NODE || DEFAULT_NODE));
  // Name where a bad address came from: the flag, or the variable.
  const source = flags.node === undefined && env.SHOAL_NODE ? 'SHOAL_NODE' : '--node';
  const wss = given.startsWith('wss://');
  const node = given.startsWith('ws://') || wss ? fromUrl(given) : given;
  if (node === null || (!/^[^\s/:]+:\d+$/.test(node) && !/^\[[0-9a-f:]+\]:\d+$/i.test(node))) {
    throw new UsageError(`${source} "${given}" is not HOST:PORT or ws(s)://HOST:PORT${CLIENT_ENDPOINT_PATH} (the client port of a node, like ${DEFAULT_NODE})`);
  }
  const problem = parseHostPort(node).problem;
  if (problem !== undefined) throw new UsageError(`${source} "${given}" ${problem} (give the client port of a node, like ${DEFAULT_NODE})`);
  targetTls = resolveTargetTls(flags, env, wss);
  targetCredentials = resolveCredentials(flags, env);
  return node;
}

/** `ws://HOST:PORT[/shoal]` -> `HOST:PORT`; null for another path, no port, or not a URL. */
function fromUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const pathOk = url.pathname === '/' || url.pathname === CLIENT_ENDPOINT_PATH || url.pathname === `${CLIENT_ENDPOINT_PATH}/`;
  // `URL` drops a default port (ws://host:80 has port ''), so the port is read from the text.
  const port = /^wss?:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)(?:[/?#]|$)/.exec(text)?.[1];
  if (!pathOk || url.search !== '' || url.hash !== '' || url.username !== '' || port === undefined) return null;
  return `${url.hostname}:${port}`;
}

/** An SDK client for string values, or NoNodeError when the node does not answer. */
export async function connectTo(node: string): Promise<ShoalClient<string>>;
export async function connectTo<V>(node: string, codec: ValueCodec<V>): Promise<ShoalClient<V>>;
export async function connectTo(node: string, codec: ValueCodec<unknown> = stringCodec): Promise<ShoalClient<unknown>> {
  try {
    return await connect({ seeds: [node], ...(targetTls === null ? {} : { tls: targetTls }), ...(targetCredentials === null ? {} : { credentials: targetCredentials }), codec, connectTimeoutMs: COMMAND_TIMEOUT_MS, commandTimeoutMs: COMMAND_TIMEOUT_MS, reconnect: false, clientName: 'shoal-cli' });
  } catch (error) {
    const refused = refusedLogin(error);
    if (refused !== null) throw new LoginRefusedError(node, refused);
    if (error instanceof ConnectionError) throw await explainNoNode(new NoNodeError(node, { cause: error }));
    throw error;
  }
}

/** The node's reason when `error` (or one of its causes) is its refusal of the login, else null. */
function refusedLogin(error: unknown): string | null {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof AuthenticationError) return e.reason;
  }
  return null;
}

/**
 * A server that refused the client endpoint's upgrade may be a node's peer port (a common mix-up:
 * `shoal status` and the seeds show both ports). One upgrade at the node-to-node path tells, and
 * the more useful error replaces the general one.
 */
async function explainNoNode(error: NoNodeError): Promise<Error> {
  const cause = rootCause(error.cause);
  if (!(cause instanceof Error)) return error;
  // Something answered the WebSocket upgrade, but not as HTTP: a node's Redis port answers in RESP.
  if ((cause as NodeJS.ErrnoException).code === 'HPE_INVALID_CONSTANT' || cause.message.startsWith('Parse Error')) {
    const resp = await askResp(error.node);
    return resp === null ? error : new WrongPortError(error.node, 'Redis (RESP)', resp.clientPort === null ? { offset: PORT_OFFSETS['resp-port'] } : { port: resp.clientPort });
  }
  if (!cause.message.startsWith('Unexpected server response')) return error;
  if (await acceptsNodeUpgrade(error.node)) return new PeerPortError(error.node);
  return (await isAdminPort(error.node)) ? new WrongPortError(error.node, 'admin (HTTP)', { offset: PORT_OFFSETS['admin-port'] }) : error;
}

/**
 * `--node` names another port of a running node (its Redis or admin port): say which, and where its
 * client port is: as the node told (`port`), or where it is by default (`offset` below: the RESP
 * port and the admin port are --port + their PORT_OFFSETS).
 */
export class WrongPortError extends Error {
  override readonly name = 'WrongPortError';
  constructor(node: string, what: string, client: { port: number } | { offset: number }) {
    const { host, port } = splitHostPort(node);
    const at = (p: number) => `${host.includes(':') ? `[${host}]` : host}:${p}`;
    const where = 'port' in client ? `, ${at(client.port)}` : port - client.offset >= 1 ? `, by default ${at(port - client.offset)}` : '';
    super(`${node} is a Shoal node's ${what} port, not its client port; point --node at the node's client port (its --port${where}; \`shoal status\` lists it as CLIENTS)`);
  }
}

function splitHostPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(':');
  return { host: node.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(node.slice(colon + 1)) };
}

/**
 * Whether `node` answers RESP as a Shoal node's Redis port does, and its client port when it says
 * (`INFO shoal` has client_port; a node that wants a login answers NOAUTH, RESP all the same); null
 * when it does not answer RESP.
 */
function askResp(node: string): Promise<{ clientPort: number | null } | null> {
  const { host, port } = splitHostPort(node);
  return new Promise((resolve) => {
    const socket = targetTls === null ? netConnect({ host, port }) : tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...wsTls() });
    let answer = '';
    const done = (result: { clientPort: number | null } | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(answer === '' ? null : /^[-+$]/.test(answer) ? { clientPort: null } : null), COMMAND_TIMEOUT_MS);
    socket.once(targetTls === null ? 'connect' : 'secureConnect', () => socket.write('*2\r\n$4\r\nINFO\r\n$5\r\nshoal\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.startsWith('-') || answer.startsWith('+')) return done({ clientPort: null });
      if (!answer.startsWith('$')) return done(null);
      const clientPort = /\r\nclient_port:(\d+)\r\n/.exec(answer)?.[1];
      if (clientPort !== undefined) return done({ clientPort: Number(clientPort) });
      const length = /^\$(\d+)\r\n/.exec(answer)?.[1];
      if (answer.length > 65_536 || (length !== undefined && answer.length >= Number(length) + length.length + 5)) done({ clientPort: null });
    });
    socket.once('error', () => done(null));
    socket.once('close', () => done(answer !== '' && /^[-+$]/.test(answer) ? { clientPort: null } : null));
  });
}

/** Whether `node` is a Shoal admin port: its answer to an unknown path lists the admin paths (/readyz among them). */
function isAdminPort(node: string): Promise<boolean> {
  return new Promise((resolve) => {
    const url = `${targetTls === null ? 'http' : 'https'}://${node}${CLIENT_ENDPOINT_PATH}`;
    const request = (targetTls === null ? httpGet : httpsGet)(url, { timeout: COMMAND_TIMEOUT_MS, ...wsTls() }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 65_536) body += chunk;
      });
      response.on('end', () => {
        try {
          const paths = (JSON.parse(body) as { paths?: unknown }).paths;
          resolve(typeof paths === 'object' && paths !== null && Object.hasOwn(paths, '/readyz'));
        } catch {
          resolve(false);
        }
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

const scheme = (): 'ws' | 'wss' => (targetTls === null ? 'ws' : 'wss');
/** The TLS settings as `ws`'s options (ws hands them to tls.connect). */
const wsTls = (): object => targetTls ?? {};

function acceptsNodeUpgrade(node: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${scheme()}://${node}${NODE_ENDPOINT_PATH}`, { handshakeTimeout: COMMAND_TIMEOUT_MS, perMessageDeflate: false, ...wsTls() });
    socket.once('open', () => {
      resolve(true);
      socket.terminate();
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * One `status` request to one node over a raw connection. The status op is an operator request
 * answered by the receiving node about itself, so it does not go through the SDK's key routing.
 */
export async function fetchStatus(node: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<NodeStatus> {
  return (await askTarget(node, { op: 'status' }, 'status', timeoutMs)).status;
}

/**
 * One operator request (`status`, `drain`) to one node, with the commands' TLS and login; nothing
 * answering is a NoNodeError (or the PeerPortError it turns out to be), a refused login a
 * LoginRefusedError.
 */
export async function askTarget<K extends ReplyResult['kind']>(node: string, request: OneAdminRequest, kind: K, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Extract<ReplyResult, { kind: K }>> {
  try {
    return await askNode(node, request, kind, {
      timeoutMs,
      tls: targetTls,
      credentials: targetCredentials,
      client: 'shoal-cli',
      unreachable: (cause) => new NoNodeError(node, { cause }),
      loginRefused: (reason) => new LoginRefusedError(node, reason),
    });
  } catch (error) {
    if (error instanceof NodeRefusedError && error.code === 'forbidden') throw new OperatorOnlyError(node, error.op, error.reason);
    throw error instanceof NoNodeError ? await explainNoNode(error) : error;
  }
}

/**
 * The node refused an operator request (`status`, `drain`) to the user logged in: one line with
 * the node's NOPERM and who may. Status shows what INFO and the admin port show (every member's
 * address, counters, the top key prefixes of all traffic), so it needs what they need.
 */
export class OperatorOnlyError extends Error {
  override readonly name = 'OperatorOnlyError';
  constructor(node: string, op: string, reason: string) {
    const who = targetCredentials === null ? 'the default user' : targetCredentials.username !== undefined ? `user ${targetCredentials.username}` : "the token's user";
    const needs = op === 'status' ? 'a user allowed INFO (+@admin), as the admin port' : 'a user with +@admin';
    super(`${node} refused ${op} to ${who}: ${reason}; it is for operators: log in as ${needs} with --user NAME and $${CREDENTIAL_ENV.password}, or its token in $${CREDENTIAL_ENV.token}`);
  }
}
