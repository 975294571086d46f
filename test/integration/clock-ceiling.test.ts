/**
 * The clock ceiling in a real data directory (src/daemon/clock-ceiling-file.ts): a `shoal start`
 * node persists a ceiling above its clock in DATA-DIR/clock-ceiling.sealed, and a restarted node
 * starts its clock above the ceiling it finds there, so its versions never go back across the
 * restart. The wall clock cannot be stepped here, so the test writes a ceiling ten minutes ahead
 * before the restart: the ceiling the restarted node saves next (its clock plus a window) is above
 * it only if its clock started there. A file it cannot read is warned about and the node starts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBytes, UNKEYED, writeSealedFile } from '../../src/security/sealed-file.ts';
import { TestCluster, tempDir, until } from './daemon-harness.ts';

const PURPOSE = 'clock-ceiling';

function readCeiling(path: string): number | undefined {
  try {
    return (JSON.parse(Buffer.from(openBytes(readFileSync(path), PURPOSE, UNKEYED)).toString('utf8')) as { ceilingMs: number }).ceilingMs;
  } catch {
    return undefined; // not there yet, or not a ceiling yet
  }
}

test('a restarted node starts its clock above the ceiling in its data directory; an unreadable one is warned about and the node starts', async (t) => {
  const dataDir = tempDir('shoal-ceiling-');
  const path = join(dataDir, 'clock-ceiling.sealed');
  const cluster = await TestCluster.create(1, ['--data-dir', dataDir]);
  t.after(() => cluster.cleanup());
  const node = cluster.nodes[0]!;
  const before = Date.now();
  await node.start();
  const first = await until('the first ceiling to be saved', () => readCeiling(path), 10_000, 20);
  assert.ok(first > before, `the ceiling ${first} is ahead of the wall clock at start ${before}`);
  assert.equal(await node.stop(), 0);

  // Ten minutes ahead: the restarted node's clock starts there, and its next ceiling is above it.
  const ahead = Date.now() + 600_000;
  writeSealedFile(path, Buffer.from(JSON.stringify({ format: 1, ceilingMs: ahead })), PURPOSE, UNKEYED);
  await node.start();
  const next = await until('the restarted node to save its ceiling', () => {
    const ceiling = readCeiling(path);
    return ceiling !== undefined && ceiling !== ahead ? ceiling : undefined;
  }, 10_000, 20);
  assert.ok(next > ahead, `the next ceiling ${next} is above the one the node started from, ${ahead}`);
  assert.ok(node.logs.some((l) => typeof l['msg'] === 'string' && /clock starts at its persisted ceiling/.test(l['msg'])), 'the start far ahead of the wall clock is logged');
  assert.equal(await node.stop(), 0);

  writeFileSync(path, 'not a sealed file');
  await node.start();
  assert.ok(node.logs.some((l) => typeof l['msg'] === 'string' && /cannot read the clock ceiling/.test(l['msg'])), 'the unreadable file is warned about');
  await until('a readable ceiling to be written again', () => readCeiling(path), 10_000, 20);
});
