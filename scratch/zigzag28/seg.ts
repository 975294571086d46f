/**
 * Scratch: per-segment hits of the default (wtinylfu) against LRU on one trace and size, with the
 * window's fraction at each segment's end and every change of it (request index, fraction).
 * node --import tsx scratch/seg.ts ../shared/traces/zigzag.trace.gz lirs 500 [segment=1000]
 */
import { readFileSync } from 'node:fs';
import { maybeGunzip, parseTrace } from '../../src/store/trace/parse.ts';
import type { TraceFormat } from '../../src/store/trace/parse.ts';
import { keyHashes } from '../../src/store/trace/policy-sim.ts';
import { LruPolicy } from '../../src/store/policy-lru.ts';
import { WTinyLfuPolicy } from '../../src/store/policy-wtinylfu.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { DEFAULT_STORE_SEED } from '../../src/store/store.ts';
import type { EvictionPolicy, PolicyHost } from '../../src/store/policy.ts';

class Host implements PolicyHost {
  slotOf: Int32Array; idOf: Int32Array; free: number[] = []; next = 0; entries = 0; policy!: EvictionPolicy;
  constructor(private hashes: Uint32Array, private maximum: number) {
    this.slotOf = new Int32Array(hashes.length).fill(-1);
    this.idOf = new Int32Array(maximum + 2);
  }
  hashOf(slot: number): number { return this.hashes[this.idOf[slot]!]!; }
  weightOf(): number { return 1; }
  overBudget(): boolean { return this.entries > this.maximum; }
  evictForSize(slot: number): void { this.policy.onRemove(slot); this.slotOf[this.idOf[slot]!] = -1; this.free.push(slot); this.entries--; }
  step(id: number, capacity: number): boolean {
    const slot = this.slotOf[id]!;
    if (slot !== -1) { this.policy.onAccess(slot); return true; }
    this.policy.onMiss();
    const fresh = this.free.length > 0 ? this.free.pop()! : this.next++;
    this.idOf[fresh] = id; this.slotOf[id] = fresh; this.entries++;
    this.policy.onInsert(fresh);
    if (this.entries > capacity) this.policy.evict();
    return false;
  }
}

const [file, format, sizeArg, segArg, limitArg] = process.argv.slice(2);
const trace = parseTrace(maybeGunzip(readFileSync(file!)), format as TraceFormat);
const size = Number(sizeArg); const seg = Number(segArg ?? 1000); const limit = Number(limitArg ?? trace.ids.length);
const hashes = keyHashes(trace.uniqueKeys);
const w = new Host(hashes, size);
const wp = new WTinyLfuPolicy(w, size + 2, { random: SeededRandom.mulberry32(DEFAULT_STORE_SEED), expectedEntries: size });
w.policy = wp; wp.setMaximum(size);
const l = new Host(hashes, size); l.policy = new LruPolicy(l, size + 2); l.policy.setMaximum(size);
let wh = 0, lh = 0, tw = 0, tl = 0; let frac = -1; const moves: string[] = [];
for (let i = 0; i < Math.min(limit, trace.ids.length); i++) {
  const id = trace.ids[i]!;
  if (w.step(id, size)) wh++;
  if (l.step(id, size)) lh++;
  const f = wp.describe().windowFraction!;
  if (f !== frac) { moves.push(`${i}:${(f * 100).toFixed(0)}%`); frac = f; }
  if ((i + 1) % seg === 0) {
    tw += wh; tl += lh;
    console.log(`${String(i + 1).padStart(7)} w ${String(wh).padStart(5)} lru ${String(lh).padStart(5)} diff ${String(wh - lh).padStart(5)} cum ${String(tw - tl).padStart(6)} win ${(f * 100).toFixed(0)}%`);
    wh = 0; lh = 0;
  }
}
tw += wh; tl += lh;
console.log(`total w ${tw} lru ${tl} (${(100 * tw / trace.ids.length).toFixed(2)} vs ${(100 * tl / trace.ids.length).toFixed(2)})`);
console.log('window changes:', moves.slice(0, 40).join(' '), moves.length > 40 ? `... (${moves.length})` : '');
