// Needs scratch/zigzag28/admission-histogram.patch applied to src (git apply); prints nothing useful without it.
// Scratch: admissions by (candidate count, victim count, victim kind, stamps) during one pass of the synthetic loop.
import { keyHashes } from '../../src/store/trace/policy-sim.ts';
import { policyHits } from '../../src/store/trace/policy-sim.ts';
const entries = Number(process.argv[2] ?? 500); const pass = Number(process.argv[3] ?? 2); const keys = 4 * entries;
const hashes = keyHashes(keys);
const ids = Int32Array.from({ length: pass * keys }, (_, i) => i % keys);
// Replay twice: the first to (pass-1) passes silently is not possible without state, so count during the last pass via a request hook.
const dbg: any = { on: false }; (globalThis as any).__zzdbg = dbg;
const before = ids.subarray(0, (pass - 1) * keys);
const h0 = policyHits(before, entries, hashes, 'wtinylfu');
// policyHits replays from scratch: replay all, switching counting on at the pass's start via a proxy array.
const proxy = new Proxy(ids, { get(t, p: any) { if (p === String((pass - 1) * keys)) dbg.on = true; const v = (t as any)[p]; return typeof v === 'function' ? v.bind(t) : v; } });
const h1 = policyHits(proxy as unknown as Int32Array, entries, hashes, 'wtinylfu');
console.log('pass', pass, 'hits', h1 - h0, 'adm1', dbg.adm1, 'adm2', dbg.adm2);
delete dbg.on; delete dbg.adm1; delete dbg.adm2;
console.log(Object.entries(dbg).sort((a: any, b: any) => b[1] - a[1]).slice(0, 16).map(([k, v]) => `${k}:${v}`).join('  '));
