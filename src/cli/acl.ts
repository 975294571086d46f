/**
 * `shoal acl setuser NAME RULES... | getuser NAME | deluser NAME... | list | users | whoami |
 * token add NAME | token remove NAME TOKEN-OR-ID`: a node's users, through its Redis port
 * (`--redis HOST:PORT`, `redis://HOST:PORT` or `rediss://HOST:PORT` for TLS; else the Redis port of
 * the node `--node` or $SHOAL_NODE names, as the other commands take it; else the first `shoal dev`
 * node's 127.0.0.1:7402), authenticated as `--user` with the password from
 * $SHOAL_PASSWORD, or by the bearer token in $SHOAL_TOKEN (never a flag: flags show in `ps`).
 * Users reach every node of the cluster from the one that changed them. `token add` makes the
 * token here and sends only its hash (src/security/acl-tokens.ts): the token is printed once.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { newToken, isToken, tokenHash } from '../security/acl-tokens.ts';
import type { Credentials } from '../protocol/index.ts';
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';
import { PORT_OFFSETS } from '../daemon/options.ts';
import { DEV_BASE_PORT } from './dev.ts';
import { answeredWithoutTls, LoginRefusedError, resolveCredentials, resolveNode, resolveTargetTls, TARGET_FLAGS } from './target.ts';

const USAGE = `Usage: shoal acl <setuser NAME RULES...|getuser NAME|deluser NAME...|list|users|whoami> [options]
       shoal acl token add NAME           (prints a new bearer token of NAME, once)
       shoal acl token remove NAME TOKEN  (or the token's id, as 'token add' printed it)

Manages the cluster's users (Redis 7.0 ACL rules, docs/SECURITY.md) through a node's Redis port.
The password of --user is read from $SHOAL_PASSWORD, or a bearer token from $SHOAL_TOKEN.
A password to give a user: 'setuser NAME ... --password-stdin' reads it from stdin, so it is not
on the command line, where ps shows it (as '>PASSWORD' would be).`;

/** The usage lines alone, shown under a usage error (--help shows the rest). */
const SYNOPSIS = USAGE.split('\n\n')[0]!;

/** Without --redis, --node or SHOAL_NODE: the first `shoal dev` node's Redis port. */
const DEFAULT_REDIS = `127.0.0.1:${DEV_BASE_PORT + PORT_OFFSETS['resp-port']}`;

const FLAGS: FlagSpecs = {
  redis: { kind: 'string', description: `a node's Redis port: HOST:PORT, redis://HOST:PORT, or rediss://HOST:PORT (TLS) (default: the Redis port of --node, else ${DEFAULT_REDIS})` },
  node: { kind: 'string', description: `a node's client port, as the other commands take it (env SHOAL_NODE): its Redis port is taken as that port + ${PORT_OFFSETS['resp-port']}, the default --resp-port; --redis overrides` },
  user: TARGET_FLAGS.user!,
  'tls-ca': { ...TARGET_FLAGS['tls-ca']!, description: 'talk TLS (rediss), trusting this PEM CA file (env SHOAL_TLS_CA)' },
  'tls-cert': TARGET_FLAGS['tls-cert']!,
  'tls-key': TARGET_FLAGS['tls-key']!,
  'password-stdin': { kind: 'boolean', description: 'setuser: add a password read from stdin (its first line), as the rule >PASSWORD, so it is never on the command line' },
  help: { kind: 'boolean', description: 'show this help' },
};

/** Flags that take no value (every other flag is `--name value` or `--name=value`). */
const BOOLEAN_FLAGS = new Set(['--help', '--password-stdin']);

/**
 * The Redis port to talk to: --redis; else that of the node --node or $SHOAL_NODE names, as every
 * other command finds its node (its client port + PORT_OFFSETS['resp-port'], with TLS when the node's address is wss://);
 * else the first `shoal dev` node's. Before, SHOAL_NODE was not read here, so beside another
 * cluster the users were changed on the one at 127.0.0.1:7402.
 */
