// A 1M first fill, for --cpu-prof.
import { addTo, benchStore, VALUE_LENGTH } from '../../bench/store/memory.ts';
const value = new Uint8Array(VALUE_LENGTH).fill(7);
for (let r = 0; r < 2; r++) {
  const store = benchStore();
  const t = performance.now();
  for (let i = 0; i < 1_000_000; i++) addTo(store, i, value);
  console.log((performance.now() - t).toFixed(0), 'ms');
}
