/**
 * redis-server's memory per entry for the same workload as memory.ts, at the same entry counts:
 * starts its own redis-server on a free loopback port (no persistence), fills the keys by
 * pipelining, and each time it holds one of the counts reads INFO memory's used_memory growth since
 * it was empty; then stops it. Returns the reason instead when redis-server is not installed.
 *
 * Redis's key table doubles as shoal's does, and moves its entries to the new table a few buckets
 * per command and per server tick, keeping both tables meanwhile; a figure read in the middle of
 * that shows both (300k entries: 213 bytes per entry just after the fill, 206 a second later). Each
 * count is read once the rehash is over (DEBUG HTSTATS shows no rehashing target; a Redis 7 server
 * is started with the DEBUG command allowed from loopback), which is what a server that holds that
 * many keys uses.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { benchCommandLine } from '../help.ts';
import { benchKey, MEMORY_SIZES, parseSizes, SIZES_ARGUMENT, VALUE_LENGTH } from './memory.ts';

const PIPELINE_BATCH = 10_000;
/** How often, and at most how many times, to look whether a rehash is over. */
const REHASH_POLL_MS = 100;
const REHASH_POLLS = 100;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function usedMemory(info: string): number {
  const m = /used_memory:(\d+)/.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/** Waits until database 0's key table is not being rehashed (server ticks finish it without commands). */
async function rehashed(redis: Redis): Promise<void> {
  for (let poll = 0; poll < REHASH_POLLS; poll++) {
    const stats = String(await redis.call('DEBUG', 'HTSTATS', '0'));
    if (!stats.includes('rehashing target')) return;
    await sleep(REHASH_POLL_MS);
  }
  throw new Error(`redis-server still rehashing after ${(REHASH_POLLS * REHASH_POLL_MS) / 1000} s`);
}

export interface RedisMemory {
  sizes: { entries: number; bytesPerEntry: number }[];
  version: string;
}

export async function measureRedis(sizes: readonly number[] = MEMORY_SIZES): Promise<RedisMemory | { skipped: string }> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { skipped: 'redis-server not found; install it with: apt-get update && apt-get install -y redis-server' };
  }
  const version = /v=([\d.]+)/.exec(probe.stdout)?.[1] ?? 'unknown';
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  // Redis 7 refuses DEBUG unless allowed; older servers allow it and know no such option.
  if (Number(version.split('.')[0]) >= 7) args.push('--enable-debug-command', 'local');
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  // ioredis retries while the server starts; give up after about five seconds.
  const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 50 ? null : 100) });
  redis.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      redis.once('end', () => reject(new Error(`redis-server did not come up on port ${port}`)));
    });
    const before = usedMemory(await redis.info('memory'));
    const value = 'v'.repeat(VALUE_LENGTH);
    const out: RedisMemory['sizes'] = [];
    let i = 0;
    for (const entries of sizes) {
      while (i < entries) {
        const pipe = redis.pipeline();
        for (const end = Math.min(entries, i + PIPELINE_BATCH); i < end; i++) pipe.set(benchKey(i), value);
        await pipe.exec();
      }
      const keys = await redis.dbsize();
      if (keys !== entries) throw new Error(`redis holds ${keys} keys, expected ${entries}`);
      await rehashed(redis);
      out.push({ entries, bytesPerEntry: (usedMemory(await redis.info('memory')) - before) / entries });
    }
    return { sizes: out, version };
  } finally {
    redis.disconnect();
    child.kill('SIGKILL');
  }
}

if (process.argv[1]?.endsWith('/store/redis-memory.ts')) {
  const { positionals } = benchCommandLine('node --import tsx bench/store/redis-memory.ts', {}, [SIZES_ARGUMENT]);
  process.stdout.write(JSON.stringify(await measureRedis(parseSizes(positionals[0]))) + '\n');
}
