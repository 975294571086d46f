// Does the measured fill still compile code? Bytes per entry at 100k after a warm-up of W entries (argv[2]).
import { addTo, benchStore, used, VALUE_LENGTH } from '../../bench/store/memory.ts';
const w = Number(process.argv[2]); const n = 100000;
const value = new Uint8Array(VALUE_LENGTH).fill(7);
{ const s = benchStore(); for (let i = 0; i < w; i++) addTo(s, 50_000_000 + i, value); }
const before = used(); const store = benchStore(); (globalThis as any).keep = store;
for (let i = 0; i < n; i++) addTo(store, i, value);
console.log(w, ((used() - before) / n).toFixed(2));
