// The determinism seam is enforced by lint (eslint.config.js). These cases prove the rule bites in
// every core folder and stays quiet outside them, so a slip fails `npm test` instead of silently
// breaking replay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
const CORE = ['actors', 'gossip', 'ring', 'store', 'replication', 'node', 'protocol'];

async function problems(folder: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `src/${folder}/lint-probe.ts` });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const FORBIDDEN: Record<string, string> = {
  'Math.random()': 'export const x = Math.random();',
  'Date.now()': 'export const x = Date.now();',
  'new Date()': 'export const x = new Date();',
  setTimeout: 'setTimeout(() => {}, 1);',
  setInterval: 'setInterval(() => {}, 1);',
  setImmediate: 'setImmediate(() => {});',
  'process.hrtime': 'export const x = process.hrtime.bigint();',
  'performance.now()': 'export const x = performance.now();',
  'crypto.randomUUID()': 'export const x = crypto.randomUUID();',
  "import 'node:crypto'": "import { randomBytes } from 'node:crypto';\nexport const x = randomBytes(4);",
  "import 'ws'": "import { WebSocket } from 'ws';\nexport const x = WebSocket;",
  "import 'net'": "import net from 'net';\nexport const x = net;",
  "import 'node:dgram'": "import dgram from 'node:dgram';\nexport const x = dgram;",
  "import 'http'": "import http from 'http';\nexport const x = http;",
  await: 'export async function f(p: Promise<number>) { return await p; }',
};

for (const [what, code] of Object.entries(FORBIDDEN)) {
  test(`lint rejects ${what} in every core folder`, async () => {
    for (const folder of CORE) {
      const found = await problems(folder, code);
      assert.ok(found.length > 0, `${what} in src/${folder} passed lint`);
    }
  });
}

test('lint allows the same calls outside core folders (the real runtime, the CLI)', async () => {
  assert.deepEqual(await problems('runtime', 'export const x = Date.now() + Math.random();'), []);
  assert.deepEqual(await problems('cli', 'setTimeout(() => {}, 1);'), []);
});

test('core code that uses only the injected environment passes lint', async () => {
  const code = "import type { Env } from '../runtime/env.ts';\nexport const now = (env: Env) => env.clock.wallMs() + env.random.next();\n";
  assert.deepEqual(await problems('gossip', code), []);
});

async function layering(): Promise<{ ALLOWED_IMPORTS: Record<string, string[]> }> {
  return (await import(new URL('../../eslint.config.js', import.meta.url).href)) as { ALLOWED_IMPORTS: Record<string, string[]> };
}

// Import directions between folders (ALLOWED_IMPORTS in eslint.config.js): the same lint run
// rejects an import that points up the layering, in every folder, and lets the allowed ones pass.
test('lint rejects imports against the folder layering, and allows the listed ones', async () => {
  const { ALLOWED_IMPORTS } = await layering();
  const folders = Object.keys(ALLOWED_IMPORTS);
  for (const folder of folders) {
    for (const other of folders) {
      if (other === folder) continue;
      const code = `import type { X } from '../${other}/probe-target.ts';\nexport type Y = X;\n`;
      const restricted = (await problems(folder, code)).filter((p) => p.startsWith('no-restricted-imports'));
      const allowed = ALLOWED_IMPORTS[folder]!.includes(other);
      assert.equal(restricted.length === 0, allowed, `src/${folder} importing src/${other}: ${allowed ? 'allowed' : 'forbidden'} by ALLOWED_IMPORTS`);
    }
  }
  // The two folder cycles this rule removed stay removed.
  assert.ok(!ALLOWED_IMPORTS.daemon!.includes('cli') || !ALLOWED_IMPORTS.cli!.includes('daemon'));
  assert.ok(!ALLOWED_IMPORTS.runtime!.includes('protocol') || !ALLOWED_IMPORTS.protocol!.includes('runtime'));
});

test('the layering has no cycles', async () => {
  const { ALLOWED_IMPORTS } = await layering();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (folder: string, path: string[]): void => {
    if (state.get(folder) === 'done') return;
    assert.notEqual(state.get(folder), 'visiting', `import cycle: ${[...path, folder].join(' -> ')}`);
    state.set(folder, 'visiting');
    for (const next of ALLOWED_IMPORTS[folder] ?? []) visit(next, [...path, folder]);
    state.set(folder, 'done');
  };
  for (const folder of Object.keys(ALLOWED_IMPORTS)) visit(folder, []);
});

test('lint rejects the production environment (runtime/real) in core folders, and allows it in the daemon', async () => {
  const code = "import { realEnv } from '../runtime/real.ts';\nexport const x = realEnv;\n";
  for (const folder of CORE) assert.ok((await problems(folder, code)).some((p) => p.startsWith('no-restricted-imports')), `src/${folder} importing runtime/real passed lint`);
  assert.deepEqual((await problems('daemon', code)).filter((p) => p.startsWith('no-restricted-imports')), []);
});
