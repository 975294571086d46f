/**
 * A node is SIGKILLed in the middle of a write loop: every write the cluster acknowledged at
 * QUORUM must read back at QUORUM. Then the node restarts under the same name and rejoins: every
 * member sees it alive again, with a higher incarnation than the one it died with if it still
 * remembered the death (see the comment at that check).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec, TimeoutError, UnavailableError, type ShoalClient } from '../../src/client/index.ts';
import { TestCluster, until } from './daemon-harness.ts';

const WRITES = 1500;
const KILL_AT = 300;
const CONCURRENCY = 16;

test('acknowledged QUORUM writes survive a SIGKILL, and the node rejoins with a higher incarnation', async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const client = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, consistency: 'quorum', commandTimeoutMs: 3000 });
  t.after(() => client.close());

  const victim = cluster.nodes[2]!;
  const before = (await cluster.nodes[0]!.status()).members.find((m) => m.name === victim.spec.name)!;
  const acknowledged = new Map<string, string>();
  let failed = 0;
  /** How many log lines each node had when the victim was killed: the later ones tell what it learnt since. */
  let logsAtKill: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < WRITES) {
      const i = next++;
      if (i === KILL_AT) {
        logsAtKill = cluster.nodes.map((n) => n.logs.length);
        victim.kill('SIGKILL');
      }
      const key = `key-${i}`;
      const value = `value-${i}`;
      try {
        await client.set(key, value, { consistency: 'quorum' });
        acknowledged.set(key, value);
      } catch {
        failed++; // not acknowledged: may or may not be applied; nothing to check
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await victim.exited();
  assert.ok(acknowledged.size > KILL_AT, `only ${acknowledged.size} writes acknowledged (${failed} failed)`);

  // A read may be refused (too few replicas answered while the victim is not yet declared dead);
  // that is unavailability, retried. A read that answers with anything but the value is a loss.
  const lost: string[] = [];
  const deadline = Date.now() + 60_000;
  for (const [key, value] of acknowledged) {
    if ((await readRetrying(client, key, deadline)) !== value) lost.push(key);
  }
  assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.size} acknowledged writes did not read back`);

  // The survivors declare the victim dead, then it restarts with the same name and ports.
  await cluster.untilSeenDead(victim);
  await victim.start();
  await cluster.untilConverged();
  // It caught up from the others' data, said so in its log, and shows it in status.
  const catchUp = (await victim.status()).catchUp;
  assert.ok(catchUp && catchUp.partitionsLeft === 0 && catchUp.partitions > 0, JSON.stringify(catchUp));
  await until('the restarted node to log the end of its catch-up', async () => victim.logs.some((l) => String(l.msg).startsWith('caught up ')) || undefined, 10_000, 50);
  // status shows the last catch-up only: a ring change right after the first one (a loaded machine
  // hears of its members one by one) starts a second, which may have nothing left to receive.
  const received = victim.logs.filter((l) => String(l.msg).startsWith('caught up ')).reduce((sum, l) => sum + Number(l.keysReceived ?? 0), 0);
  assert.ok(received > 0, `the catch-ups received no keys: ${JSON.stringify(victim.logs.filter((l) => String(l.msg).startsWith('caught up ')))}`);
  let someoneRemembered = false;
  for (const [i, node] of cluster.nodes.entries()) {
    const m = (await node.status()).members.find((x) => x.name === victim.spec.name)!;
    assert.equal(m.state, 'alive', `${node.spec.name}'s view`);
    if (node === victim) continue;
    // SWIM's guarantee is for a member that still holds the tombstone (dead@i): only alive@j with
    // j > i replaces it, so the restarted process (at 0) had to refute its old death. A survivor
    // forgets a tombstone deadReclaimMs after the death (60 s with the local profile); a loaded
    // machine can take that long between the kill and the restart's first message (the writes and
    // read-backs above). The restart is then a new member to it, at whatever incarnation its own
    // startup reached (each metadata change, such as a ring announcement, is one): the first
    // process's startup got to about the same, so "n1 sees incarnation 3, was 3" is right, not a
    // resurrection (test/sim/gossip-restart-incarnation.test.ts). Which case a survivor is in, its
    // log says: it logs the victim as joined (not alive again) only once it had forgotten it.
    const forgot = node.logs.slice(logsAtKill[i]).some((l) => l.event === 'member-joined' && l.peer === victim.spec.name);
    if (forgot) continue;
    someoneRemembered = true;
    assert.ok(m.incarnation > before.incarnation, `${node.spec.name} sees incarnation ${m.incarnation}, was ${before.incarnation}, and did not forget the death`);
  }
  // The restart refuted the death only if someone still held it to tell it of.
  const self = (await victim.status()).members.find((x) => x.name === victim.spec.name)!;
  if (someoneRemembered) assert.ok(self.incarnation > before.incarnation, `${victim.spec.name} is at incarnation ${self.incarnation}, was ${before.incarnation}`);
  // Reads coordinated by the rejoined node see the acknowledged writes too.
  const viaVictim = await connect({ seeds: victim.clientAddress, codec: stringCodec, routing: false });
  t.after(() => viaVictim.close());
  const sample = [...acknowledged].filter((_, i) => i % 25 === 0);
  for (const [key, value] of sample) assert.equal(await viaVictim.get(key, { consistency: 'quorum' }), value, key);
});

async function readRetrying(client: ShoalClient<string>, key: string, deadline: number): Promise<string | null> {
  for (;;) {
    try {
      return await client.get(key, { consistency: 'quorum' });
    } catch (error) {
      if (!(error instanceof UnavailableError || error instanceof TimeoutError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
