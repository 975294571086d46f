// Scratch: hits per pass of a loop over 4x the cache's keys (the synthetic scan pattern), default policy.
import { keyHashes, policyHits } from '../../src/store/trace/policy-sim.ts';
const entries = Number(process.argv[2] ?? 500); const keys = 4 * entries; const passes = 8;
const hashes = keyHashes(keys);
const ids = Int32Array.from({ length: passes * keys }, (_, i) => i % keys);
const out: number[] = []; let prev = 0;
for (let p = 1; p <= passes; p++) { const h = policyHits(ids.subarray(0, p * keys), entries, hashes, 'wtinylfu'); out.push(h - prev); prev = h; }
console.log(entries, out.join(' '));
