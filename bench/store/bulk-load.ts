/**
 * Bulk load (issue 19): a write-only load of 5x what the budget holds, then reads of the most
 * recently written keys, per eviction policy. Prints what each policy keeps of the oldest and the
 * newest fifth of the load, and the hit ratio of reading back the newest keys that would fit.
 *
 *   node --import tsx bench/store/bulk-load.ts [--json]
 */
import { benchArgs } from '../help.ts';
import { POLICY_NAMES } from '../../src/store/policy.ts';
import { Store } from '../../src/store/store.ts';

const flags = benchArgs('node --import tsx bench/store/bulk-load.ts', { json: { kind: 'boolean', description: 'print each row as JSON too' } });
const ENTRIES = 20_000;
const LOAD = 5 * ENTRIES;
/** Keys read back: the newest half of what fits (reading exactly as many as fit is a knife edge:
 * a policy that keeps even 1% older keys misses the oldest of them, and each miss then evicts the
 * next key to be read, as LRU does on any scan one larger than the cache). */
const READ = ENTRIES / 2;
const value = new Uint8Array(100);
const clock = { wallMs: () => 0, monoMs: () => 0 };
const key = (i: number): string => `key:${String(i).padStart(8, '0')}`;

const rows = POLICY_NAMES.map((policy) => {
  const probe = new Store({ maxMemory: Number.MAX_SAFE_INTEGER, clock, hotKeys: false, analytics: false });
  const maxMemory = ENTRIES * probe.entryCost(key(0), value.length);
  const store = new Store({ maxMemory, policy, clock, hotKeys: false, analytics: false });
  let refused = 0;
  for (let i = 0; i < LOAD; i++) if (!store.set(key(i), value, { partition: 0 })) refused++;
  const fifth = LOAD / 5;
  let oldest = 0;
  let newest = 0;
  for (let i = 0; i < fifth; i++) if (store.has(key(i))) oldest++;
  for (let i = LOAD - fifth; i < LOAD; i++) if (store.has(key(i))) newest++;
  // Reads of the newest keys, twice over (a reader catching up, then rereading).
  let hits = 0;
  let reads = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = LOAD - READ; i < LOAD; i++) {
      reads++;
      if (store.getView(key(i)) !== undefined) hits++;
      else store.set(key(i), value, { partition: 0 });
    }
  }
  return { policy, entries: store.size, keptOldestPct: (100 * oldest) / fifth, keptNewestPct: (100 * newest) / fifth, refusedWrites: refused, readRecentHitPct: (100 * hits) / reads };
});
if (flags.json === true) for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
process.stdout.write(`bulk load: ${LOAD} writes of 100-byte values into a budget for ${ENTRIES}, then 2 passes of reads over the newest ${READ} keys (a miss writes the key back)\n`);
process.stdout.write(`policy       entries  kept oldest 20%  kept newest 20%  refused writes  read-recent hit %\n`);
for (const r of rows) {
  process.stdout.write(`${r.policy.padEnd(12)} ${String(r.entries).padStart(7)}  ${r.keptOldestPct.toFixed(1).padStart(15)}  ${r.keptNewestPct.toFixed(1).padStart(15)}  ${String(r.refusedWrites).padStart(14)}  ${r.readRecentHitPct.toFixed(1).padStart(17)}\n`);
}
