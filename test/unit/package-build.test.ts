// `npm run build` must rebuild the SDK package after an edit to any file it compiles. The SDK's
// tsconfig (packages/client/tsconfig.json) names only its two entries as root files, so that tsc
// emits just what they reach and never the server. `tsc -b` (TypeScript 6) decides such a project is
// up to date by its root files alone: after an edit to src/client/connection.ts, `npm run build`
// said nothing, left packages/client/dist stale, and every test and user of the built SDK ran the old
// code. `tsc -p` compares every file of the program with its build info. This test builds a two-file
// project with the SDK's own compiler options by the command the build script uses for the SDK.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

test('the build script rebuilds the SDK package after an edit to a file its entries import', (t) => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const sdkCommand = /\btsc ((?:-\S+ )*)packages\/client\b/.exec(scripts.build!);
  assert.ok(sdkCommand, `the build script builds packages/client with tsc: ${scripts.build}`);
  const flags = sdkCommand[1]!.trim().split(/\s+/).filter((f) => f !== '');

  const dir = mkdtempSync(join(tmpdir(), 'shoal-sdk-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The SDK's compiler options; only the sources and where they go are this project's.
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'packages', 'client', 'tsconfig.json'),
      compilerOptions: { rootDir: '.', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo', types: [] },
      include: [],
      files: ['entry.ts'],
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(dir, 'entry.ts'), "export { answer } from './dep.ts';\n");
  const build = (): void => {
    execFileSync(process.execPath, [tsc, ...flags, dir], { cwd: root, encoding: 'utf8' });
  };
  writeFileSync(join(dir, 'dep.ts'), 'export const answer = 41;\n');
  build();
  assert.match(readFileSync(join(dir, 'dist', 'dep.js'), 'utf8'), /answer = 41/);
  writeFileSync(join(dir, 'dep.ts'), 'export const answer = 42;\n');
  build();
  assert.match(readFileSync(join(dir, 'dist', 'dep.js'), 'utf8'), /answer = 42/, 'the edit to dep.ts reached dist');
});
