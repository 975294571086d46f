/**
 * A mixed Redis workload that any client library can run through a small adapter, and that checks
 * every reply against what Redis would answer: SET/GET, INCR, hash-tagged MSET and MGET (and
 * MGET across slots where the client allows it), EXPIRE/TTL, DEL. Each run uses keys of its own
 * (a prefix), so clients and phases never see each other's data.
 *
 * Errors are sorted into two kinds. Transient ones (the connection to a node that was just stopped,
 * TRYAGAIN, CLUSTERDOWN, a command that timed out) are what a client may see while a node is
 * away: the operation is retried, which is safe because it did not run (the node it went to was
 * down, or the cluster refused it), and counted. Anything else (a wrong reply, an ERR, a MOVED the
 * client did not follow) fails the run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClientType, RedisClusterType } from 'redis';

/** What the workload needs from a client; replies as the client library returns them. */
export interface RedisOps {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  incr(key: string): Promise<number>;
  mget(keys: string[]): Promise<(string | null)[]>;
  mset(pairs: [string, string][]): Promise<unknown>;
  del(keys: string[]): Promise<number>;
  expire(key: string, seconds: number): Promise<number>;
  ttl(key: string): Promise<number>;
}

export interface WorkloadOptions {
  /** Distinguishes this run's keys from every other run's. */
  prefix: string;
  rounds: number;
  /** Also MGET keys of different slots in one command (single-node clients; Shoal serves it). */
  crossSlot: boolean;
  /** Retry transient errors (a node is away); when false, any error fails the run. */
  tolerateTransient: boolean;
  /** Bound on one command, so that a client queueing for a dead node cannot hang the test. */
  commandTimeoutMs?: number;
}

export interface WorkloadReport {
  operations: number;
  transientErrors: string[];
}

const TRANSIENT = /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|socket closed|Socket closed|The client is closed|TRYAGAIN|CLUSTERDOWN|timed out|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available/i;

class TransientError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransientError(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function runWorkload(ops: RedisOps, options: WorkloadOptions): Promise<WorkloadReport> {
  const report: WorkloadReport = { operations: 0, transientErrors: [] };
  const timeoutMs = options.commandTimeoutMs ?? 10_000;
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await withTimeout(run(), timeoutMs, what);
        report.operations++;
        return value;
      } catch (error) {
        const message = `${what}: ${(error as Error).message}`;
        const transient = error instanceof TransientError || TRANSIENT.test((error as Error).message);
        if (!options.tolerateTransient || !transient || attempt >= 8) throw new Error(message, { cause: error });
        report.transientErrors.push(message);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };

  const p = options.prefix;
  for (let i = 0; i < options.rounds; i++) {
    // One hash tag per round: the keys of a round share a slot, as Redis Cluster clients require
    // of multi-key commands.
    const tag = `{${p}-${i}}`;
    const [a, b, c, counter, missing] = ['a', 'b', 'c', 'n', 'missing'].map((suffix) => `${tag}:${suffix}`) as [string, string, string, string, string];
    assert.equal(await call(`SET ${a}`, () => ops.set(a, `value-${i}`)), 'OK');
    assert.equal(await call(`GET ${a}`, () => ops.get(a)), `value-${i}`);
    for (let n = 1; n <= 3; n++) assert.equal(Number(await call(`INCR ${counter}`, () => ops.incr(counter))), n);
    assert.equal(await call(`MSET ${b} ${c}`, () => ops.mset([[b, `b-${i}`], [c, `c-${i}`]])), 'OK');
    assert.deepEqual(await call(`MGET ${tag}`, () => ops.mget([a, b, c, missing, counter])), [`value-${i}`, `b-${i}`, `c-${i}`, null, '3']);
    if (options.crossSlot) {
      // Keys with no tag land in different slots (and partitions): Shoal answers MGET across them.
      const loose = [`${p}-loose-${i}-x`, `${p}-loose-${i}-y`, `${p}-loose-${i}-z`];
      for (const key of loose) assert.equal(await call(`SET ${key}`, () => ops.set(key, key)), 'OK');
      assert.deepEqual(await call(`MGET ${loose.join(' ')}`, () => ops.mget([...loose, `${p}-loose-${i}-none`])), [...loose, null]);
      assert.equal(Number(await call(`DEL ${loose.join(' ')}`, () => ops.del([...loose, `${p}-loose-${i}-none`]))), 3);
    }
    assert.equal(Number(await call(`EXPIRE ${a}`, () => ops.expire(a, 100))), 1);
    const ttl = Number(await call(`TTL ${a}`, () => ops.ttl(a)));
    assert.ok(ttl > 0 && ttl <= 100, `TTL ${a} = ${ttl}`);
    assert.equal(Number(await call(`DEL ${tag}`, () => ops.del([a, b, c, counter, missing]))), 4);
    assert.equal(await call(`GET ${a} after DEL`, () => ops.get(a)), null);
    assert.equal(Number(await call(`EXPIRE ${a} after DEL`, () => ops.expire(a, 100))), 0);
    assert.equal(Number(await call(`TTL ${a} after DEL`, () => ops.ttl(a))), -2);
  }
  return report;
}

