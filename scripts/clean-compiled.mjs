// Deletes the compiled .js files (tsconfig.tests.json) whose .ts source is gone, so that a test
// file deleted or renamed does not go on running from its stale compiled copy. Every .js file under
// these folders is compiler output: .gitignore keeps them all out of the repository.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const COMPILED_FOLDERS = ['src', 'test', 'bench', 'fuzz', 'deploy', 'scripts'];

let removed = 0;
for (const folder of COMPILED_FOLDERS) {
  if (!existsSync(folder)) continue;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    const file = join(entry.parentPath, entry.name);
    if (existsSync(`${file.slice(0, -3)}.ts`)) continue;
    rmSync(file);
    removed++;
  }
}
if (removed > 0) console.log(`removed ${removed} compiled file(s) whose .ts source is gone`);
