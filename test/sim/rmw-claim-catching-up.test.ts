// A claim answered by an owner still catching up (docs/REPLICATION.md, "Read-modify-write", the
// Evictions bullet), built by hand on a quiet 4-node cluster: owners P (the primary), A and C of
// the counter's partition, and D, a coordinator that owns nothing. C restarts and stays catching
// up (A's messages to it are cut, and it waits for every source); a claim for another key of the
// partition makes it promise. The newest acknowledged INCR is applied at P and C only (P's
// messages to A are cut), and P's store then evicts it. P's next claim hears every owner, but C
// answers that it is catching up, so its records do not count: the only record read is A's older
// one, under P's evicted version. That is not "gone from every memory": C holds the newest
// acknowledged value, and an INCR counting from nothing would lose it.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicationConfig } from '../../src/replication/config.ts';
import { counterCluster } from './rmw-counter-cluster.ts';

const enc = new TextEncoder();
const INCR = { op: 'incrby', by: 1n } as const;

function catchingUpHoldsNewest(bugs: ReplicationConfig['bugs'] = {}) {
  const { cluster, sim, key, placement, partition, owners, coordinator: D, held } = counterCluster(bugs);
  const [P, A, C] = owners;
  // Another key of the same partition, for the claim that reaches the restarted C.
  let other = 0;
  while (placement.partitionOfKey(enc.encode(`other${other}`)) !== partition) other++;
  const otherKey = enc.encode(`other${other}`);
  const cReady = () => sim.process(C)?.heldPartitions().get(partition)?.ready;
  /** Each request's answers, in order: the counter's INCRs r1..r4 (r4 sent twice) and the other key's o1. */
  const answers = new Map<string, unknown[]>();
  const incr = (k: Uint8Array, requestId: string) =>
    sim.process(D)!.keyspace.rmw([k], INCR, { requestId }, (error, result) => {
      const answer = error ? { error: error.code } : result;
      answers.set(requestId, [...(answers.get(requestId) ?? []), answer]);
    });
  const step = (ms = 1_000) => sim.runUntil(sim.now + ms);

  incr(key, 'r1');
  step();
  incr(key, 'r2');
  step();
  const acknowledged = held();
  // C restarts and stays catching up: it waits for A, whose messages to it are cut.
  const healAC = sim.network.cut([A], [C]);
  cluster.crash(C);
  step();
  cluster.restart(C);
  step(3_000);
  // A claim for the other key: P and A promise, caught up; C promises, catching up.
  incr(otherKey, 'o1');
  step();
  // r3 reaches C and P's own replica, not A: acknowledged by two of the three owners.
  const healPA = sim.network.cut([P], [A]);
  incr(key, 'r3');
  step();
  const newestOnPAndC = held();
  // P's store evicts everything it holds (its budget cut to a byte and given back).
  const store = sim.process(P)!.store;
  const budget = store.stats().maxMemory;
  store.setMaxMemory(1);
  store.setMaxMemory(budget);
  const afterEviction = held();
  healPA();
  const cReadyBeforeNext = cReady();
  incr(key, 'r4');
  step();
  const afterNext = held();
  // C catches up; r4, sent again, is answered with its result or counts on from what C holds.
  healAC();
  sim.runUntil(sim.now + 30_000, () => cReady() === true);
  const cReadyAtLast = cReady();
  incr(key, 'r4');
  step();
  return { acknowledged, newestOnPAndC, afterEviction, cReadyBeforeNext, afterNext, cReadyAtLast, final: held(), answers };
}

const integer = (value: bigint) => ({ kind: 'integer', value });

/** The steps both variants share: 3 acknowledged by P and C, A at 2, then P evicts 3 while C catches up. */
function assertConstruction(run: ReturnType<typeof catchingUpHoldsNewest>): void {
  assert.deepEqual(run.acknowledged, ['2', '2', '2']);
  assert.deepEqual(run.answers.get('r3'), [integer(3n)], 'r3 acknowledged');
  assert.deepEqual(run.newestOnPAndC, ['3', '2', '3']);
  assert.deepEqual(run.afterEviction, [null, '2', '3'], 'P evicted 3');
  assert.equal(run.cReadyBeforeNext, false, 'C still catching up when r4 claims');
  assert.equal(run.cReadyAtLast, true, 'C caught up at last');
}

test('a claim whose only holder of the newest acknowledged value is catching up waits for it: the INCR counts on from 3', () => {
  const run = catchingUpHoldsNewest();
  assertConstruction(run);
  assert.deepEqual(run.afterNext, [null, '2', '3'], 'r4 applied nothing while C was catching up');
  assert.deepEqual(run.answers.get('r4'), [integer(4n), integer(4n)]);
  assert.deepEqual(run.final, ['4', '4', '4']);
});

test('with a catching-up owner counted among those that answered, the INCR reads the counter as evicted everywhere and counts from nothing over the acknowledged 3', () => {
  const run = catchingUpHoldsNewest({ rmwCatchingUpCountsAsAnswered: true });
  assertConstruction(run);
  assert.deepEqual(run.afterNext, ['1', '1', '1']);
  assert.deepEqual(run.answers.get('r4')?.[0], integer(1n), 'r4 answered what r1 answered');
  assert.deepEqual(run.final, ['1', '1', '1']);
});
