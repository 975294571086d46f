/**
 * `shoal get KEY`, `shoal set KEY VALUE [--ttl 60s]`, `shoal del KEY`: one call through the SDK,
 * with UTF-8 string keys and values. `get` exits 0 when the key has a value and 1 when it has none,
 * so scripts can test for a key.
 */
import type { Consistency, ShoalClient } from '../client/index.ts';
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

/** Parses, connects, runs `call`, prints its output, and turns failures into a message and status 1. */
async function command(
  name: string,
  usage: string,
  specs: FlagSpecs,
  arity: number,
  argv: string[],
  call: (client: ShoalClient<string>, args: string[], flags: Record<string, unknown>) => Promise<{ json: unknown; text: string; status: number }>,
  /** Checks the command's own flags before connecting (a UsageError for a bad one). */
  check: (flags: Record<string, unknown>) => void = () => {},
): Promise<number> {
  const parsed = startTargetCommand(argv, usage, specs);
  if (parsed === null) return 0;
  const { flags, positionals, node } = parsed;
  if (positionals.length !== arity) throw new UsageError(`expected ${arity === 1 ? 'KEY' : 'KEY VALUE'}, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}\n${usage}`);
  consistencyOf(flags); // validated before connecting
  check(flags);
  try {
    const client = await connectTo(node);
    try {
      const out = await call(client, positionals, flags);
      process.stdout.write(flags.json ? `${JSON.stringify(out.json)}\n` : out.text);
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
  return command('get', 'Usage: shoal get KEY [--node HOST:PORT] [--user NAME] [--consistency one|quorum|all] [--json]', GET_FLAGS, 1, argv, async (client, [key], flags) => {
    const { value, miss } = await client.get(key!, { ...consistencyOf(flags), detail: true });
    // A miss prints `(nil)` as redis-cli does, and exits 1 so scripts can tell it from a hit; --json also says why.
    return { json: miss === null ? { key, value } : { key, value, miss }, text: value === null ? '(nil)\n' : `${value}\n`, status: value === null ? 1 : 0 };
  });
}

export function runSet(argv: string[]): Promise<number> {
  return command('set', 'Usage: shoal set KEY VALUE [--ttl 60s] [--node HOST:PORT] [--user NAME] [--consistency one|quorum|all] [--json]', SET_FLAGS, 2, argv, async (client, [key, value], flags) => {
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
  return command('del', 'Usage: shoal del KEY [--node HOST:PORT] [--user NAME] [--consistency one|quorum|all] [--json]', DEL_FLAGS, 1, argv, async (client, [key], flags) => {
    await client.delete(key!, consistencyOf(flags));
    return { json: { key, ok: true }, text: 'OK\n', status: 0 };
  });
}
