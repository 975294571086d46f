// The SDK examples a newcomer copies first, run as the docs print them: README.md's "From code"
// block and docs/CLIENT.md's opening block, each taken from the page, against a real node, with
// only the seed address changed. An example that names a call the SDK no longer has, or whose
// commented results no longer hold, fails here rather than in a reader's terminal (docs40).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, tempDir, until } from './daemon-harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A bound on a hang only: a loaded 2-core machine can be many times slower than an idle one. */
const SNIPPET_HANG_MS = 120_000;

/** The first ```ts block of a page that comes after `marker`, with the dev cluster's seed replaced. */
function snippet(page: string, marker: string, seed: string): string {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const from = text.indexOf(marker);
  assert.ok(from >= 0, `${page} has no "${marker}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(from));
  assert.ok(block, `${page} has no ts block after "${marker}"`);
  assert.ok(block[1]!.includes("'127.0.0.1:7400'"), `${page}'s example no longer seeds 127.0.0.1:7400`);
  return block[1]!.replaceAll("'127.0.0.1:7400'", `'${seed}'`);
}

/** Runs `code` as an ES module of an application that installed shoal-client (the built package). */
function runModule(code: string): Promise<string> {
  const app = tempDir('shoal-docs-');
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(join(ROOT, 'packages/client'), join(app, 'node_modules/shoal-client'), 'dir');
  writeFileSync(join(app, 'example.mjs'), code);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['example.mjs'], { cwd: app, timeout: SNIPPET_HANG_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the example failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('README.md and docs/CLIENT.md: the opening SDK examples run as printed and give the results their comments say', { timeout: 300_000 }, async (t) => {
  const [port, peerPort] = await freePorts(2);
  const node = new DaemonProcess({ name: 'docs', port: port!, peerPort: peerPort!, seeds: [], extra: [] });
  await node.start();
  t.after(() => node.kill('SIGKILL'));
  await until('the node to serve', async () => ((await node.status()).joined ? true : undefined), 60_000);

  const readme = snippet('README.md', 'From code', node.clientAddress);
  assert.equal(await runModule(readme), "{ name: 'Ada' }\n", 'README: console.log of the value just set');

  // The names the block declares, printed after it: `// { name: 'Ada' }` and `// 1, 2, null`.
  const client = snippet('docs/CLIENT.md', '# Shoal client SDK', node.clientAddress);
  const printed = await runModule(`${client}console.log(JSON.stringify({ user, a, b, c }));\n`);
  assert.deepEqual(JSON.parse(printed), { user: { name: 'Ada' }, a: 1, b: 2, c: null });
});
