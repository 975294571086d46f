/**
 * The near-cache row of `npm run bench` (issue 17): a read-heavy workload, 90% of reads on 1% of
 * the keys, against one three-node cluster (N=3), by the SDK without and with `nearCache`, side by
 * side in the same run: reads per second (closed loop) and the reads that reached the cluster.
 */
import { bytesCodec, connect } from '../../src/client/index.ts';
import type { ShoalCluster } from './processes.ts';
import type { WorkloadOptions } from './workload.ts';

export interface NearCacheRow {
  keys: number;
  hotKeys: number;
  plain: { readsPerSec: number; clusterReads: number; reads: number };
  near: { readsPerSec: number; clusterReads: number; reads: number; hitRatio: number };
  /** near / plain reads per second. */
  speedup: number;
  /** 1 - near's cluster reads per read / plain's. */
  clusterReadReduction: number;
}

const keyOf = (i: number): string => `bench:near:${i}`;

/** 90% of picks among the first 1% of the keys, the rest uniform over the others (seeded xorshift). */
function skewedPicker(keys: number, seed = 0x9e3779b9): () => number {
  const hot = Math.max(1, Math.floor(keys / 100));
  let x = seed >>> 0;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  return () => (next() < 0.9 ? Math.floor(next() * hot) : hot + Math.floor(next() * (keys - hot)));
}

/** Closed loop for `seconds`: `concurrency` reads outstanding; returns how many completed. */
async function readLoop(get: (key: string) => Promise<unknown>, keys: number, seconds: number, concurrency: number): Promise<number> {
  const pick = skewedPicker(keys);
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await get(keyOf(pick()));
        done++;
      }
    }),
  );
  return done;
}

export async function measureNearCache(cluster: ShoalCluster, options: WorkloadOptions): Promise<NearCacheRow> {
  const keys = 10_000;
  const value = new Uint8Array(options.valueBytes).fill(7);
  const base = { seeds: cluster.addresses, ...cluster.connectOptions, codec: bytesCodec, commandTimeoutMs: 30_000, maxOfflineQueue: 1_000_000 };
  const plain = await connect(base);
  const near = await connect({ ...base, nearCache: { maxEntries: keys } });
  try {
    await plain.topology();
    await near.topology();
    // A write the cluster could not take yet (a node still catching up) is retried, a few times at most.
    const load = async (key: string): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await plain.set(key, value);
        } catch (error) {
          if (attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    };
    for (let i = 0; i < keys; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => load(keyOf(i + j))));
    // Warm-up (not counted): the near cache's streams start with the nodes' first heartbeats (1 s).
    await readLoop((k) => near.get(k), keys, 1.5, options.concurrency);
    await readLoop((k) => plain.get(k), keys, 0.5, options.concurrency);
    const plainReads = await readLoop((k) => plain.get(k), keys, options.seconds, options.concurrency);
    const before = near.nearCacheStats()!;
    const nearReads = await readLoop((k) => near.get(k), keys, options.seconds, options.concurrency);
    const after = near.nearCacheStats()!;
    const clusterReads = after.misses - before.misses;
    const hits = after.hits - before.hits;
    return {
      keys,
      hotKeys: keys / 100,
      plain: { readsPerSec: Math.round(plainReads / options.seconds), clusterReads: plainReads, reads: plainReads },
      near: { readsPerSec: Math.round(nearReads / options.seconds), clusterReads, reads: nearReads, hitRatio: +(hits / Math.max(1, hits + clusterReads)).toFixed(3) },
      speedup: +(nearReads / Math.max(1, plainReads)).toFixed(2),
      clusterReadReduction: +(1 - clusterReads / Math.max(1, nearReads)).toFixed(3),
    };
  } finally {
    await Promise.all([plain.close(), near.close()]);
  }
}

export function formatNearCacheRow(row: NearCacheRow): string {
  return (
    `\nnear cache (3 nodes, N=3; ${row.keys} keys, 90% of reads on ${row.hotKeys}):\n` +
    `  without: ${row.plain.readsPerSec} reads/s, every read reaches the cluster\n` +
    `  with:    ${row.near.readsPerSec} reads/s (x${row.speedup}), hit ratio ${row.near.hitRatio}, ` +
    `${row.near.clusterReads} of ${row.near.reads} reads reached the cluster (${(row.clusterReadReduction * 100).toFixed(1)}% fewer)\n`
  );
}
