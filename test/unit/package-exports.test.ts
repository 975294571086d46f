// The SDK is the package root: a user's `import { connect } from 'shoal'` loads the compiled
// JavaScript and type declarations in dist/ (built by `npm install` through the prepare script),
// so it works in plain Node.js, without the TypeScript loader the tests and the CLI run under.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the package root loads in plain Node.js and exports the SDK with its types', () => {
  assert.ok(existsSync(`${root}/dist/index.js`), 'dist/ is missing: run `npm run build` (npm install does it)');
  assert.ok(existsSync(`${root}/dist/index.d.ts`), 'type declarations are missing');
  const script = "const m = await import('shoal'); console.log(JSON.stringify([import.meta.resolve('shoal'), typeof m.connect, typeof m.TimeoutError]));";
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: { PATH: process.env.PATH }, encoding: 'utf8' });
  const [resolved, connect, timeoutError] = JSON.parse(out) as string[];
  assert.match(resolved!, /\/dist\/index\.js$/);
  assert.equal(connect, 'function');
  assert.equal(timeoutError, 'function');
});
