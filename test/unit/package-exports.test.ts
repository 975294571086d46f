// The SDK package as a user's code resolves it: `import { connect } from 'shoal-client'` loads the
// compiled JavaScript and type declarations in packages/client/dist (built by `npm install`
// through the prepare script), in plain Node.js without the TypeScript loader the tests run
// under; the `browser` condition picks the entry that never loads `ws`. The server package
// `shoal` exports no code, only its `shoal` command. test/integration/pack-install.test.ts checks
// the same from packed and installed tarballs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = 'run `npm run build` (npm install does it)';

function resolveIn(conditions: string[], script: string): string[] {
  const args = [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', script];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH }, encoding: 'utf8' })) as string[];
}

test('shoal-client loads in plain Node.js and exports the SDK with its types', () => {
  assert.ok(existsSync(`${root}/packages/client/dist/client/index.js`), `packages/client/dist is missing: ${built}`);
  assert.ok(existsSync(`${root}/packages/client/dist/client/index.d.ts`), 'type declarations are missing');
  const script = "const m = await import('shoal-client'); console.log(JSON.stringify([import.meta.resolve('shoal-client'), typeof m.connect, typeof m.TimeoutError]));";
  const [resolved, connect, timeoutError] = resolveIn([], script);
  assert.match(resolved!, /\/packages\/client\/dist\/client\/index\.js$/);
  assert.equal(connect, 'function');
  assert.equal(timeoutError, 'function');
});

test('the browser condition resolves shoal-client to the entry without ws', () => {
  const script = "const m = await import('shoal-client'); console.log(JSON.stringify([import.meta.resolve('shoal-client'), typeof m.connect]));";
  const [resolved, connect] = resolveIn(['browser'], script);
  assert.match(resolved!, /\/packages\/client\/dist\/client\/platform\.js$/);
  assert.equal(connect, 'function');
});

test('the shoal package has the compiled command and exports no code', () => {
  assert.ok(existsSync(`${root}/packages/server/dist/cli/main.js`), `packages/server/dist is missing: ${built}`);
  const script = "try { await import('shoal'); console.log(JSON.stringify(['loaded'])); } catch (e) { console.log(JSON.stringify([e.code])); }";
  assert.deepEqual(resolveIn([], script), ['ERR_PACKAGE_PATH_NOT_EXPORTED']);
});
