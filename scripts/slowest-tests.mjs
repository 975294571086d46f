// A node:test reporter that prints, once every test file has run, the slowest top-level tests and
// the file each is declared in. CI's wall time is set by what its two lanes run, so this list is
// what to read before cutting or splitting tests. `npm run test:all` uses it beside the spec
// reporter; it prints nothing until the end.
import { relative } from 'node:path';

/** How many of the slowest tests the summary lists. */
const LISTED = 20;

export default async function* slowestTests(source) {
  const tests = [];
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) continue;
    const file = event.data.file ? relative(process.cwd(), event.data.file) : '(unknown file)';
    tests.push({ seconds: (event.data.details?.duration_ms ?? 0) / 1000, file, name: event.data.name });
  }
  tests.sort((a, b) => b.seconds - a.seconds);
  const summed = tests.reduce((sum, one) => sum + one.seconds, 0);
  yield `\nslowest of ${tests.length} top-level tests (${summed.toFixed(0)} s summed over all):\n`;
  for (const { seconds, file, name } of tests.slice(0, LISTED)) {
    yield `${seconds.toFixed(1).padStart(7)} s  ${file}  ${name.length > 100 ? `${name.slice(0, 97)}...` : name}\n`;
  }
}
