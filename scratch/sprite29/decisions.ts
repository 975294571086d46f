/**
 * Scratch: the window tuner's decisions on one trace and size: at every decision the period's hits
 * per rung (WINDOW_LADDER order) and the smoothed scores, and every window move (request index,
 * decision count, fraction, cold or not). Reads the tuner's private fields (scratch only).
 * node --import tsx scratch/sprite29/decisions.ts ../shared/traces/sprite.trace.gz lirs 2200 [maxDecisions=12]
 */
import { readFileSync } from 'node:fs';
import { maybeGunzip, parseTrace } from '../../src/store/trace/parse.ts';
import type { TraceFormat } from '../../src/store/trace/parse.ts';
import { keyHashes } from '../../src/store/trace/policy-sim.ts';
import { WTinyLfuPolicy } from '../../src/store/policy-wtinylfu.ts';
import { WINDOW_LADDER } from '../../src/store/window-tuner.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { DEFAULT_STORE_SEED } from '../../src/store/store.ts';
import type { PolicyHost } from '../../src/store/policy.ts';

const [file, format, sizeArg, maxArg] = process.argv.slice(2);
const trace = parseTrace(maybeGunzip(readFileSync(file!)), format as TraceFormat);
const size = Number(sizeArg);
const maxDecisions = Number(maxArg ?? 12);
const hashes = keyHashes(trace.uniqueKeys);
const slotOf = new Int32Array(hashes.length).fill(-1);
const idOf = new Int32Array(size + 2);
const free: number[] = [];
let next = 0;
let entries = 0;
const host: PolicyHost = {
  hashOf: (slot) => hashes[idOf[slot]!]!,
  weightOf: () => 1,
  overBudget: () => entries > size,
  evictForSize: (slot) => { policy.onRemove(slot); slotOf[idOf[slot]!] = -1; free.push(slot); entries--; },
};
const policy = new WTinyLfuPolicy(host, size + 2, { random: SeededRandom.mulberry32(DEFAULT_STORE_SEED), expectedEntries: size });
policy.setMaximum(size);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const tuner = (policy as any).tuner;
console.log(`rate ${tuner.rate} period ${tuner.period} sampled (about ${tuner.period * tuner.rate} requests); ladder ${WINDOW_LADDER.join(' ')}`);
// With CHECKS=1: at every check while cold, each rung's hits so far this period and its near hits since the last check.
if (process.env.CHECKS === '1') {
  const original = tuner.followBurst;
  tuner.followBurst = function (this: typeof tuner): boolean {
    if (this.cold) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const minis = this.minis as any[];
      console.log(`  check at sampled ${this.sampled}: hits ${minis.map((m) => m.hits).join(' ')} near ${minis.map((m) => m.nearHits).join(' ')}`);
    }
    return original.call(this);
  };
}
let hits = 0;
let lastDecisions = 0;
let lastFraction = tuner.fraction;
for (let i = 0; i < trace.ids.length && lastDecisions < maxDecisions; i++) {
  const id = trace.ids[i]!;
  const slot = slotOf[id]!;
  if (slot !== -1) { policy.onAccess(slot); hits++; } else {
    policy.onMiss();
    const fresh = free.length > 0 ? free.pop()! : next++;
    idOf[fresh] = id; slotOf[id] = fresh; entries++;
    policy.onInsert(fresh);
    if (entries > size) policy.evict();
  }
  if (tuner.decisions !== lastDecisions) {
    lastDecisions = tuner.decisions;
    const row = ((lastDecisions - 1) % 16) * WINDOW_LADDER.length;
    const period = WINDOW_LADDER.map((_, r) => tuner.history[row + r]).join(' ');
    const scores = Array.from(tuner.scores as Float64Array, (s) => s.toFixed(0)).join(' ');
    console.log(`${i + 1} decision ${lastDecisions}: period ${period} | scores ${scores} | cold ${tuner.cold} | hits so far ${hits}`);
  }
  if (tuner.fraction !== lastFraction) {
    lastFraction = tuner.fraction;
    console.log(`${i + 1} move to ${lastFraction} (decisions ${tuner.decisions}, cold before ${tuner.cold})`);
  }
}
