/**
 * Issue 20: a node restarted with its disk tier serves from it at once (warm), against the same
 * node restarted with its disk wiped (cold), with real processes. Three nodes with 1 MiB of memory
 * and a disk tier each hold several times their memory in data; n3 is stopped for a restart
 * (`--stop-mode restart`: no leave, the tier flushed and kept), some keys are overwritten while it
 * is down, and it comes back. Its hit ratio over a fixed sample of reads right after it has read
 * its tier back is read from its own counters (memory hits plus disk hits over lookups), warm and then cold.
 *
 * And nothing stale comes back: a key overwritten while n3 was down never reads as its older
 * value, which is all n3's disk holds for it (versions are checked against the cluster).
 *
 * Counts, not time: the ratios are printed, and the test asserts that the warm restart catches up
 * far fewer records than the cold one (it serves the rest from its tier) and that no read is stale.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

const NODES = 3;
/** Values of 1 KiB: 3,000 keys are about 3 MiB per node (every node holds every key), three times its memory. */
const KEYS = 3000;
const VALUE = 'x'.repeat(1000);
/** Keys overwritten while n3 is down (the first ones of the warm sample, so they are read back). */
const OVERWRITTEN = 200;
/**
 * Reads after each restart: the warm one reads keys [0, SAMPLE), the cold one the next SAMPLE keys,
 * as old as those and not read since they were written (the warm reads brought theirs back into the
 * other nodes' memory, and so into the cold node's catch-up).
 */
const SAMPLE = 1000;
const CONCURRENCY = 16;
/** Bounds a hang only. */
const HANG_BOUND = { timeout: 600_000 };

const valueOf = (i: number, generation: number): string => `${generation}:${i}:${VALUE}`;

