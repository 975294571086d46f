// A member restarted after a crash is judged by its peers from the new process's answers, not
// from the silence of the one that died (restart-probe F6). On real processes (5 nodes, kill -9,
// restart 15 s later), two peers went on calling the restarted node `silent` for 44 s after it was
// back alive: every dashboard showed it degraded, and the share of peers reporting it is one of
// its own failure prediction's features.
//
// Four nodes, health routing on, N=3, the LAN profile's detection times. Node 3 crashes; QUORUM reads through the others go on, so
// their coordinators find it silent; once it is dead it starts again, and once every peer sees it
// alive, a few more reads run. No peer may still call it silent then.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const NODES = 4;
const VICTIM = 3;
const enc = new TextEncoder();
/** The LAN profile's failure detection (a death declared some 6 s after the crash), so the peers' reads meet the silence first, as on real processes. */
const LAN_DETECTION = { probeIntervalMs: 1_000, suspicionMult: 4 };

test("a restarted member's peers do not keep the silent verdict its previous life earned", () => {
  const cluster = new KvCluster({ seed: 2, nodes: NODES, partitions: 64, replication: {}, network: {}, trace: new EventTrace(), gossip: LAN_DETECTION, nodeConfig: () => ({ peerHealth: { routing: true } }) });
  const sim = cluster.sim;
  sim.runUntil(30_000, () => allSettled(cluster, NODES));
  const peers = [0, 1, 2];
  const reads = (count: number) =>
    drive(cluster, count, 8, (i, done) => sim.process(peers[i % peers.length]!)!.kv.get(enc.encode(`k${i % 97}`), { consistency: 'quorum' }, () => done()));
  const verdicts = () => peers.map((i) => sim.process(i)!.status().health.peers.find((p) => p.name === `n${VICTIM + 1}`)?.verdict ?? 'healthy');
  const seeAlive = () => peers.every((i) => sim.process(i)!.membership.member(`n${VICTIM + 1}`)?.state === 'alive');
  reads(300);

  cluster.crash(VICTIM);
  const crashedAt = sim.now;
  while (sim.now - crashedAt < 10_000 && !verdicts().includes('silent')) reads(20);
  assert.ok(verdicts().includes('silent'), `the premise: its peers found the dead process silent (${verdicts().join(', ')})`);
  sim.runUntil(sim.now + 60_000, () => peers.every((i) => sim.process(i)!.membership.member(`n${VICTIM + 1}`)?.state === 'dead'));

  cluster.restart(VICTIM);
  sim.runUntil(sim.now + 30_000, seeAlive);
  assert.ok(seeAlive(), 'every peer sees it alive again');
  reads(100);
  assert.deepEqual(verdicts(), ['healthy', 'healthy', 'healthy'], 'the verdicts of n1, n2, n3 on the restarted n4');
});