export function redisAddress(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  if (flags.redis !== undefined) return String(flags.redis);
  if (flags.node === undefined && !env.SHOAL_NODE) return DEFAULT_REDIS;
  const node = resolveNode(flags, env);
  const colon = node.lastIndexOf(':');
  const tls = String(flags.node ?? env.SHOAL_NODE).startsWith('wss://');
  return `${tls ? 'rediss://' : ''}${node.slice(0, colon)}:${Number(node.slice(colon + 1)) + PORT_OFFSETS['resp-port']}`;
}

/** Where redisAddress found a port no --redis gave, for the message when nothing answers there. */
function derivedFrom(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  if (flags.redis !== undefined) return '';
  if (flags.node !== undefined) return `, --node's client port + ${PORT_OFFSETS['resp-port']}`;
  return env.SHOAL_NODE ? `, SHOAL_NODE's client port + ${PORT_OFFSETS['resp-port']}` : '';
}

/** `HOST:PORT`, `redis://HOST:PORT` or `rediss://HOST:PORT` -> host, port and whether TLS was asked for. */
export function parseRedisAddress(address: string): { host: string; port: number; tls: boolean } {
  const url = /^(rediss?):\/\/(.*?)\/?$/.exec(address);
  const hostPort = url === null ? address : url[2]!;
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(colon + 1));
  if (colon <= 0 || hostPort.includes('@') || hostPort.includes('/') || !/^\d{1,5}$/.test(hostPort.slice(colon + 1)) || port < 1 || port > 65535) {
    throw new UsageError(`--redis takes HOST:PORT, redis://HOST:PORT or rediss://HOST:PORT, not "${address}" (credentials come from $SHOAL_PASSWORD or $SHOAL_TOKEN, never the address)`);
  }
  return { host, port, tls: url?.[1] === 'rediss' };
}

const SUBCOMMANDS: Record<string, (n: number) => boolean> = {
  setuser: (n) => n >= 1,
  getuser: (n) => n === 1,
  deluser: (n) => n >= 1,
  list: (n) => n === 0,
  users: (n) => n === 0,
  whoami: (n) => n === 0,
  token: (n) => n === 2 || n === 3,
};

type Reply = string | number | null | Reply[] | { error: string };

