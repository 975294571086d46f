/**
 * `shoal get KEY`, `shoal set KEY VALUE [--ttl 60s]`, `shoal del KEY [KEY ...]`: calls through the
 * SDK, with UTF-8 string keys and values. `get` exits 0 when the key has a value and 1 when it has
 * none, and `del` 0 when it deleted a value and 1 when there was none, so scripts can test for a key. A
 * stored value that is not UTF-8 text (what the SDK writes through its default msgpack codec, or
 * any binary value) is printed with \xNN escapes as redis-cli prints it, never as replacement
 * characters that lose its bytes.
 */
import { msgpackCodec, type Consistency, type ShoalClient, type ValueCodec } from '../client/index.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { connectTo, startTargetCommand, TARGET_FLAGS } from './target.ts';

const CONSISTENCY: FlagSpecs = {
  consistency: { kind: 'string', description: 'one, quorum or all (default: the cluster\'s R or W)' },
};
const GET_FLAGS: FlagSpecs = { ...TARGET_FLAGS, ...CONSISTENCY };
const SET_FLAGS: FlagSpecs = { ...TARGET_FLAGS, ...CONSISTENCY, ttl: { kind: 'duration', description: 'time to live, more than 0, like 60s or 500ms (default: never expires)' } };
const DEL_FLAGS: FlagSpecs = { ...TARGET_FLAGS, ...CONSISTENCY };

function consistencyOf(flags: Record<string, unknown>): { consistency?: Consistency } {
  const c = flags.consistency;
  if (c === undefined) return {};
  if (c !== 'one' && c !== 'quorum' && c !== 'all') throw new UsageError(`--consistency must be one, quorum or all, not "${String(c)}"`);
  return { consistency: c };
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Text both ways; a stored value that is not UTF-8 decodes to its bytes instead of to U+FFFD. */
const textOrBytes: ValueCodec<string | Uint8Array> = {
  encode: (value) => (typeof value === 'string' ? utf8.encode(value) : value),
  decode: (bytes) => {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return bytes;
    }
  },
};

/** Bytes as redis-cli shows a binary value: quoted, printable ASCII as is, `"` and `\\` escaped, the rest as \xNN. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** What the bytes are as msgpack (as JSON), when they are exactly one msgpack value that JSON can show; else null. */
function asMsgpack(bytes: Uint8Array): string | null {
  try {
    const json = JSON.stringify(msgpackCodec.decode(bytes));
    return typeof json === 'string' ? json : null;
  } catch {
    return null; // not msgpack, trailing bytes, or a value JSON cannot hold (a bigint)
  }
}

/** The positional arguments a command takes: exactly KEY, exactly KEY VALUE, or one key or more. */
const ARITIES = {
  key: { min: 1, max: 1, shown: 'KEY' },
  'key value': { min: 2, max: 2, shown: 'KEY VALUE' },
  keys: { min: 1, max: Infinity, shown: 'KEY [KEY ...]' },
} as const;
type Arity = keyof typeof ARITIES;

function checkArity(arity: Arity, count: number, usage: string): void {
  const { min, max, shown } = ARITIES[arity];
  if (count >= min && count <= max) return;
  throw new UsageError(`expected ${shown}, got ${count} argument${count === 1 ? '' : 's'}\n${usage}`);
}

