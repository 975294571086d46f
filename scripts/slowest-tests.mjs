// A node:test reporter that prints, once every test file has run, the slowest top-level tests and
// the file each is declared in, then the slowest files. CI's wall time is set by what its two lanes
// run, so these lists are what to read before cutting or splitting tests. `npm run test:all` uses
// it beside the spec reporter; it prints nothing until the end.
import { relative } from 'node:path';

/** How many of the slowest tests, and of the slowest files, the summary lists. */
const LISTED = 20;

const seconds = (ms) => (ms / 1000).toFixed(1).padStart(7);

export default async function* slowestTests(source) {
  const tests = [];
  /**
   * Per file: its top-level tests' summed durations, and the span from the file's first event to
   * its last as this reporter saw them (about the file's wall time, process start-up included).
   */
  const files = new Map();
  for await (const event of source) {
    const file = event.data?.file ? relative(process.cwd(), event.data.file) : undefined;
    if (file !== undefined) {
      const now = performance.now();
      const seen = files.get(file) ?? { first: now, last: now, summed: 0 };
      seen.last = now;
      files.set(file, seen);
    }
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) continue;
    const duration = event.data.details?.duration_ms ?? 0;
    if (file !== undefined) files.get(file).summed += duration;
    tests.push({ ms: duration, file: file ?? '(unknown file)', name: event.data.name });
  }
  tests.sort((a, b) => b.ms - a.ms);
  const summed = tests.reduce((sum, one) => sum + one.ms, 0);
  yield `\nslowest of ${tests.length} top-level tests (${(summed / 1000).toFixed(0)} s summed over all):\n`;
  for (const { ms, file, name } of tests.slice(0, LISTED)) {
    yield `${seconds(ms)} s  ${file}  ${name.length > 100 ? `${name.slice(0, 97)}...` : name}\n`;
  }
  const byFile = [...files].map(([file, f]) => ({ file, ...f })).sort((a, b) => b.summed - a.summed);
  yield `\nslowest of ${byFile.length} files (their top-level tests summed; in brackets, first to last event seen):\n`;
  for (const { file, summed: ms, first, last } of byFile.slice(0, LISTED)) {
    yield `${seconds(ms)} s  (${seconds(last - first).trim()} s)  ${file}\n`;
  }
}
