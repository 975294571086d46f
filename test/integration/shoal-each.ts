/**
 * Runs several `shoal` commands in this one process, one after another, through the same `main`
 * as bin/shoal.js (see runShoalEach in daemon-harness.ts): argv[2] is a JSON list of argument
 * lists; prints a JSON list of { status, stdout, stderr }, one per command, as its only output.
 */
import { main } from '../../src/cli/main.ts';

const runs = JSON.parse(process.argv[2]!) as string[][];
const write = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
const results: { status: number; stdout: string; stderr: string }[] = [];
for (const argv of runs) {
  const captured = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].write = ((chunk: string | Uint8Array) => {
      captured[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof process.stdout.write;
  }
  try {
    results.push({ status: await main(argv), ...captured });
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
}
process.stdout.write(JSON.stringify(results));
