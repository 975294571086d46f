/**
 * redis-server's memory per entry for the same workload as memory.ts: starts its own
 * redis-server on a free loopback port (no persistence), fills 1M keys by pipelining, reads
 * INFO memory's used_memory before and after, and stops it. Returns undefined (with the reason)
 * when redis-server is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { benchKey, ENTRIES, VALUE_LENGTH } from './memory.ts';

const PIPELINE_BATCH = 10_000;

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

export interface RedisMemory {
  bytesPerEntry: number;
  version: string;
}

export async function measureRedis(): Promise<RedisMemory | { skipped: string }> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { skipped: 'redis-server not found; install it with: apt-get update && apt-get install -y redis-server' };
  }
  const version = /v=([\d.]+)/.exec(probe.stdout)?.[1] ?? 'unknown';
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
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
    for (let start = 0; start < ENTRIES; start += PIPELINE_BATCH) {
      const pipe = redis.pipeline();
      for (let i = start; i < Math.min(ENTRIES, start + PIPELINE_BATCH); i++) pipe.set(benchKey(i), value);
      await pipe.exec();
    }
    const keys = await redis.dbsize();
    if (keys !== ENTRIES) throw new Error(`redis holds ${keys} keys, expected ${ENTRIES}`);
    const after = usedMemory(await redis.info('memory'));
    return { bytesPerEntry: (after - before) / ENTRIES, version };
  } finally {
    redis.disconnect();
    child.kill('SIGKILL');
  }
}

if (process.argv[1]?.endsWith('/store/redis-memory.ts')) {
  process.stdout.write(JSON.stringify(await measureRedis()) + '\n');
}
