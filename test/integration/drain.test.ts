/**
 * `shoal drain` on `npm start`'s cluster (`shoal dev`, 3 real processes): SDK clients write and
 * read their keys at QUORUM without pause while `shoal drain node3` hands node3's partitions to
 * the other two (the command follows the progress to the end), then `shoal undrain node3` gives
 * them back. Not one request may fail, every read returns the latest acknowledged value of its
 * key, node3 owns nothing while drained (in every member's ring) and owns its share again after;
 * and afterwards every key reads back as its latest acknowledged write. Every wait is bounded and
 * driven by counts and events, never by elapsed time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/client/index.ts';
import { fetchStatus } from '../../src/cli/target.ts';
import { runShoal, until } from './daemon-harness.ts';
import { devUnderLoad, lostWrites } from './quorum-load.ts';

const NODES = 3;
const WORKERS = 4;
/** Requests each worker makes before the drain, between drain and undrain, and after (bounded counts). */
const OPS_PER_PHASE = 40;
/**
 * Generous, as in rolling-restart.test.ts: with node3 drained the ring has 2 members, so a QUORUM
 * write needs both, and one answer stalled by the busy shared machine must not fail it.
 */
const REPLICA_TIMEOUT = '5s';
/** Bounds a hang only. */
const HANG_BOUND = { timeout: 600_000 };

test('shoal drain and undrain on shoal dev\'s cluster under QUORUM load: 0 failed requests, the drained node owns nothing, then its share again', HANG_BOUND, async (t) => {
  const cluster = await devUnderLoad(t, { nodes: NODES, workers: WORKERS, replicaTimeout: REPLICA_TIMEOUT, hangMs: HANG_BOUND.timeout });
  const { nodes, base, client, workers, opsNow } = cluster;
  const runFor = (what: string) => cluster.runFor(what, OPS_PER_PHASE);
  /** Partitions node3 owns in each member's ring. */
  const ownedByNode3 = async () => Promise.all(nodes.map(async (n) => (await fetchStatus(n, 10_000)).members.find((m) => m.name === 'node3')!.partitions));

  try {
    await runFor('the workload to run');
    const before = await ownedByNode3();
    assert.ok(before.every((n) => n > 0), `node3 owns partitions before the drain: ${before.join(', ')}`);

    const opsBeforeDrain = opsNow();
    const drained = await runShoal(['drain', 'node3', '--node', nodes[0]!], {}, HANG_BOUND.timeout);
    assert.equal(drained.status, 0, `${drained.stdout}${drained.stderr}`);
    const opsDuringDrain = opsNow() - opsBeforeDrain;
    assert.match(drained.stdout, /node3 is drained: (\d+) of \1 partitions moved, \d+ keys \([\d.]+ (B|KiB|MiB)\) handed off/, drained.stdout);
    // Each member's ring drops node3 once gossip has brought it the drain (the command ends when node3's has).
    await until('every member to place nothing on node3', async () => ((await ownedByNode3()).every((n) => n === 0) ? true : undefined), 60_000, 200);
    const node3 = await fetchStatus(nodes[2]!, 10_000);
    assert.equal(node3.drain?.state, 'drained');
    assert.equal(node3.held, 0, 'node3 holds no partition');
    assert.equal((await fetchStatus(nodes[0]!, 10_000)).members.find((m) => m.name === 'node3')?.draining, true, 'node1 sees node3 drained');
    const shown = await runShoal(['status', '--node', nodes[2]!], {}, 60_000);
    assert.match(shown.stdout, /node3 is drained: /, shown.stdout);
    assert.match(shown.stdout, /node3 \*\s+alive, drained/, shown.stdout);
    // shoal dev's admin port is the client port + 3.
    const metrics = await (await fetch(`http://127.0.0.1:${base + 23}/metrics`)).text();
    assert.match(metrics, /^shoal_drain_state 2$/m);
    assert.match(metrics, /^shoal_drain_partitions_remaining 0$/m);
    const unknown = await runShoal(['drain', 'node9', '--node', nodes[0]!], {}, 60_000);
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /knows no member named "node9"; members: node1, node2, node3/);

    // Drained, node3 still coordinates: a client that talks only to it is served.
    const direct = await connect<string>({ seeds: [nodes[2]!] });
    try {
      await direct.set('through-node3', 'yes', { consistency: 'quorum' });
      assert.equal(await direct.get('through-node3', { consistency: 'quorum' }), 'yes');
    } finally {
      await direct.close();
    }
    await runFor('the workload to run with node3 drained');

    const undrained = await runShoal(['undrain', 'node3', '--node', nodes[0]!], {}, HANG_BOUND.timeout);
    assert.equal(undrained.status, 0, `${undrained.stdout}${undrained.stderr}`);
    assert.match(undrained.stdout, /node3 serves again: owns \d+ partitions, caught up/, undrained.stdout);
    // Only the last line says it serves again (probe s18, F8: "serves again: owns 0 partitions, caught up" came first).
    const lines = undrained.stdout.trim().split('\n');
    assert.deepEqual(lines.filter((l) => l.includes('serves again')), [lines.at(-1)], undrained.stdout);
    await until('every member to place node3\'s share back on it', async () => ((await ownedByNode3()).every((n) => n > 0) ? true : undefined), 60_000, 200);
    await runFor('the workload to run after the undrain');
    await cluster.stopLoad();

    assert.ok(opsDuringDrain > 0, 'requests ran while node3 drained');
    assert.deepEqual(workers.flatMap((w) => w.failures), [], 'failed requests');
    assert.deepEqual(workers.flatMap((w) => w.stale), [], 'reads that missed the latest acknowledged write');
    assert.deepEqual(await lostWrites(client, workers), [], 'acknowledged writes not read back');
    process.stdout.write(`drain: ${opsNow()} requests, ${opsDuringDrain} while node3 drained, 0 failed\n${drained.stdout}`);
  } finally {
    await cluster.stopLoad();
  }
  assert.equal(await cluster.close(), 0, cluster.output());
});
