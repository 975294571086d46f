// A drain while another member is dead (probe-cli s19, finding 1): 3 nodes, N=3, R=W=2, c crashed
// and still in the ring (gossip has not forgotten it), then b drained. The ring without b is {a, c}:
// every partition's 2 replicas include dead c, and QUORUM (2 of 2) needs it, so every QUORUM read
// and write failed until gossip forgot c (a minute or two). The drain must be refused instead,
// naming c, and QUORUM requests must keep working through a and b.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import { DrainRefusedError } from '../../src/node/drain.ts';
import type { NodeConfig } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function cluster(nodes: number, log: string[] = [], extra: Partial<NodeConfig> = {}): Simulation<ShoalNode> {
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  return new Simulation<ShoalNode>({
    seed: 19,
    nodes,
    trace: new EventTrace(),
    logSink: (line) => log.push(line),
    factory: (env) => createNode({ env, config: { seeds, partitions: 32, gossipProfile: 'local', ...extra } }),
  });
}

/** Runs one request to its end (bounded by virtual time); the error it ended with, null on success. */
function outcome(sim: Simulation<ShoalNode>, start: (done: (error: unknown) => void) => void): unknown {
  let result: { error: unknown } | null = null;
  start((error) => (result = { error }));
  sim.runUntil(sim.now + 5_000, () => result !== null);
  assert.ok(result !== null, 'the request finished');
  return (result as { error: unknown }).error;
}

/** QUORUM writes then reads of `keys` keys through `via`: how many failed of how many. */
function quorumFailures(sim: Simulation<ShoalNode>, via: ShoalNode, keys: number, tag: string): { failed: number; of: number; first: string } {
  let failed = 0;
  let first = '';
  const note = (error: unknown): void => {
    if (error === null) return;
    failed++;
    first ||= error instanceof Error ? error.message : JSON.stringify(error);
  };
  for (let k = 0; k < keys; k++) note(outcome(sim, (done) => via.kv.set(enc.encode(`${tag}${k}`), enc.encode(`v${k}`), { consistency: 'quorum' }, (e) => done(e))));
  for (let k = 0; k < keys; k++) {
    note(
      outcome(sim, (done) =>
        via.kv.get(enc.encode(`${tag}${k}`), { consistency: 'quorum' }, (e, v) => done(e ?? (v?.value && dec.decode(v.value) === `v${k}` ? null : new Error(`${tag}${k} read back wrong`)))),
      ),
    );
  }
  return { failed, of: 2 * keys, first };
}

/** Whether `observer` has declared `name` dead (and gossip still remembers it). */
function seesDead(observer: ShoalNode, name: string): boolean {
  return observer.status().members.some((m) => m.name === name && m.state === 'dead');
}

test('3 nodes, N=3, R=W=2: with a dead member still in the ring, draining a second node is refused (naming the dead one) and QUORUM requests keep working', () => {
  const sim = cluster(3);
  sim.runUntil(3_000);
  const [a, b] = [sim.process(0)!, sim.process(1)!];
  const deadName = sim.process(2)!.name;
  assert.deepEqual(quorumFailures(sim, a, 20, 'before'), { failed: 0, of: 40, first: '' }, 'the healthy cluster serves QUORUM');
  sim.crash(2);
  sim.runUntil(sim.now + 20_000, () => seesDead(a, deadName) && seesDead(b, deadName));
  assert.ok(seesDead(a, deadName) && seesDead(b, deadName), 'both survivors declared the crashed node dead (gossip still remembers it)');
  assert.deepEqual(quorumFailures(sim, a, 20, 'dead'), { failed: 0, of: 40, first: '' }, 'with one of 3 replicas dead, QUORUM (2 of 3) still works');

  assert.throws(
    () => b.drain(),
    (error: unknown) => {
      assert.ok(error instanceof DrainRefusedError, String(error));
      assert.equal(
        error.message,
        `${b.name} cannot drain now: without it, 32 of 32 partitions would have too few live, caught-up replicas for a quorum (QUORUM reads and writes need 2 of their 2 replicas) because ${deadName} (dead) is still in the ring, and those requests would fail. ` +
          `Bring ${deadName} back, or wait until the cluster removes ${deadName} (gossip forgets a dead member after its deadReclaimMs) or sees ${deadName} alive again, or drain ${b.name} later`,
      );
      return true;
    },
  );
  assert.equal(b.drainProgress().state, 'serving');
  sim.runUntil(sim.now + 4_000);
  for (const via of [a, b]) {
    const after = quorumFailures(sim, via, 20, `after-${via.name}-`);
    assert.deepEqual(after, { failed: 0, of: 40, first: '' }, `QUORUM through ${via.name} after the drain request`);
  }
});

