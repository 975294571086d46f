// A member restarted after a crash is judged by its peers from the new process's answers, not
// from the silence of the one that died (restart-probe F6). On real processes (5 nodes, kill -9,
// restart 15 s later), two peers went on calling the restarted node `silent` for 44 s after it was
// back alive: every dashboard showed it degraded, and the share of peers reporting it is one of
// its own failure prediction's features.
//
// But the same process declared dead and back (cut off, refuting its death) keeps its verdict: a
// member that loses most of its messages is declared dead and refutes again and again, and
// forgetting its verdict at each death hid it from the automatic drain (05e4ffe, reverted: the
// auto-drain bench's error-storm seed 70 went undrained).
//
// And a restarted member stops being shown `degraded` as soon as its peers forget their verdicts:
// their published views (`hv`) drop it at their next store tick, though each published one just
// before (its HEALTH_PUBLISH_INTERVAL_MS would otherwise have kept it named for up to 5 s).
//
// Four nodes, health routing on, N=3, the LAN profile's detection times. Node 3 goes silent;
// QUORUM reads through the others go on, so their coordinators find it silent; once every peer
// has it dead, it comes back (a new process, or the same one reconnected).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEALTH_PUBLISH_INTERVAL_MS, META, STORE_TICK_INTERVAL_MS } from '../../src/node/node.ts';
import { decodeVerdicts, memberHealth, VERDICT_META } from '../../src/node/peer-verdicts.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const NODES = 4;
const VICTIM = 3;
const PEERS = [0, 1, 2];
const enc = new TextEncoder();
/** The LAN profile's failure detection (a death declared some 6 s after the crash), so the peers' reads meet the silence first, as on real processes. */
const LAN_DETECTION = { probeIntervalMs: 1_000, suspicionMult: 4 };

/** A settled cluster, and QUORUM reads through the peers (`count` of them, 8 at a time). */
function settledCluster() {
  const cluster = new KvCluster({ seed: 2, nodes: NODES, partitions: 64, replication: {}, network: {}, trace: new EventTrace(), gossip: LAN_DETECTION, nodeConfig: () => ({ peerHealth: { routing: true } }) });
  const sim = cluster.sim;
  sim.runUntil(30_000, () => allSettled(cluster, NODES));
  const reads = (count: number) =>
    drive(cluster, count, 8, (i, done) => sim.process(PEERS[i % PEERS.length]!)!.kv.get(enc.encode(`k${i % 97}`), { consistency: 'quorum' }, () => done()));
  return { cluster, sim, victim: `n${VICTIM + 1}`, reads };
}

/** A settled cluster whose peers called the victim `silent` (`silence` made it so) and then declared it dead. */
function victimDeclaredDead(silence: (cluster: KvCluster) => void) {
  const { cluster, sim, victim, reads } = settledCluster();
  const verdicts = () => PEERS.map((i) => sim.process(i)!.status().health.peers.find((p) => p.name === victim)?.verdict ?? 'healthy');
  const seeAll = (state: string) => PEERS.every((i) => sim.process(i)!.membership.member(victim)?.state === state);
  reads(300);

  silence(cluster);
  const silentAt = sim.now;
  while (sim.now - silentAt < 10_000 && !verdicts().includes('silent')) reads(20);
  const formed = verdicts();
  assert.ok(formed.includes('silent'), `the premise: its peers found it silent (${formed.join(', ')})`);
  sim.runUntil(sim.now + 60_000, () => seeAll('dead'));
  assert.ok(seeAll('dead'), 'the premise: every peer declared it dead');
  return { cluster, sim, reads, verdicts, formed, seeAlive: () => seeAll('alive') };
}

