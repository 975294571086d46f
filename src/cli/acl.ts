/**
 * `shoal acl setuser NAME RULES... | getuser NAME | deluser NAME... | list | users | whoami`: a
 * node's users, through its Redis port (`--redis HOST:PORT`, default the first `shoal dev` node's
 * 127.0.0.1:7402), authenticated as `--user` with the password from $SHOAL_PASSWORD (never a flag:
 * flags show in `ps`). Users reach every node of the cluster from the one that changed them.
 */
import { connect as netConnect } from 'node:net';
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';
import { DEV_BASE_PORT } from './dev.ts';

const USAGE = `Usage: shoal acl <setuser NAME RULES...|getuser NAME|deluser NAME...|list|users|whoami> [options]

Manages the cluster's users (Redis 7.0 ACL rules, docs/SECURITY.md) through a node's Redis port.
The password of --user is read from $SHOAL_PASSWORD.`;

const FLAGS: FlagSpecs = {
  redis: { kind: 'string', description: "a node's Redis port, HOST:PORT", default: `127.0.0.1:${DEV_BASE_PORT + 2}` },
  user: { kind: 'string', description: 'the user to authenticate as (with $SHOAL_PASSWORD)', default: 'default' },
  help: { kind: 'boolean', description: 'show this help' },
};

const SUBCOMMANDS: Record<string, (n: number) => boolean> = {
  setuser: (n) => n >= 1,
  getuser: (n) => n === 1,
  deluser: (n) => n >= 1,
  list: (n) => n === 0,
  users: (n) => n === 0,
  whoami: (n) => n === 0,
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
    if (a === '-h' || a === '--help') flagArgs.push('--help');
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
  if (sub === undefined || !Object.hasOwn(SUBCOMMANDS, sub.toLowerCase())) throw new UsageError(`expected one of ${Object.keys(SUBCOMMANDS).join(', ')}`);
  if (!SUBCOMMANDS[sub.toLowerCase()]!(args.length)) throw new UsageError(`wrong number of arguments for acl ${sub}`);
  const address = String(flags.redis);
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port)) throw new UsageError(`--redis takes HOST:PORT, not "${address}"`);
  const commands: string[][] = [];
  const password = process.env.SHOAL_PASSWORD;
  if (password !== undefined) commands.push(['AUTH', String(flags.user), password]);
  commands.push(['ACL', sub.toUpperCase(), ...args]);
  let replies: Reply[];
  try {
    replies = await exchange(host, port, commands);
  } catch (error) {
    process.stderr.write(`shoal acl: cannot reach the Redis port at ${address} (${(error as Error).message}); give --redis HOST:PORT\n`);
    return 1;
  }
  for (const reply of replies) {
    if (reply !== null && typeof reply === 'object' && !Array.isArray(reply)) {
      process.stderr.write(`shoal acl: ${reply.error}\n`);
      return 1;
    }
  }
  process.stdout.write(format(replies[replies.length - 1]!));
  return 0;
}

function format(reply: Reply, indent = ''): string {
  if (reply === null) return `${indent}(nil)\n`;
  if (Array.isArray(reply)) return reply.map((r) => format(r, indent)).join('');
  return `${indent}${String(reply)}\n`;
}

/** Sends RESP commands on one connection and reads one reply per command (bounded by a timeout). */
function exchange(host: string, port: number, commands: string[][]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    let buffer = Buffer.alloc(0);
    const replies: Reply[] = [];
    socket.on('connect', () => {
      for (const c of commands) socket.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseReply(buffer, 0);
        if (parsed === null) break;
        replies.push(parsed.value);
        buffer = buffer.subarray(parsed.end);
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
  });
}

function parseReply(buf: Buffer, at: number): { value: Reply; end: number } | null {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[at]!);
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
      throw new Error(`unexpected reply type ${JSON.stringify(type)}`);
  }
}
