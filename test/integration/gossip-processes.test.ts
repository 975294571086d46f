/**
 * Issue 3, real processes: 5 daemons on loopback form one cluster through one seed; one is
 * SIGKILLed and every other marks it dead; it restarts and rejoins with a higher incarnation. How
 * fast is reported against the bound the gossip profile implies, not asserted: on a loaded machine
 * Lifeguard rightly slows a member's probing down, and the simulator checks the bound in simulated
 * time (test/sim/gossip-scenarios.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_PROFILE } from '../../src/gossip/config.ts';
import { suspicionBounds } from '../../src/gossip/suspicion.ts';
import { TestCluster, until } from './daemon-harness.ts';

const MEMBERS = 5;

/**
 * The longest a crash may take to be declared dead everywhere, from the profile the test nodes run
 * (`local`): some member probes the victim within one round of the probe list (MEMBERS periods),
 * plus the probe period of the failed probe itself, plus the longest suspicion (no confirmations),
 * plus the dissemination of the verdict, generously ten gossip intervals.
 */
function deathBoundMs(): number {
  const c = LOCAL_PROFILE;
  return (MEMBERS + 1) * c.probeIntervalMs + suspicionBounds(c, MEMBERS).maxMs + 10 * c.gossipIntervalMs;
}

test('5 processes join through one seed; a SIGKILLed one is declared dead and rejoins with a higher incarnation', async (t) => {
  const cluster = await TestCluster.create(MEMBERS);
  t.after(() => cluster.cleanup());
  // Every node names only the first one's peer port as its seed.
  assert.ok(cluster.nodes.slice(1).every((n) => n.spec.seeds.join() === cluster.nodes[0]!.peerAddress));
  await cluster.startAll();
  await cluster.untilConverged();

  const victim = cluster.nodes[3]!;
  const survivors = cluster.nodes.filter((n) => n !== victim);
  const incarnationBefore = (await survivors[0]!.status()).members.find((m) => m.name === victim.spec.name)!.incarnation;
  victim.kill('SIGKILL');
  await victim.exited();
  const killedAt = Date.now();
  const bound = deathBoundMs();
  await until(
    `every survivor to mark ${victim.spec.name} dead (the profile's bound is ${bound} ms; this deadline only bounds a hang)`,
    async () => {
      for (const node of survivors) {
        const m = (await node.status()).members.find((x) => x.name === victim.spec.name);
        if (m?.state !== 'dead') return undefined;
      }
      return true;
    },
    5 * bound,
    100,
  );
  const detectedWithin = Date.now() - killedAt;
  t.diagnostic(`declared dead everywhere within ${detectedWithin} ms (bound ${bound} ms)`);

  await victim.start();
  await cluster.untilConverged();
  for (const node of cluster.nodes) {
    const m = (await node.status()).members.find((x) => x.name === victim.spec.name)!;
    assert.equal(m.state, 'alive');
    assert.ok(m.incarnation > incarnationBefore, `${node.spec.name} sees incarnation ${m.incarnation}, not above ${incarnationBefore}`);
  }
});