export async function run(argv: string[]): Promise<number> {
  // Rules start with characters a flag parser might take for flags ('-@all'): only `--name value`
  // and `--name=value` are flags, everything else is the subcommand and its arguments.
  const flagArgs: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // `-h` is help, as for every command (no ACL rule is `-h`: there is no command `h`).
    if (a === '-h' || BOOLEAN_FLAGS.has(a)) flagArgs.push(a === '-h' ? '--help' : a);
    else if (!a.startsWith('--')) rest.push(a);
    else if (a.includes('=')) flagArgs.push(a);
    else flagArgs.push(a, argv[++i] ?? '');
  }
  const { flags } = parseArgs(flagArgs, FLAGS);
  if (flags.help === true) {
    process.stdout.write(formatHelp(USAGE, FLAGS));
    return 0;
  }
  const [sub, ...args] = rest;
  const known = Object.keys(SUBCOMMANDS).join(', ');
  if (sub === undefined) throw new UsageError(`expected a subcommand: one of ${known}\n${SYNOPSIS}`);
  if (!Object.hasOwn(SUBCOMMANDS, sub.toLowerCase())) throw new UsageError(`unknown subcommand "${sub}"; expected one of ${known}\n${SYNOPSIS}`);
  if (!SUBCOMMANDS[sub.toLowerCase()]!(args.length)) throw new UsageError(`wrong number of arguments for acl ${sub}\n${SYNOPSIS}`);
  const address = redisAddress(flags, process.env);
  const { host, port, tls: rediss } = parseRedisAddress(address);
  const tls = resolveTargetTls(flags, process.env, rediss);
  let command = ['ACL', sub.toUpperCase(), ...args];
  if (flags['password-stdin'] === true) {
    if (sub.toLowerCase() !== 'setuser') throw new UsageError('--password-stdin goes with acl setuser NAME [RULES...]');
    command.push(`>${await passwordFromStdin()}`);
  }
  let made: { token: string; hash: string } | null = null;
  if (sub.toLowerCase() === 'token') {
    const [action, name, given] = args;
    if (action === 'add' && given === undefined) {
      made = newToken();
      command = ['ACL', 'SETUSER', name!, `#${made.hash}`];
    } else if (action === 'remove' && given !== undefined) {
      const id = isToken(given) ? tokenHash(given) : given;
      if (!/^[0-9a-f]{64}$/.test(id)) throw new UsageError('acl token remove takes the token (shoal_...) or its id (64 hex digits, as token add printed it)');
      command = ['ACL', 'SETUSER', name!, `!${id}`];
    } else {
      throw new UsageError('expected acl token add NAME or acl token remove NAME TOKEN-OR-ID');
    }
  }
  const commands: string[][] = [];
  const login = resolveCredentials(flags, process.env);
  if (login?.password !== undefined) commands.push(['AUTH', login.username ?? 'default', login.password]);
  else if (login?.token !== undefined) commands.push(login.username === undefined ? ['AUTH', login.token] : ['AUTH', login.username, login.token]);
  commands.push(command);
  let replies: Reply[];
  try {
    replies = await exchange(host, port, commands, tls);
  } catch (error) {
    if (error instanceof NotRespError) {
      process.stderr.write(`shoal acl: ${address} is not a Redis (RESP) port: ${error.message}; give --redis a node's Redis port (its --resp-port, by default its client port + ${PORT_OFFSETS['resp-port']})\n`);
      return 1;
    }
    if (answeredWithoutTls(error)) {
      process.stderr.write(`shoal acl: ${address} does not speak TLS: the TLS handshake got a plain answer; give --redis redis://HOST:PORT or HOST:PORT (no --tls-ca / SHOAL_TLS_CA) for a Redis port without TLS\n`);
      return 1;
    }
    process.stderr.write(`shoal acl: cannot reach the Redis port at ${address}${derivedFrom(flags, process.env)} (${(error as Error).message}); give --redis HOST:PORT\n`);
    return 1;
  }
  for (const reply of replies) {
    if (reply !== null && typeof reply === 'object' && !Array.isArray(reply)) {
      process.stderr.write(`shoal acl: ${refusedLogin(reply.error, address, login) ?? (await explainTokenRemoval(reply.error, args, commands.slice(0, -1), host, port, tls))}\n`);
      return 1;
    }
  }
  if (made !== null) {
    // The token on stdout alone (for scripts); how to use and remove it on stderr.
    process.stdout.write(`${made.token}\n`);
    process.stderr.write(`a bearer token of ${args[1]}, shown this once (the cluster keeps its hash only); id ${made.hash}\n` + `use it as { token } in the SDK, AUTH ${args[1]} TOKEN (or AUTH TOKEN) on the Redis port, Authorization: Bearer TOKEN on the admin port\n` + `remove it with: shoal acl token remove ${args[1]} ${made.hash}\n`);
    return 0;
  }
  process.stdout.write(format(replies[replies.length - 1]!));
  return 0;
}

/**
 * A refused login says what to give, in the words of the other commands: NOAUTH (the node wants
 * credentials and none were given) and WRONGPASS (the ones given are wrong) name --user,
 * $SHOAL_PASSWORD and $SHOAL_TOKEN instead of Redis's bare error. Null for any other error.
 */
