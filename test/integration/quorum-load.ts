/**
 * The QUORUM write-and-read loop the tests of cluster operations under load run (rolling restart,
 * drain): each worker owns its keys, waits for each write, and checks every read against the
 * latest value it had acknowledged for that key.
 */
import type { ShoalClient } from '../../src/client/index.ts';

export const KEYS_PER_WORKER = 8;

export interface Worker {
  ops: number;
  /** Latest acknowledged value per key: each key has one writer, which waits for each write. */
  acked: Map<string, string>;
  failures: string[];
  stale: string[];
}

export function newWorker(): Worker {
  return { ops: 0, acked: new Map(), failures: [], stale: [] };
}

/** One client loop: write a key, read a key it wrote, until told to stop. */
export async function work(client: ShoalClient<string>, id: number, w: Worker, stop: () => boolean): Promise<void> {
  for (let seq = 1; !stop(); seq++) {
    const key = `w${id}:k${seq % KEYS_PER_WORKER}`;
    const value = `w${id}:${seq}`;
    try {
      await client.set(key, value, { consistency: 'quorum' });
      w.acked.set(key, value);
      const probe = `w${id}:k${(seq * 5) % KEYS_PER_WORKER}`;
      const read = await client.get(probe, { consistency: 'quorum' });
      const expected = w.acked.get(probe) ?? null;
      if (read !== expected) w.stale.push(`${probe}: read ${String(read)}, latest acknowledged ${String(expected)}`);
    } catch (error) {
      w.failures.push(`${key}: ${(error as Error).name}: ${(error as Error).message}`);
    }
    w.ops++;
  }
}

/** Every acknowledged write read back at QUORUM: the ones that do not come back. */
export async function lostWrites(client: ShoalClient<string>, workers: readonly Worker[]): Promise<string[]> {
  const lost: string[] = [];
  for (const w of workers) {
    for (const [key, value] of w.acked) {
      const read = await client.get(key, { consistency: 'quorum' });
      if (read !== value) lost.push(`${key}: read ${String(read)}, acknowledged ${value}`);
    }
  }
  return lost;
}