test("a restarted member's peers do not keep the silent verdict its previous life earned", () => {
  const { cluster, sim, reads, verdicts, seeAlive } = victimDeclaredDead((c) => c.crash(VICTIM));

  cluster.restart(VICTIM);
  sim.runUntil(sim.now + 30_000, seeAlive);
  assert.ok(seeAlive(), 'every peer sees it alive again');
  reads(100);
  assert.deepEqual(verdicts(), ['healthy', 'healthy', 'healthy'], 'the verdicts of n1, n2, n3 on the restarted n4');
});

test('the same process declared dead and back keeps the verdict its peers formed', () => {
  let heal = (): void => {};
  const { sim, verdicts, formed, seeAlive } = victimDeclaredDead((c) => {
    const others = PEERS;
    const cutOut = c.sim.network.cut([VICTIM], others);
    const cutIn = c.sim.network.cut(others, [VICTIM]);
    heal = () => {
      cutOut();
      cutIn();
    };
  });

  heal();
  sim.runUntil(sim.now + 30_000, seeAlive);
  assert.ok(seeAlive(), 'every peer sees it alive again (it refuted its death)');
  assert.deepEqual(verdicts(), formed, 'the verdicts of n1, n2, n3 on n4 once it refuted its death: those formed before it was declared dead');
});

test("a restarted member leaves its peers' published views within two store ticks of their noticing it, though they published just before", () => {
  const { cluster, sim, victim, reads } = settledCluster();
  const namesVictim = (i: number) => decodeVerdicts(sim.process(i)!.membership.self().meta[VERDICT_META.view]).has(victim);
  reads(300);
  const oldLife = sim.process(VICTIM)!.membership.self().meta[META.started];

  // Reads through the peers until each has published a view naming the victim: each publication
  // starts that peer's HEALTH_PUBLISH_INTERVAL_MS, and the restart comes at once, inside it.
  cluster.crash(VICTIM);
  const crashedAt = sim.now;
  let lastPublishedAfter = sim.now; // the last of them published after this, so not again before it + HEALTH_PUBLISH_INTERVAL_MS
  while (sim.now - crashedAt < 10_000 && !PEERS.every(namesVictim)) {
    lastPublishedAfter = sim.now;
    reads(20);
  }
  assert.ok(PEERS.every(namesVictim), `the premise: every peer published a view naming ${victim} (${PEERS.map(namesVictim).join(', ')})`);
  const noticedAt = new Map<number, number>();
  for (const i of PEERS) {
    sim.process(i)!.membership.subscribe((event) => {
      if (event.member.name === victim && event.member.meta[META.started] !== oldLife && !noticedAt.has(i)) noticedAt.set(i, sim.now);
    });
  }
  const restartedAt = sim.now;
  cluster.restart(VICTIM);
  sim.runUntil(sim.now + 30_000, () => noticedAt.size === PEERS.length);
  assert.equal(noticedAt.size, PEERS.length, 'the premise: every peer heard of the new process');

  // One store tick for each peer's publication (its next tick), one for gossip to carry it.
  const bound = Math.max(...noticedAt.values()) + 2 * STORE_TICK_INTERVAL_MS;
  assert.ok(bound < lastPublishedAfter + HEALTH_PUBLISH_INTERVAL_MS, `the premise: the interval alone would keep the last peer's view unchanged past the bound (${bound} vs ${lastPublishedAfter} + ${HEALTH_PUBLISH_INTERVAL_MS})`);
  const healthOf = (i: number) => memberHealth(sim.process(i)!.membership.members()).find((m) => m.name === victim)?.state;
  const cleared = () => PEERS.every((i) => !namesVictim(i) && healthOf(i) === 'healthy');
  sim.runUntil(bound, cleared);
  assert.ok(
    cleared(),
    `${Math.round(sim.now - restartedAt)} ms after the restart (noticed at +${[...noticedAt.values()].map((t) => Math.round(t - restartedAt)).join(', ')} ms): ` +
      `views naming ${victim}: ${PEERS.map(namesVictim).join(', ')}; its health seen by n1, n2, n3: ${PEERS.map(healthOf).join(', ')}`,
  );
});