/** Parses, connects, runs `call`, prints its output, and turns failures into a message and status 1. */
async function command(
  name: string,
  usage: string,
  specs: FlagSpecs,
  arity: Arity,
  argv: string[],
  /** `json` is printed as one line, or as one line per element when it is an array (JSON Lines). */
  call: (client: ShoalClient<string | Uint8Array>, args: string[], flags: Record<string, unknown>) => Promise<{ json: unknown; text: string; status: number; note?: string }>,
  /** Checks the command's own flags before connecting (a UsageError for a bad one). */
  check: (flags: Record<string, unknown>) => void = () => {},
): Promise<number> {
  const parsed = startTargetCommand(argv, usage, specs);
  if (parsed === null) return 0;
  const { flags, positionals, node } = parsed;
  checkArity(arity, positionals.length, usage);
  consistencyOf(flags); // validated before connecting
  check(flags);
  try {
    const client = await connectTo(node, textOrBytes);
    try {
      const out = await call(client, positionals, flags);
      process.stdout.write(flags.json ? jsonLines(out.json) : out.text);
      if (out.note !== undefined && !flags.json) process.stderr.write(`shoal ${name}: ${out.note}\n`);
      return out.status;
    } finally {
      await client.close();
    }
  } catch (error) {
    process.stderr.write(`shoal ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

export function runGet(argv: string[]): Promise<number> {
  const usage = 'Usage: shoal get KEY [--node HOST:PORT] [--user NAME] [--consistency one|quorum|all] [--json]\nPrints the value, or (nil) and exits 1 when the key has none.';
  return command('get', usage, GET_FLAGS, 'key', argv, async (client, [key], flags) => {
    const { value, miss } = await client.get(key!, { ...consistencyOf(flags), detail: true });
    // A miss prints `(nil)` as redis-cli does, and exits 1 so scripts can tell it from a hit; --json also says why.
    if (value === null) return { json: { key, value, miss }, text: '(nil)\n', status: 1 };
    if (typeof value === 'string') return { json: { key, value }, text: `${value}\n`, status: 0 };
    // Not UTF-8 text: escaped on the terminal, base64 in JSON, and what it is when it reads as msgpack.
    const msgpack = asMsgpack(value);
    const note = `the value is not UTF-8 text (${value.length} bytes), shown with \\xNN escapes` + (msgpack === null ? '' : `; as msgpack, the SDK's default codec, it reads ${msgpack.length > 200 ? `${msgpack.slice(0, 200)}...` : msgpack} (docs/CLIENT.md, "Values")`);
    return { json: { key, base64: Buffer.from(value).toString('base64'), ...(msgpack === null ? {} : { msgpack: JSON.parse(msgpack) as unknown }) }, text: `${escapeBytes(value)}\n`, status: 0, note };
  });
}

export function runSet(argv: string[]): Promise<number> {
  return command('set', 'Usage: shoal set KEY VALUE [--ttl 60s] [--node HOST:PORT] [--user NAME] [--consistency one|quorum|all] [--json]', SET_FLAGS, 'key value', argv, async (client, [key, value], flags) => {
    const ttlMs = ttlOf(flags);
    await client.set(key!, value!, { ...consistencyOf(flags), ttlMs });
    return { json: { key, ok: true, ttlMs }, text: 'OK\n', status: 0 };
  }, ttlOf);
}

/**
 * --ttl in whole milliseconds, 0 when not given (no expiry). Rounded up: a TTL under a millisecond
 * must not become 0, which means "never expires". `--ttl 0` is refused, as Redis refuses `SET k v
 * EX 0`, rather than read as "no expiry"; and a TTL past what the node takes (2^53 - 1 ms) is a
 * usage error here, not a bad request there.
 */
function ttlOf(flags: Record<string, unknown>): number {
  if (flags.ttl === undefined) return 0;
  const ttlMs = Math.ceil(Number(flags.ttl));
  if (ttlMs <= 0) throw new UsageError('--ttl must be more than 0; leave it out for a value that never expires');
  if (ttlMs > Number.MAX_SAFE_INTEGER) throw new UsageError(`--ttl must be at most ${Number.MAX_SAFE_INTEGER}ms (about 285,000 years)`);
  return ttlMs;
}

export function runDel(argv: string[]): Promise<number> {
  const usage = 'Usage: shoal del KEY [KEY ...] [--node HOST:PORT] [--user NAME] [--consistency one|quorum|all] [--json]\nPrints (integer) N, the number of keys that held a value it deleted, and exits 1 when none did (--json: one {"key","deleted"} line per key).';
  return command('del', usage, DEL_FLAGS, 'keys', argv, async (client, keys, flags) => {
    // Through each key's primary (deleteIfExists, Redis's DEL), not the blind delete, so that it
    // can say whether there was a value: `(integer) N` as redis-cli prints DEL's answer, and, as
    // `get` does for a miss, exit 1 when there was none. One key after another, as DEL counts a
    // key named twice once.
    const results: { key: string; deleted: boolean }[] = [];
    for (const key of keys) results.push({ key, deleted: await client.deleteIfExists(key, consistencyOf(flags)) });
    const count = results.filter((r) => r.deleted).length;
    return { json: results, text: `(integer) ${count}\n`, status: count > 0 ? 0 : 1 };
  });
}

/** A value as one JSON line, or an array as one line per element (what `del` prints per key). */
function jsonLines(json: unknown): string {
  return (Array.isArray(json) ? json : [json]).map((item) => `${JSON.stringify(item)}\n`).join('');
}
