// A node:test reporter that prints, once every test file has run, the slowest top-level tests and
// the file each is declared in, then the slowest files (their tests summed) and each folder's sum.
// CI's wall time is set by what its two lanes run, so these lists are what to read before cutting
// or splitting tests. `npm run test:all` uses it beside the spec reporter; it prints nothing until
// the end.
import { relative } from 'node:path';

/** How many of the slowest tests, and of the slowest files, the summary lists. */
const LISTED = 20;

const seconds = (ms) => (ms / 1000).toFixed(1).padStart(7);

export default async function* slowestTests(source) {
  const tests = [];
  /**
   * Per file: its top-level tests' summed durations. A file is where a test is declared: the
   * sweeps of test/sim/sweeps-*.test.ts and regression-seeds.test.ts all count under
   * test/sim/sweep.js. (No wall time per file: the runner reports a file's events when its turn in
   * the report comes, not as they happen.)
   */
  const files = new Map();
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) continue;
    const file = event.data.file ? relative(process.cwd(), event.data.file) : '(unknown file)';
    const duration = event.data.details?.duration_ms ?? 0;
    files.set(file, (files.get(file) ?? 0) + duration);
    tests.push({ ms: duration, file, name: event.data.name });
  }
  tests.sort((a, b) => b.ms - a.ms);
  const summed = tests.reduce((sum, one) => sum + one.ms, 0);
  yield `\nslowest of ${tests.length} top-level tests (${(summed / 1000).toFixed(0)} s summed over all):\n`;
  for (const { ms, file, name } of tests.slice(0, LISTED)) {
    yield `${seconds(ms)} s  ${file}  ${name.length > 100 ? `${name.slice(0, 97)}...` : name}\n`;
  }
  const byFile = [...files].sort((a, b) => b[1] - a[1]);
  yield `\nslowest of ${byFile.length} files (their top-level tests summed):\n`;
  for (const [file, ms] of byFile.slice(0, LISTED)) yield `${seconds(ms)} s  ${file}\n`;
  // Per folder (test/sim, test/integration...): the CPU-bound simulator against the real processes.
  const folders = new Map();
  for (const [file, ms] of files) {
    const folder = file.split('/').slice(0, 2).join('/');
    folders.set(folder, (folders.get(folder) ?? 0) + ms);
  }
  yield `\nper folder (top-level tests summed):\n`;
  for (const [folder, ms] of [...folders].sort((a, b) => b[1] - a[1])) yield `${seconds(ms)} s  ${folder}\n`;
}
