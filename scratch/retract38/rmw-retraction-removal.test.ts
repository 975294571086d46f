// Why a fenced primary's retraction must not simply remove its result where it was applied
// (docs/REPLICATION.md, "Read-modify-write", the Evictions limit; /work/notes/s38/retract38.md).
// Built by hand on a quiet 4-node cluster, owners P (primary), Q and A of the counter's partition,
// D a coordinator owning nothing, quorum (2 of 3):
// 1. INCR r1 reaches every owner (1); INCR r2 is acknowledged by P and A alone (2): Q hears
//    nothing from them.
// 2. Q runs an operation as primary; its claim reaches Q alone and fails, but Q has promised a
//    higher epoch than P's.
// 3. P's INCR X (2 -> 3) is applied at A (whose promise is still P's epoch: the retraction's
//    condition holds there), A's ack is lost, and Q refuses it: P's outcome is `fenced`.
// 4. The retraction is applied at A by hand (no such message exists): either as proposed, the
//    record removed with no tombstone and no eviction-shadow entry, or by putting back the record
//    A held before X.
// 5. P is cut off (or crashes); A runs the next INCR as primary. Its claim hears A and Q.
// Removed, the acknowledged 2 was on P alone, and the INCR answers 2 a second time (Q's 1 + 1):
// an acknowledged increment lost, P cut off but up (or crashed). Left alone (today), A's residue 3
// is read and the INCR answers 4 (X's unacknowledged increment kept: no loss). Put back, it
// answers 3, but a retry of r2 is then applied again unless A's request ids go back as well.
// A second construction (supersededWrite, below) shows that "X's record untouched" is not enough.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartitionActor } from '../../src/replication/partition-actor.ts';
import { counterOwners } from './rmw-counter-owners.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

type Retraction = 'none' | 'remove' | 'put-back';

interface Run {
  acknowledged: (string | null)[];
  fenced: (string | null)[];
  retracted: (string | null)[];
  final: (string | null)[];
  /** After a retry of r2 through A as primary (its client never heard the answer, say). */
  afterRetry: (string | null)[];
  answers: unknown[];
}

/** What a retraction at A would do, by hand: nothing, remove the record, or put back `before`. */
function retractByHand(store: { delete(key: string): boolean }, actor: PartitionActor, storeKey: string, retraction: Retraction, before: Uint8Array): void {
  if (retraction === 'none') return;
  store.delete(storeKey);
  if (retraction === 'put-back') actor.replica.apply(storeKey, before);
  // The delete went around the replica, whose digest must be computed again.
  (actor.replica as unknown as { digestValid: boolean }).digestValid = false;
}

function construction(retraction: Retraction, lose: 'cut' | 'crash' = 'cut'): Run {
  const { sim, storeKey, partition, P, Q, A, D, held, answers, incr, asPrimary } = counterOwners();
  const actorOf = (n: number) => sim.process(n)!.heldPartitions().get(partition) as unknown as PartitionActor;
  incr(D, 'r1');
  sim.runUntil(sim.now + 500);
  // 1. Q misses r2 (and any sync from P and A).
  const healPQ = sim.network.cut([P], [Q]);
  sim.network.cut([A], [Q]);
  incr(D, 'r2');
  sim.runUntil(sim.now + 500);
  const acknowledged = held();
  const beforeX = actorOf(A).replica.peek(storeKey)!;
  // 2. Q's claim reaches Q alone: Q promises a higher epoch, the claim fails.
  const healQ = sim.network.cut([Q], [P, A]);
  asPrimary(Q, { op: 'set', value: enc.encode('x'), expiry: { kind: 'keep' }, condition: 'nx', get: false }, 'q-setnx');
  sim.runUntil(sim.now + 1_500, () => sim.process(Q)!.stats().rmw.claimsFailed > 0);
  assert.ok(actorOf(Q).fencingEpoch > actorOf(P).fencingEpoch, 'Q promised a higher epoch than P and A');
  // 3. X: A applies it and its ack is lost; Q's refusal reaches P.
  sim.network.cut([A], [P, D]);
  healPQ();
  healQ();
  sim.network.cut([Q], [A]);
  const epochOfX = actorOf(P).fencingEpoch;
  incr(D, 'X');
  sim.runUntil(sim.now + 2_000, () => sim.process(P)!.stats().rmw.fenced > 0);
  // A's turn to apply X, if it came after Q's refusal.
  sim.runUntil(sim.now + 300, () => held()[2] === '3');
  sim.crash(D);
  const fenced = held();
  // 4. The retraction at A, by hand; its condition: A's promise is X's epoch, its record X's version.
  const a = actorOf(A);
  assert.equal(a.fencingEpoch, epochOfX);
  retractByHand(sim.process(A)!.store, a, storeKey, retraction, beforeX);
  const retracted = held();
  // 5. P cut off both ways, or crashed; A, as primary, claims (twice if its first epoch is below Q's).
  sim.network.healAll();
  if (lose === 'crash') sim.crash(P);
  else {
    sim.network.cut([P], [Q, A]);
    sim.network.cut([Q, A], [P]);
  }
  for (let attempt = 0; attempt < 2 && held()[2] === retracted[2]; attempt++) {
    asPrimary(A, { op: 'incrby', by: 1n }, 'next');
    sim.runUntil(sim.now + 3_000);
  }
  const final = held();
  asPrimary(A, { op: 'incrby', by: 1n }, 'r2');
  sim.runUntil(sim.now + 3_000);
  return { acknowledged, fenced, retracted, final, afterRetry: held(), answers };
}

