// perf37 scratch: the compiled daemon with process.memoryUsage timed; SIGUSR2 prints calls and time to stderr.
const original = process.memoryUsage;
let calls = 0, ns = 0n;
const timed = () => { const t = process.hrtime.bigint(); try { return original(); } finally { ns += process.hrtime.bigint() - t; calls++; } };
timed.rss = original.rss;
process.memoryUsage = timed;
import v8 from 'node:v8';
const each = (f) => { const t = process.hrtime.bigint(); for (let i = 0; i < 5; i++) f(); return Number(process.hrtime.bigint() - t) / 5e6; };
const sums = { memoryUsage: 0, rss: 0, getHeapStatistics: 0, getHeapSpaceStatistics: 0 };
let ticking = null;
const once = (f) => { const t = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t) / 1e6; };
process.on('SIGUSR2', () => {
  if (ticking === null) ticking = setInterval(() => { sums.getHeapStatistics += once(v8.getHeapStatistics); sums.rss += once(original.rss); sums.memoryUsage += once(original); sums.getHeapSpaceStatistics += once(v8.getHeapSpaceStatistics); }, 97);
  else { clearInterval(ticking); process.stderr.write(`pid ${process.pid} during load, ms summed: ${JSON.stringify(sums)}\n`); }
  process.stderr.write(`pid ${process.pid} per call ms: memoryUsage ${each(original)} rss ${each(original.rss)} getHeapStatistics ${each(v8.getHeapStatistics)} getHeapSpaceStatistics ${each(v8.getHeapSpaceStatistics)}\n`); process.stderr.write(`memoryUsage pid ${process.pid}: ${calls} calls, ${Number(ns) / 1e6} ms\n`); calls = 0; ns = 0n; });
await import(process.env.PERF37_SHOAL_BIN);
