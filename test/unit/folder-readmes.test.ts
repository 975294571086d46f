// Every folder of src/ has a README.md saying what lives there, what it may import and who imports
// it; docs/ARCHITECTURE.md draws the same layering. These checks keep both honest: a new folder
// without a README, a "May import" line that disagrees with ALLOWED_IMPORTS in eslint.config.js
// (the list lint enforces), an "Imported by" line that disagrees with the imports in the code, or a
// README naming a .ts file that is not there fails here, with the line to fix in the message.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const SRC = resolve(ROOT, 'src');

type Layering = Record<string, string[]>;

async function allowedImports(): Promise<Layering> {
  const config = (await import(new URL('../../eslint.config.js', import.meta.url).href)) as { ALLOWED_IMPORTS: Layering };
  return config.ALLOWED_IMPORTS;
}

function subdirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });
}

/** For each folder of src/, the other folders of src/ its files import (static, re-export or dynamic import). */
function actualImports(): Map<string, Set<string>> {
  const imports = new Map<string, Set<string>>();
  for (const folder of subdirectories(SRC)) {
    const targets = new Set<string>();
    for (const file of sourceFiles(join(SRC, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = relative(SRC, resolve(dirname(file), m[1]!));
        const top = target.split(sep)[0]!;
        if (!target.startsWith('..') && target.includes(sep) && top !== folder) targets.add(top);
      }
    }
    imports.set(folder, targets);
  }
  return imports;
}

/** The backquoted names on the README's line that starts with `label`, sorted; null when it has no such line. */
function quotedOnLine(readme: string, label: string): string[] | null {
  const line = readme.split('\n').find((l) => l.startsWith(label));
  if (line === undefined) return null;
  return [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).sort();
}

/**
 * The .ts files a README names that do not exist. A path whose first segment is a top-level
 * directory of the repository (`src/replication/partition-actor.ts`, `test/unit/x.test.ts`) is read
 * from the repository root; any other (`mailbox.ts`, `scenarios/kv.ts`) from the README's folder.
 * `*` matches within one path segment (`policy-*.ts`) and must match at least one file.
 */
function missingFiles(readme: string, folderDir: string): string[] {
  const rootDirs = new Set(subdirectories(ROOT));
  const missing: string[] = [];
  for (const [name] of readme.matchAll(/[\w.*/-]+\.ts\b/g)) {
    const base = rootDirs.has(name.split('/')[0]!) ? ROOT : folderDir;
    const path = resolve(base, name);
    if (!name.includes('*')) {
      if (!existsSync(path)) missing.push(name);
      continue;
    }
    const dir = dirname(path);
    const pattern = new RegExp(`^${path.slice(dir.length + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    if (!existsSync(dir) || !readdirSync(dir).some((f) => pattern.test(f))) missing.push(name);
  }
  return missing;
}

/** What is wrong with one folder's README, in words that say which line to fix. */
function readmeProblems(folder: string, readme: string, layering: Layering, importers: string[], folderDir: string): string[] {
  const problems: string[] = [];
  const allowed = layering[folder];
  const mayImport = quotedOnLine(readme, 'May import:');
  if (allowed === undefined) problems.push(`src/${folder} has no entry in ALLOWED_IMPORTS (eslint.config.js), so lint does not guard its imports`);
  else if (mayImport === null) problems.push(`src/${folder}/README.md has no line starting "May import:"`);
  else if (mayImport.join() !== [...allowed].sort().join()) {
    problems.push(`src/${folder}/README.md "May import:" names [${mayImport.join(', ')}] but ALLOWED_IMPORTS.${folder} is [${[...allowed].sort().join(', ')}]`);
  }
  const importedBy = quotedOnLine(readme, 'Imported by:');
  if (importedBy === null) problems.push(`src/${folder}/README.md has no line starting "Imported by:"`);
  else if (importedBy.join() !== [...importers].sort().join()) {
    problems.push(`src/${folder}/README.md "Imported by:" names [${importedBy.join(', ')}] but the folders importing it are [${[...importers].sort().join(', ')}]`);
  }
  for (const name of missingFiles(readme, folderDir)) problems.push(`src/${folder}/README.md names ${name}, which does not exist`);
  return problems;
}

function importersOf(folder: string, imports: Map<string, Set<string>>): string[] {
  return [...imports].filter(([, targets]) => targets.has(folder)).map(([f]) => f);
}

test('every folder of src/ has a README.md whose "May import", "Imported by" and file names are true', async () => {
  const layering = await allowedImports();
  const imports = actualImports();
  // The import scan itself works: it sees the node's composition root use replication and gossip.
  assert.ok(imports.get('node')?.has('replication') && imports.get('node')?.has('gossip'), 'the import scan found nothing');
  const problems: string[] = [];
  for (const folder of subdirectories(SRC)) {
    const path = join(SRC, folder, 'README.md');
    if (!existsSync(path)) {
      problems.push(`src/${folder} has no README.md`);
      continue;
    }
    problems.push(...readmeProblems(folder, readFileSync(path, 'utf8'), layering, importersOf(folder, imports), join(SRC, folder)));
  }
  assert.deepEqual(problems, []);
});

test('the README checks catch a wrong "May import" line, a wrong "Imported by" line and a file that is not there', async () => {
  const layering = await allowedImports();
  const dir = join(SRC, 'actors');
  const good = '# src/actors\n\n- `mailbox.ts`: the mailbox.\n\nMay import: `protocol`, `runtime`.\nImported by: `node`, `replication`.\n';
  assert.deepEqual(readmeProblems('actors', good, layering, ['replication', 'node'], dir), []);
  const wrong = good.replace('`protocol`, `runtime`', '`runtime`, `store`').replace('`node`, ', '').replace('mailbox.ts', 'mailbox-v2.ts');
  const problems = readmeProblems('actors', wrong, layering, ['node', 'replication'], dir);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0]!, /May import/);
  assert.match(problems[1]!, /Imported by/);
  assert.match(problems[2]!, /mailbox-v2\.ts/);
  assert.equal(readmeProblems('actors', '# src/actors\n', layering, [], dir).length, 2, 'a README without the two lines passes');
  assert.match(readmeProblems('unknown', good, layering, ['node', 'replication'], dir)[0]!, /no entry in ALLOWED_IMPORTS/);
});

test('file names in a README resolve from its folder, from the repository root, and as * patterns', () => {
  const dir = join(SRC, 'store');
  assert.deepEqual(missingFiles('`store.ts`, `trace/parse.ts`, `policy-*.ts`, `src/runtime/env.ts`, test/unit/lint-seam.test.ts', dir), []);
  assert.deepEqual(missingFiles('`env.ts`, `trace/nothing.ts`, `policy-x*.ts`, `src/store/env.ts`', dir), ['env.ts', 'trace/nothing.ts', 'policy-x*.ts', 'src/store/env.ts']);
});

/** The section of docs/ARCHITECTURE.md that draws the layering. */
function layersSection(): string {
  const doc = readFileSync(resolve(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
  const start = doc.indexOf('## Layers and the direction of dependencies');
  assert.notEqual(start, -1, 'docs/ARCHITECTURE.md has no section "Layers and the direction of dependencies"');
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** Each folder's level: 0 for a folder that imports none, else one more than the highest level it imports. */
function levels(layering: Layering): Map<string, number> {
  const level = new Map<string, number>();
  const of = (folder: string): number => {
    const known = level.get(folder);
    if (known !== undefined) return known;
    const l = Math.max(-1, ...(layering[folder] ?? []).map(of)) + 1;
    level.set(folder, l);
    return l;
  };
  for (const folder of Object.keys(layering)) of(folder);
  return level;
}

test('docs/ARCHITECTURE.md shows every folder of src/, and its layering table and levels match ALLOWED_IMPORTS', async () => {
  const layering = await allowedImports();
  const section = layersSection();
  const table = new Map<string, string[]>();
  for (const m of section.matchAll(/^\| `([a-z]+)` \| ([^|]*) \|/gm)) {
    table.set(m[1]!, [...m[2]!.matchAll(/`([^`]+)`/g)].map((q) => q[1]!).sort());
  }
  const expected = new Map(Object.entries(layering).map(([f, allowed]) => [f, [...allowed].sort()]));
  assert.deepEqual(Object.fromEntries(table), Object.fromEntries(expected), 'the "folder | may import" table differs from ALLOWED_IMPORTS');

  const drawn = new Map<string, number>();
  for (const m of section.matchAll(/^level (\d+) +(.+)$/gm)) {
    for (const folder of m[2]!.trim().split(/ +/)) drawn.set(folder, Number(m[1]));
  }
  assert.deepEqual(Object.fromEntries([...drawn].sort()), Object.fromEntries([...levels(layering)].sort()), 'the levels drawn differ from those ALLOWED_IMPORTS implies');

  for (const folder of subdirectories(SRC)) assert.match(section, new RegExp(`\\| \`src/${folder}\` \\|`), `docs/ARCHITECTURE.md has no row for src/${folder}`);
});