test('the drain is refused while a member it would need is only suspect, and accepted once that member is seen alive again', () => {
  const sim = cluster(3);
  sim.runUntil(3_000);
  const [a, b] = [sim.process(0)!, sim.process(1)!];
  const slowName = sim.process(2)!.name;
  // Paused long enough for a suspicion, not for a death (the local profile suspects within ~1 s, declares dead after a few).
  sim.pause(2, 3_000);
  const suspect = (n: ShoalNode) => n.status().members.some((m) => m.name === slowName && m.state === 'suspect');
  sim.runUntil(sim.now + 3_000, () => suspect(b));
  assert.ok(suspect(b), `${b.name} suspects ${slowName}`);
  assert.throws(() => b.drain(), (error: unknown) => error instanceof DrainRefusedError && error.message.includes(`${slowName} (suspect)`));
  const alive = (n: ShoalNode) => n.status().members.every((m) => m.state === 'alive');
  sim.runUntil(sim.now + 20_000, () => alive(a) && alive(b));
  assert.ok(alive(b), 'the paused member refuted the suspicion');
  assert.equal(b.drain().state, 'draining');
});

// Before the refusal, this drain was accepted and ended 'drained', and then 15 of 40 QUORUM requests
// through n1 failed: the owners that took n2's partitions over catch up from every old owner, dead
// n5 included, and while n5 stays in the ring they never count for reads.
test('5 nodes, N=3, one dead: a drain whose new owners would catch up from the dead member is refused too, and QUORUM keeps working', () => {
  const sim = cluster(5);
  sim.runUntil(3_000);
  const [a, b] = [sim.process(0)!, sim.process(1)!];
  const deadName = sim.process(4)!.name;
  sim.crash(4);
  sim.runUntil(sim.now + 20_000, () => seesDead(a, deadName) && seesDead(b, deadName));
  assert.throws(() => b.drain(), (error: unknown) => error instanceof DrainRefusedError && /partitions would have too few live, caught-up replicas/.test(error.message) && error.message.includes(`${deadName} (dead) is still in the ring`));
  sim.runUntil(sim.now + 4_000);
  assert.deepEqual(quorumFailures(sim, a, 20, 'five'), { failed: 0, of: 40, first: '' });
});

test('with R = W = ONE, a single live replica serves: the drain beside a dead member is accepted', () => {
  const sim = cluster(3, [], { replication: { defaultReadConsistency: 'one', defaultWriteConsistency: 'one' } });
  sim.runUntil(3_000);
  const [a, b] = [sim.process(0)!, sim.process(1)!];
  const deadName = sim.process(2)!.name;
  sim.crash(2);
  sim.runUntil(sim.now + 20_000, () => seesDead(a, deadName) && seesDead(b, deadName));
  assert.equal(b.drain().state, 'draining');
});

// Not prevented (the drain was accepted while every member was alive): the drained node's ring
// {n1, n3} needs dead n3 for every QUORUM request until n3 is back or gossip forgets it. The node
// says so, and a restart of the dead member ends it.
test('a member that dies during a drain leaves the new ring without a live quorum: the draining node says at warn that the drain stalls, naming it; once the member restarts the drain ends and QUORUM serves', () => {
  const log: string[] = [];
  const sim = cluster(3, log);
  sim.runUntil(3_000);
  const [a, b] = [sim.process(0)!, sim.process(1)!];
  const deadName = sim.process(2)!.name;
  for (let k = 0; k < 50; k++) outcome(sim, (done) => a.kv.set(enc.encode(`k${k}`), enc.encode(`v${k}`), {}, (e) => done(e)));
  assert.equal(b.drain().state, 'draining');
  sim.crash(2);
  sim.runUntil(sim.now + 20_000, () => log.some((l) => l.includes(`${deadName} (dead) is still in the ring`)));
  const stalled = log.find((l) => l.includes(`${b.name} warn draining stalls`) && l.includes(`${deadName} (dead) is still in the ring`));
  assert.ok(stalled, log.filter((l) => l.includes('drain')).join('\n'));
  assert.match(stalled, /32 of 32 partitions have too few live, caught-up replicas for a quorum \(QUORUM reads and writes need 2 of their 2 replicas\)/);
  assert.equal(b.drainProgress().state, 'draining', 'the handoff waits for a quorum of the new owners');
  sim.restart(2);
  const resumed = `${b.name} info draining: every partition of the ring without this node has a live quorum again`;
  sim.runUntil(sim.now + 30_000, () => b.drainProgress().state === 'drained' && log.some((l) => l.includes(resumed)));
  assert.equal(b.drainProgress().state, 'drained');
  assert.ok(log.some((l) => l.includes(resumed)), log.filter((l) => l.includes('drain')).join('\n'));
  assert.deepEqual(quorumFailures(sim, a, 20, 'restarted'), { failed: 0, of: 40, first: '' });
});