async function runAll(count: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** A counter's value in a Prometheus text page (0 when absent). */
function counterOf(page: string, name: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** Records n3's last catch-up received from the other replicas (the `shoal_catchup_received_records` gauge). */
async function caughtUpRecords(node: DaemonProcess): Promise<number> {
  return counterOf(await (await fetch(`${node.adminUrl!}/metrics`)).text(), 'shoal_catchup_received_records');
}

interface Lookups {
  memoryHits: number;
  diskHits: number;
  lookups: number;
}

async function lookups(node: DaemonProcess): Promise<Lookups> {
  const page = await (await fetch(`${node.adminUrl!}/metrics`)).text();
  const memoryHits = counterOf(page, 'shoal_store_hits_total');
  return { memoryHits, diskHits: counterOf(page, 'shoal_disk_hits_total'), lookups: memoryHits + counterOf(page, 'shoal_store_misses_total') };
}

test('a node restarted with its disk tier serves from it (warm), one restarted without does not (cold), and nothing stale comes back', HANG_BOUND, async (t) => {
  const ports = await freePorts(3 * NODES);
  const diskDirs = Array.from({ length: NODES }, (_, i) => mkdtempSync(join(tmpdir(), `shoal-disk-n${i + 1}-`)));
  t.after(() => diskDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const nodes = diskDirs.map(
    (dir, i) =>
      new DaemonProcess({
        name: `n${i + 1}`,
        port: ports[3 * i]!,
        peerPort: ports[3 * i + 1]!,
        adminPort: ports[3 * i + 2]!,
        seeds: i === 0 ? [] : [`127.0.0.1:${ports[1]!}`],
        // The stop's spill of memory to the tier gets all the time the test's stop allows: at the
        // default 10 s a starved machine cut it short (2,009 of 3,000 entries recovered, CI on 3a0f587).
        extra: ['--max-memory', '1mib', '--disk-dir', dir, '--disk-size', '32mib', '--stop-mode', 'restart', '--replica-timeout', '5s', '--shutdown-timeout', '50s'],
      }),
  );
  const cleanup = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => (n.kill('SIGKILL'), n.exited())));
  };
  t.after(cleanup);
  await nodes[0]!.start();
  await Promise.all(nodes.slice(1).map((n) => n.start()));
  const untilConverged = () =>
    until('every node to see the others alive and catch up', async () => {
      for (const node of nodes) {
        const status = await node.status();
        if (!status.joined || status.catchingUp > 0 || status.members.filter((m) => m.state === 'alive').length !== NODES) return undefined;
      }
      return true;
    }, 120_000, 200);
  await untilConverged();

  const seeds = nodes.map((n) => n.clientAddress);
  let client: ShoalClient<string> = await connect({ seeds, codec: stringCodec, consistency: 'quorum', commandTimeoutMs: 10_000 });
  t.after(() => client.close());
  await runAll(KEYS, (i) => client.set(`k${i}`, valueOf(i, 1)));

  const victim = nodes[2]!;
  const onDisk = (await victim.status()).disk?.entries ?? 0;
  assert.ok(onDisk > KEYS / 2, `n3's disk tier holds ${onDisk} entries of ${KEYS} keys: the data should not fit in memory`);

  // Stops n3 for a restart (optionally wiping its disk), waits until the others see it down, and
  // (the first time) overwrites keys while it is down.
  const restart = async (wipe: boolean, overwrite: boolean): Promise<void> => {
    assert.equal(await victim.stop(60_000), 0);
    assert.ok(victim.logs.some((l) => String(l.msg).startsWith('stopping for a restart')), 'n3 stops without leaving');
    if (wipe) rmSync(join(diskDirs[2]!, 'tier.shoal'));
    await until('n1 and n2 to see n3 down', async () => {
      for (const node of nodes.slice(0, 2)) {
        const m = (await node.status()).members.find((x) => x.name === victim.spec.name);
        if (m === undefined || m.state === 'alive' || m.state === 'left') return undefined;
      }
      return true;
    }, 60_000, 200);
    if (overwrite) await runAll(OVERWRITTEN, (i) => client.set(`k${i}`, valueOf(i, 2)));
    await victim.start();
    // The tier is read back in the background; until then its disk only misses (an event, not a time).
    await until('n3 to read its disk tier back', () => (victim.logs.some((l) => l.event === 'disk-recovered') ? true : undefined), 60_000);
  };

  // The sample's reads right after the restart; returns n3's hit ratio over them, and the stale reads.
  const measure = async (first: number): Promise<{ ratio: number; lookups: number; stale: string[] }> => {
    await client.close();
    client = await connect({ seeds, codec: stringCodec, consistency: 'quorum', commandTimeoutMs: 10_000 });
    const before = await lookups(victim);
    const stale: string[] = [];
    await runAll(SAMPLE, async (i) => {
      const read = await client.get(`k${first + i}`);
      if (first + i < OVERWRITTEN && read === valueOf(i, 1)) stale.push(`k${i}`);
    });
    const after = await lookups(victim);
    const n = after.lookups - before.lookups;
    return { ratio: n === 0 ? 0 : (after.memoryHits - before.memoryHits + after.diskHits - before.diskHits) / n, lookups: n, stale };
  };

  await restart(false, true);
  const recovered = victim.logs.find((l) => l.event === 'disk-recovered');
  const warm = await measure(0);
  await untilConverged();
  // After the catch-up too, at consistency one, through n3 alone: never the older value (a miss
  // may be: a cache may have let the newer one go).
  const staleAtOne: string[] = [];
  const viaVictim = await connect({ seeds: [victim.clientAddress], codec: stringCodec, consistency: 'one', commandTimeoutMs: 10_000 });
  for (let i = 0; i < OVERWRITTEN; i++) {
    const read = await viaVictim.get(`k${i}`);
    if (read === valueOf(i, 1)) staleAtOne.push(`k${i}`);
  }
  await viaVictim.close();

  const warmReceived = await caughtUpRecords(victim);

  await restart(true, false);
  const cold = await measure(SAMPLE);
  await untilConverged();
  const coldReceived = await caughtUpRecords(victim);

  const report =
    `warm: ${(100 * warm.ratio).toFixed(1)}% of ${warm.lookups} lookups on n3 (${String(recovered?.entries)} entries recovered), ${warmReceived} records caught up; ` +
    `cold: ${(100 * cold.ratio).toFixed(1)}% of ${cold.lookups}, ${coldReceived} records caught up`;
  t.diagnostic(report);
  assert.deepEqual(warm.stale, [], 'reads right after the warm restart');
  assert.deepEqual(staleAtOne, [], 'reads at consistency one after the catch-up');
  assert.deepEqual(cold.stale, [], 'reads after the cold restart');
  // A read asks the replicas its coordinator ranks first, so n3 sees some of the sample's reads
  // (400 to 1,000 of them in runs so far), enough for a ratio.
  assert.ok(warm.lookups >= SAMPLE / 10 && cold.lookups >= SAMPLE / 10, report);
  // The warm node takes from the others only what changed while it was down; the cold one takes
  // everything it owns. The hit ratios are printed, not compared: the cold node's catch-up runs at
  // the pace of round trips, so it may hold everything before the sample's reads (100% in a CI
  // run), while the warm one misses the keys overwritten while it was down until it has them.
  assert.ok(warmReceived < coldReceived / 2, report);
});
