/**
 * scratch/fork35/store-memory.ts: bench:store's memory figure (bench/store/memory.ts and redis-memory.ts:
 * 16-byte keys, 100-byte values; heap + array-buffer growth after GC for shoal, INFO used_memory
 * growth for redis-server) at any entry count, since bench:store measures only 1M.
 *   node --expose-gc --import tsx scratch/fork35/store-memory.ts shoal|redis ENTRIES
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { benchKey, VALUE_LENGTH } from '../../bench/store/memory.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { Store } from '../../src/store/store.ts';

const impl = process.argv[2] ?? 'shoal';
const entries = Number(process.argv[3] ?? 100_000);

function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function shoal(): number {
  const before = used();
  const store = new Store({ maxMemory: 4 * 1024 ** 3, clock: { wallMs: () => 0, monoMs: () => 0 }, hotKeys: false });
  const value = new Uint8Array(VALUE_LENGTH).fill(7);
  for (let i = 0; i < entries; i++) store.set(benchKey(i), value, { partition: i & 1023 });
  const after = used();
  if (store.size !== entries) throw new Error(`store kept ${store.size}`);
  return (after - before) / entries;
}

async function redis(): Promise<number> {
  const [port] = await freePorts(1);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const client = new Redis({ port: port!, host: '127.0.0.1', retryStrategy: (n) => (n > 50 ? null : 100) });
  client.on('error', () => {});
  try {
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    const before = await usedMemory();
    const value = 'v'.repeat(VALUE_LENGTH);
    for (let start = 0; start < entries; start += 10_000) {
      const pipe = client.pipeline();
      for (let i = start; i < Math.min(entries, start + 10_000); i++) pipe.set(benchKey(i), value);
      await pipe.exec();
    }
    return ((await usedMemory()) - before) / entries;
  } finally {
    client.disconnect();
    child.kill('SIGKILL');
  }
}

const bytes = impl === 'redis' ? await redis() : shoal();
process.stdout.write(`${impl} @ ${entries} entries: ${bytes.toFixed(1)} bytes per entry\n`);
