// A claim that learns a request id from an owner holding an older record than the newest it read
// (docs/REPLICATION.md, "Request ids", the lineage; found as kv-rmw-hot seed 1350627), built by
// hand on a quiet 4-node cluster: owners P (the primary), A and B of the counter's partition, and
// D, a coordinator that owns nothing. INCR x is applied at P and B only (P's messages to A cut):
// acknowledged, and B remembers x. The next INCR, built on x's record, is applied at P and A only
// (P's messages to B cut): A holds the newest record and never learnt x. P crashes, and x's retry
// reaches A, the next primary: its claim reads the newest record at A and x at B, standing for the
// record the newest was built on. x's effect is in the newest, so the retry must be answered with
// its first result, not applied again. A and B cannot reach each other until the retry, so
// anti-entropy cannot bring the newest record and x together first.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicationConfig } from '../../src/replication/config.ts';
import { counterCluster } from './rmw-counter-cluster.ts';

const INCR = { op: 'incrby', by: 1n } as const;

function idAtAnOlderRecord(bugs: ReplicationConfig['bugs'] = {}) {
  const { cluster, sim, key, owners, coordinator: D, held } = counterCluster(bugs);
  const [P, A, B] = owners;
  const answers = new Map<string, unknown[]>();
  const incr = (requestId: string) =>
    sim.process(D)!.keyspace.rmw([key], INCR, { requestId }, (error, result) => {
      answers.set(requestId, [...(answers.get(requestId) ?? []), error ? { error: error.code } : result]);
    });
  const step = (ms = 1_000) => sim.runUntil(sim.now + ms);

  incr('r1');
  step();
  const healAB = sim.network.cut([A], [B]);
  const healBA = sim.network.cut([B], [A]);
  const healPA = sim.network.cut([P], [A]);
  incr('x');
  step();
  const afterX = held();
  healPA();
  const healPB = sim.network.cut([P], [B]);
  incr('r3');
  step();
  const afterR3 = held();
  const pName = sim.process(P)!.name;
  const pDead = () => [D, A].every((i) => sim.process(i)!.membership.member(pName)?.state === 'dead');
  cluster.crash(P);
  healPB();
  // D and A declare P dead (A and B still cannot reach each other).
  sim.runUntil(sim.now + 60_000, pDead);
  const declaredDead = pDead();
  healAB();
  healBA();
  incr('x');
  step();
  return { afterX, afterR3, declaredDead, afterRetry: held(), answers: Object.fromEntries(answers) };
}

const integer = (value: bigint) => ({ kind: 'integer', value });

/** The steps both variants share: x (2) on P and B, the next INCR (3) on P and A, P declared dead. */
function assertConstruction(run: ReturnType<typeof idAtAnOlderRecord>): void {
  assert.deepEqual(run.answers['r1'], [integer(1n)]);
  assert.deepEqual(run.answers['x']?.[0], integer(2n), 'x acknowledged');
  assert.deepEqual(run.afterX, ['2', '1', '2'], 'x applied at P and B');
  assert.deepEqual(run.answers['r3'], [integer(3n)], 'the next INCR acknowledged');
  assert.deepEqual(run.afterR3, ['3', '3', '2'], 'built on x, applied at P and A');
  assert.ok(run.declaredDead, 'D and A declared P dead');
}

test("a retry whose id the claim learns at a record the newest was built on is answered with its first result", () => {
  const run = idAtAnOlderRecord();
  assertConstruction(run);
  assert.deepEqual(run.answers['x'], [integer(2n), integer(2n)]);
  assert.deepEqual(run.afterRetry, [null, '3', '3'], 'applied once: the newest record (3) is on A and B');
});

test('with a claim trusting an id only at the newest record, the retry is applied a second time', () => {
  const run = idAtAnOlderRecord({ rmwIgnoreLineage: true });
  assertConstruction(run);
  assert.deepEqual(run.answers['x'], [integer(2n), integer(4n)], 'x answered 4: counted twice');
  assert.deepEqual(run.afterRetry, [null, '4', '4']);
});
