/**
 * scratch/fork35/memory.ts: bytes of one shadow laid out as the tuner's MiniCache (src/store/window-tuner.ts:
 * hashes, last-seen clocks and a quarter-full open-addressing index, plus a WTinyLfuPolicy's own arrays:
 * lists, region bytes, turned-away table, and its sketch unless shared), at S entries.
 * Then the forked follower's shadows per store with one shared sketch: 15 through the warm-up (twelve,
 * the fork pair, the follower), 3 / 2 / 1 after the pin (pair + follower / pair / follower).
 *   node --import tsx scratch/fork35/memory.ts [--shadow 4096]
 */
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { CountMinSketch } from '../../src/store/count-min.ts';
import { WTinyLfuPolicy } from '../../src/store/policy-wtinylfu.ts';
import type { PolicyHost } from '../../src/store/policy.ts';

const i = process.argv.indexOf('--shadow');
const S = i === -1 ? 4096 : Number(process.argv[i + 1]);
const host: PolicyHost = { hashOf: () => 0, weightOf: () => 1, overBudget: () => false, evictForSize: () => undefined };

/** Array-buffer bytes `make` allocates (the policy's typed arrays). */
function bytesOf(make: () => unknown): number {
  const before = process.memoryUsage().arrayBuffers;
  const kept = make();
  const after = process.memoryUsage().arrayBuffers;
  if (kept === undefined) throw new Error('unreachable');
  return after - before;
}
const random = SeededRandom.mulberry32(1);
const ownSketch = bytesOf(() => new WTinyLfuPolicy(host, S + 1, { random, expectedEntries: S, windowFraction: 0.01, adaptation: 'static' }));
const shared = new CountMinSketch({ expectedEntries: S });
const sharedSketch = bytesOf(() => new WTinyLfuPolicy(host, S + 1, { random, expectedEntries: S, windowFraction: 0.01, adaptation: 'static', sharedSketch: shared }));
const bits = Math.max(4, 32 - Math.clz32(4 * (S + 1)));
const mini = 4 * (1 << bits) + 2 * 4 * (S + 1);
const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`;
process.stdout.write(
  `S ${S}: index + hashes + clocks ${kb(mini)}; policy with its own sketch ${kb(ownSketch)}, with a shared sketch ${kb(sharedSketch)}; ` +
    `a shadow ${kb(mini + ownSketch)} (own sketch) / ${kb(mini + sharedSketch)} (shared)\n`,
);
const shadow = mini + sharedSketch;
const sketchBytes = ownSketch - sharedSketch;
for (const [label, n] of [['warm-up, 15 shadows', 15], ['pair + follower', 3], ['pair', 2], ['follower', 1]] as const) {
  process.stdout.write(`per store, ${label}: ${kb(n * shadow + sketchBytes)} (${n} x ${kb(shadow)} + one sketch ${kb(sketchBytes)})\n`);
}