function assertSetUp(run: Run): void {
  assert.deepEqual(run.answers.slice(0, 2), [
    { kind: 'integer', value: 1n },
    { kind: 'integer', value: 2n },
  ]);
  assert.deepEqual(run.acknowledged, ['2', '1', '2'], 'r2 acknowledged by P and A, Q missed it');
  assert.deepEqual(run.fenced, ['2', '1', '3'], 'X applied at A alone, P fenced');
}

test('no retraction (today): A\'s residue 3 is read and the next INCR writes 4, no acknowledged increment lost', () => {
  const run = construction('none');
  assertSetUp(run);
  assert.deepEqual(run.final, ['2', '4', '4']);
  assert.deepEqual(run.afterRetry, ['2', '4', '4'], 'r2 is remembered: its retry is not applied again');
});

test('UNSOUND: a retraction that removes X at A leaves the acknowledged 2 on P alone, and with P cut off the next INCR writes 2 again', () => {
  const run = construction('remove');
  assertSetUp(run);
  assert.deepEqual(run.retracted, ['2', '1', null]);
  assert.deepEqual(run.final, ['2', '2', '2'], 'r2 and the next INCR both answered 2: an acknowledged increment lost');
});

test('UNSOUND: the same with P crashed instead of cut off (memory lost, as a crash may): the next INCR writes 2 again', () => {
  const run = construction('remove', 'crash');
  assertSetUp(run);
  assert.deepEqual(run.final.slice(1), ['2', '2'], 'r2 and the next INCR both answered 2');
});

test('a retraction that puts back the record A held before X keeps the increments (the next INCR writes 3), but the ids must go back too: a retry of r2 is applied again', () => {
  const run = construction('put-back');
  assertSetUp(run);
  assert.deepEqual(run.retracted, ['2', '1', '2']);
  assert.deepEqual(run.final, ['2', '3', '3']);
  // A moved r2's id on to X's record when it applied X; put back by hand, the record is r2's
  // again but the id still names X's version, so no claim trusts it: the retry is applied twice.
  // A retraction must move the ids back too.
  assert.deepEqual(run.afterRetry, ['2', '4', '4'], 'r2 applied a second time: its id was left on X\'s version');
});

/**
 * The retraction's second condition (the record is still X's version) is not enough either: a
 * plain SET S, versioned before X, reaches A after X and is acknowledged there as superseded
 * (ReplicaHost answers a stale write like an applied one), with Q the other owner acknowledging;
 * P never gets it. Retracted at A, a QUORUM read through P hears P and A and answers the 2 both
 * hold: older than S, acknowledged before the read began. Today it answers X's 3, which LWW puts
 * after S.
 */
function supersededWrite(retraction: Retraction): { held: (string | null)[]; read: string; setAcknowledged: boolean } {
  const { sim, storeKey, partition, P, Q, A, D, held, incr, asPrimary } = counterOwners();
  const key = enc.encode('counter');
  const actor = sim.process(A)!.heldPartitions().get(partition) as unknown as PartitionActor;
  incr(D, 'r1');
  sim.runUntil(sim.now + 500);
  incr(D, 'r2');
  sim.runUntil(sim.now + 500);
  const beforeX = actor.replica.peek(storeKey)!;
  // As in rmw-deposed-residue.test.ts: Q's claim never reaches A, A's ack of X never reaches P.
  sim.network.cut([Q], [A]);
  sim.network.cut([A], [P, Q]);
  // S through D: never to P (nor D's hint of it), held on the way to A until X is there.
  sim.network.cut([D], [P]);
  sim.network.clog(D, A, sim.now + 300);
  let setAcknowledged = false;
  sim.process(D)!.keyspace.set(key, enc.encode('s'), { consistency: 'quorum' }, (error) => (setAcknowledged = error === null || error === undefined));
  sim.runUntil(sim.now + 5);
  asPrimary(Q, { op: 'set', value: enc.encode('x'), expiry: { kind: 'keep' }, condition: 'nx', get: false }, 'q-setnx');
  asPrimary(P, { op: 'incrby', by: 1n }, 'X');
  sim.runUntil(sim.now + 2_000, () => sim.process(P)!.stats().rmw.fenced > 0);
  // Q's sync would bring S to P.
  sim.network.cut([Q], [P]);
  sim.runUntil(sim.now + 600, () => setAcknowledged);
  retractByHand(sim.process(A)!.store, actor, storeKey, retraction, beforeX);
  // Q cut off both ways: P's QUORUM read hears P and A.
  sim.network.healAll();
  sim.network.cut([D], [P]);
  sim.network.cut([Q], [P, A, D]);
  sim.network.cut([P, A, D], [Q]);
  let read = '';
  sim.process(P)!.keyspace.get(key, { consistency: 'quorum' }, (error, result) => (read = error ? String(error.code) : !result || result.value === null ? 'miss' : dec.decode(result.value)));
  sim.runUntil(sim.now + 2_000, () => read !== '');
  return { held: held(), read, setAcknowledged };
}

test('no retraction (today): S, acknowledged by Q and by A over X, is superseded by X: a QUORUM read through P and A answers 3', () => {
  const run = supersededWrite('none');
  assert.ok(run.setAcknowledged);
  assert.deepEqual(run.held, ['2', 's', '3']);
  assert.equal(run.read, '3');
});

for (const retraction of ['remove', 'put-back'] as const) {
  test(`UNSOUND: a retraction (${retraction}) where X's record is untouched but a write older than X was acknowledged over it: the QUORUM read answers 2, older than the acknowledged S`, () => {
    const run = supersededWrite(retraction);
    assert.ok(run.setAcknowledged);
    assert.deepEqual(run.held, ['2', 's', retraction === 'remove' ? null : '2']);
    assert.equal(run.read, '2', 'a stale QUORUM read');
  });
}
