/**
 * probe-ops F3 (/work/notes/s18), with a real process: one node with a disk tier, stopped for a
 * restart (`--stop-mode restart`) while every value it holds is still in memory, then started
 * again. Before, the tier kept only what memory had evicted (here nothing), so the node came back
 * empty; now the stop spills memory to the tier (its `disk-spill` line says how much) and every
 * value reads back after the tier is recovered. Events and counts only, no timings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

const KEYS = 500;
const valueOf = (i: number): string => `${i}:${'v'.repeat(300)}`;

/** Writes KEYS values to a one-node cluster with a disk tier, stops it with SIGTERM, starts it again; returns how many read back and the stop's disk-spill line. */
async function stopAndStartAgain(t: TestContext, stopMode: string[]): Promise<{ found: number; spill: Record<string, unknown> | undefined; logs: Record<string, unknown>[] }> {
  const [port, peerPort, adminPort] = await freePorts(3);
  const dir = mkdtempSync(join(tmpdir(), 'shoal-spill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const node = new DaemonProcess({
    name: 'n1',
    port: port!,
    peerPort: peerPort!,
    adminPort: adminPort!,
    seeds: [],
    extra: ['--disk-dir', dir, '--disk-size', '16mib', ...stopMode],
  });
  t.after(async () => {
    node.kill('SIGKILL');
    await node.exited();
  });
  await node.start();
  const write = await connect({ seeds: [node.clientAddress], codec: stringCodec, consistency: 'one' });
  for (let i = 0; i < KEYS; i++) await write.set(`k${i}`, valueOf(i));
  await write.close();
  assert.equal((await node.status()).disk?.entries ?? 0, 0, 'every value is in memory, none on the tier yet');

  assert.equal(await node.stop(60_000), 0);
  const logs = node.logs;
  const spill = logs.find((l) => l.event === 'disk-spill');

  await node.start();
  await until('n1 to read its disk tier back', () => (node.logs.some((l) => l.event === 'disk-recovered') ? true : undefined), 60_000);
  const read = await connect({ seeds: [node.clientAddress], codec: stringCodec, consistency: 'one' });
  t.after(() => read.close());
  let found = 0;
  for (let i = 0; i < KEYS; i++) if ((await read.get(`k${i}`)) === valueOf(i)) found++;
  return { found, spill, logs };
}

test('a node stopped for a restart writes what it holds in memory to its disk tier and serves it again after the start', { timeout: 300_000 }, async (t) => {
  const { found, spill } = await stopAndStartAgain(t, ['--stop-mode', 'restart']);
  assert.ok(spill !== undefined, 'the stop logged its spill');
  assert.equal(spill['values'], KEYS);
  assert.equal(spill['reason'], null);
  assert.equal(found, KEYS, 'every value written before the restart reads back');
});

// probe-cli F4 (/work/notes/s19): with the default --stop-mode leave, the last member holding data
// left, dropping every partition and its disk tier with them (0 of 10,000 values back; kill -9 kept them).
test('the only member holding data does not leave at a stop (--stop-mode leave): it keeps its values for its next start', { timeout: 300_000 }, async (t) => {
  const { found, spill, logs } = await stopAndStartAgain(t, []);
  assert.ok(logs.some((l) => l.event === 'stop-keeps-data'), 'the stop said why it did not leave');
  assert.equal(spill?.['values'], KEYS);
  assert.equal(found, KEYS, 'every value written before the stop reads back');
});