export function ioredisOps(client: Redis | Cluster): RedisOps {
  return {
    set: (k, v) => client.set(k, v),
    get: (k) => client.get(k),
    incr: (k) => client.incr(k),
    mget: (keys) => client.mget(...keys),
    mset: (pairs) => client.mset(...pairs.flat()),
    del: (keys) => client.del(...keys),
    expire: (k, s) => client.expire(k, s),
    ttl: (k) => client.ttl(k),
  };
}

type NodeRedis = RedisClientType | RedisClusterType;
export function nodeRedisOps(client: NodeRedis): RedisOps {
  return {
    set: (k, v) => client.set(k, v),
    get: async (k) => (await client.get(k)) as string | null,
    incr: (k) => client.incr(k),
    mget: async (keys) => (await client.mGet(keys)) as (string | null)[],
    mset: (pairs) => client.mSet(pairs),
    del: (keys) => client.del(keys),
    expire: async (k, s) => Number(await client.expire(k, s)),
    ttl: (k) => client.ttl(k),
  };
}

/** redis-cli as a user types it: one process per command, the reply as it prints it (--no-raw would quote). */
export function redisCli(args: string[], input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('redis-cli', args, { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')}: ${error.message} ${stderr}`));
      else resolve(stdout.replace(/\n$/, ''));
    });
    if (input) child.stdin!.end(input);
  });
}

export function redisCliOps(cliArgs: string[]): RedisOps {
  const run = (...command: string[]): Promise<string> => redisCli([...cliArgs, ...command]);
  const nil = (line: string): string | null => (line === '' ? null : line);
  // Without a terminal redis-cli prints raw replies: a nil as an empty line, an error as
  // "ERR ..." text (status 0), integers as digits.
  const integer = async (line: Promise<string>): Promise<number> => {
    const text = await line;
    if (!/^-?\d+$/.test(text)) throw new Error(text);
    return Number(text);
  };
  const strict = async (line: Promise<string>): Promise<string> => {
    const text = await line;
    if (/^(ERR|WRONGTYPE|MOVED|ASK|CROSSSLOT|TRYAGAIN|CLUSTERDOWN)\b/.test(text)) throw new Error(text);
    return text;
  };
  return {
    set: (k, v) => strict(run('SET', k, v)),
    get: async (k) => nil(await strict(run('GET', k))),
    incr: (k) => integer(run('INCR', k)),
    mget: async (keys) => (await strict(run('MGET', ...keys))).split('\n').map(nil),
    mset: (pairs) => strict(run('MSET', ...pairs.flat())),
    del: (keys) => integer(run('DEL', ...keys)),
    expire: (k, s) => integer(run('EXPIRE', k, String(s))),
    ttl: (k) => integer(run('TTL', k)),
  };
}
