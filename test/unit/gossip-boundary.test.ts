// Nothing outside src/gossip reaches into the SWIM implementation: the rest of the tree imports the
// Membership interface, the configuration, the wire format and the errors, and only the composition
// roots construct the Swim class. A new import of a part (the member table, the probe loop...)
// from outside the folder fails here; add to the interface instead.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const GOSSIP = resolve(ROOT, 'src/gossip');

/** Modules of src/gossip anyone may import. */
const PUBLIC = new Set(['membership.ts', 'config.ts', 'errors.ts', 'wire.ts', 'seeds.ts', 'protocol-version.ts']);
/** Files that build a SWIM member, and so import swim.ts itself. */
const COMPOSITION_ROOTS = new Set(['src/node/create-node.ts', 'src/sim/scenarios/swim-harness.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every (importing file, gossip module) pair outside src/gossip. */
function gossipImports(): { file: string; module: string }[] {
  const found: { file: string; module: string }[] = [];
  for (const path of sourceFiles(resolve(ROOT, 'src'))) {
    if (path.startsWith(GOSSIP + '/')) continue;
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = resolve(dirname(path), m[1]!);
      if (dirname(target) === GOSSIP) found.push({ file: relative(ROOT, path), module: relative(GOSSIP, target) });
    }
  }
  return found;
}

test('outside src/gossip, only the public modules are imported, and swim.ts only by composition roots', () => {
  const imports = gossipImports();
  // The scan itself works: it sees the node's composition root build the Swim class.
  assert.ok(imports.some((i) => i.file === 'src/node/create-node.ts' && i.module === 'swim.ts'), 'the scan found no import of swim.ts at all');
  const reaching = imports.filter((i) => !PUBLIC.has(i.module) && !(i.module === 'swim.ts' && COMPOSITION_ROOTS.has(i.file)));
  assert.deepEqual(reaching, []);
});
