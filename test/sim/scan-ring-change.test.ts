// Keyspace scans across ring changes (src/replication/scan.ts): a scan paged through the
// simulator while a node joins and then another leaves gracefully returns every key that existed
// throughout at least once, and nothing that was never written. The cursor is (partition,
// scan-hash position), which means the same on any replica of the partition, so the pages may be
// served by different holders before and after each move. N = 1 makes it hard: a moved partition
// has one new owner, catching up, and one old holder handing it off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { KvError, ScanPage } from '../../src/replication/api.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const PARTITIONS = 64;
const KEYS = 400;

function cluster(replicas: number) {
  const seeds = [0, 1, 2].map((i) => nodeAddress(i));
  const sim = new Simulation<ShoalNode>({
    seed: 7,
    nodes: 3,
    trace: new EventTrace(),
    factory: (env: Env) => createNode({ env, config: { seeds, partitions: PARTITIONS, replicas, gossipProfile: 'local', writeQuorum: 'quorum', readQuorum: 'quorum' } }),
  });
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.settled()));
  assert.ok(sim.upNodes().every((n) => n.process!.joined), 'the cluster formed');
  return sim;
}

function writeAll(sim: Simulation<ShoalNode>, via: ShoalNode): void {
  let acked = 0;
  for (let i = 0; i < KEYS; i++) via.kv.set(enc.encode(`key:${i}`), enc.encode('v'), {}, (error) => assert.equal(error, null) ?? acked++);
  sim.runUntil(sim.now + 10_000, () => acked === KEYS);
  assert.equal(acked, KEYS);
}

function page(sim: Simulation<ShoalNode>, via: ShoalNode, partition: number, after: number): { error: KvError | null; page?: ScanPage } {
  let outcome: { error: KvError | null; page?: ScanPage } | null = null;
  via.scanner.scanPartition(partition, after, { count: 3 }, (error, result) => (outcome = { error, page: result }));
  sim.runUntil(sim.now + 10_000, () => outcome !== null);
  assert.ok(outcome !== null, 'the page was answered');
  return outcome;
}

function scanAcrossRingChanges(replicas: number) {
  const sim = cluster(replicas);
  const via = sim.process(0)!;
  writeAll(sim, via);
  const seen = new Map<string, number>();
  let retries = 0;
  const events: { at: number; run: () => void }[] = [
    { at: Math.floor(PARTITIONS / 4), run: () => sim.addNode({ start: true }) },
    { at: Math.floor(PARTITIONS / 2), run: () => sim.process(2)!.leave(() => {}) },
  ];
  for (let p = 0; p < PARTITIONS; p++) {
    for (const e of events) if (e.at === p) e.run();
    let after = 0;
    for (;;) {
      const answer = page(sim, via, p, after);
      if (answer.error) {
        // A moment with no caught-up holder: the client retries the same cursor later.
        assert.notEqual(answer.error.code, 'bad-request');
        retries++;
        assert.ok(retries < 200, `page of partition ${p} kept failing: ${answer.error.message}`);
        sim.runUntil(sim.now + 200);
        continue;
      }
      for (const key of answer.page!.keys) seen.set(dec.decode(key), (seen.get(dec.decode(key)) ?? 0) + 1);
      // Let the ring move while the scan is in the middle of a partition.
      sim.runUntil(sim.now + 30);
      if (answer.page!.next === null) break;
      after = answer.page!.next;
    }
  }
  return { sim, seen, retries, via };
}

for (const replicas of [1, 2, 3]) {
  test(`a scan during a join and a graceful leave (N=${replicas}) returns every key at least once`, () => {
    const { sim, seen, via } = scanAcrossRingChanges(replicas);
    const missing = Array.from({ length: KEYS }, (_, i) => `key:${i}`).filter((k) => !seen.has(k));
    assert.deepEqual(missing, [], 'every key that existed throughout was returned');
    assert.deepEqual([...seen.keys()].filter((k) => !/^key:\d+$/.test(k)), [], 'nothing that was never written');
    assert.ok(sim.upNodes().some((n) => n.index === 3 && n.process!.joined), 'the fourth node joined during the scan');
    // Once settled, the partition counts add up to the keys written.
    sim.runUntil(sim.now + 20_000, () => sim.upNodes().every((n) => n.process === null || n.process.settled()));
    let total = 0;
    let answered = 0;
    for (let p = 0; p < PARTITIONS; p++) via.scanner.countPartition(p, (error, n) => {
      assert.equal(error, null);
      total += n!;
      answered++;
    });
    sim.runUntil(sim.now + 10_000, () => answered === PARTITIONS);
    assert.equal(total, KEYS);
  });
}