function refusedLogin(error: string, address: string, login: Credentials | null): string | null {
  if (error.startsWith('NOAUTH ')) return new LoginRefusedError(address, 'this node requires credentials', login).message;
  if (error.startsWith('WRONGPASS ')) return new LoginRefusedError(address, error.slice('WRONGPASS '.length).replace(/\.$/, ''), login).message;
  return null;
}

/** The first line of stdin (without its line end): a password given to --password-stdin. */
async function passwordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (one line, then Enter): ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  const password = text.split(/\r?\n/)[0]!;
  if (password === '') throw new UsageError('--password-stdin read no password: give it on stdin (printf %s "$PW" | shoal acl setuser NAME on --password-stdin)');
  return password;
}

/**
 * `token remove` runs ACL SETUSER NAME !ID, whose refusal of an id the user does not hold reads
 * "Error in ACL SETUSER modifier '!…': The password you are trying to remove from the user does not
 * exist": say instead which of user and token is missing (one ACL GETUSER tells). Other errors as they are.
 */
async function explainTokenRemoval(error: string, args: string[], login: string[][], host: string, port: number, tls: object | null): Promise<string> {
  const [action, name, given] = args;
  if (action !== 'remove' || name === undefined || given === undefined || !/you are trying to remove from the user does not exist/.test(error)) return error;
  const id = isToken(given) ? tokenHash(given) : given;
  let user: Reply | undefined;
  try {
    user = (await exchange(host, port, [...login, ['ACL', 'GETUSER', name]], tls)).at(-1);
  } catch {
    user = undefined;
  }
  if (user === null) return `there is no user "${name}" (\`shoal acl users\` lists them); nothing was removed`;
  return `user "${name}" holds no token with id ${id}; nothing was removed (give the id \`shoal acl token add\` printed, or the token itself)`;
}

function format(reply: Reply, indent = ''): string {
  if (reply === null) return `${indent}(nil)\n`;
  if (Array.isArray(reply)) return reply.map((r) => format(r, indent)).join('');
  return `${indent}${String(reply)}\n`;
}

/** What answered is not a Redis server: the message says what it answered instead. */
class NotRespError extends Error {
  override readonly name = 'NotRespError';
}

/** Sends RESP commands on one connection and reads one reply per command (bounded by a timeout). */
function exchange(host: string, port: number, commands: string[][], tls: object | null): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tls === null ? netConnect({ host, port }) : tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ...tls });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    let buffer = Buffer.alloc(0);
    const replies: Reply[] = [];
    socket.on(tls === null ? 'connect' : 'secureConnect', () => {
      for (const c of commands) socket.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        for (;;) {
          const parsed = parseReply(buffer, 0);
          if (parsed === null) break;
          replies.push(parsed.value);
          buffer = buffer.subarray(parsed.end);
        }
      } catch (error) {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
        return;
      }
      if (replies.length >= commands.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // Closed before every reply came (a server that hangs up on RESP): say so now, not after the timeout.
    socket.on('close', () => {
      clearTimeout(timer);
      if (replies.length < commands.length) reject(new Error('the connection closed before the answer'));
    });
  });
}

function parseReply(buf: Buffer, at: number): { value: Reply; end: number } | null {
  if (buf.length <= at) return null;
  const type = String.fromCharCode(buf[at]!);
  if (!'+-:_$*%'.includes(type)) {
    // A Shoal client, peer or admin port is HTTP (WebSocket): it answers RESP with an HTTP error.
    const text = buf.toString('latin1', at, at + 40).split(/[\r\n]/)[0]!;
    throw new NotRespError(/^HTTP\//.test(text) ? `it answered HTTP ("${text}"), as a Shoal node's client, peer or admin port does` : `it answered ${JSON.stringify(text)}, which is no RESP reply`);
  }
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: { error: line }, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '_':
      return { value: null, end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*':
    case '%': {
      const n = Number(line) * (type === '%' ? 2 : 1);
      if (n < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (item === null) return null;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      return null; // not reached: the type was checked above
  }
}
