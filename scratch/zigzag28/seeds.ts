// Scratch: one row's default hit ratio over seeds 1-8 (the random admission stream), this tree's src.
import { loadTrace } from '../../src/cli/bench.ts';
import { replay } from '../../src/store/trace/replay.ts';
const [file, format, size] = process.argv.slice(2);
const trace = loadTrace(file!, format as never);
const out: string[] = [];
for (let seed = 1; seed <= 8; seed++) out.push(replay(trace, Number(size), 'wtinylfu', { seed }).hitRatio.toFixed(2));
console.log(size, out.join(' '));
