// The read-modify-write scenario (src/sim/scenarios/kv-rmw.ts): 50 swarm seeds with their figures,
// and the checker catching each safety mechanism switched off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario, type RunReport } from '../../src/sim/driver.ts';
import { kvRmwHotScenario, kvRmwPressureScenario, kvRmwScenario } from '../../src/sim/scenarios/kv-rmw.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS } from '../../src/sim/scenarios/kv.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { decodeRecord } from '../../src/replication/record.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';

const SEEDS = 50;

/**
 * The seeds below that were found before kv-rmw-pressure seed 1290020's fix (a result refused by a
 * replica that promised nothing is kept in doubt, not taken for a deposition) run with the code
 * they were found with: the fix takes some of them other courses, away from the bug they show.
 */
const AS_FOUND_1290020 = { rmwUnpromisedRefusalFences: true } as const;
/**
 * Seeds found before the clock ceiling (session 42) run their buggy half without it, as found: a
 * restarted node's clock starting above its last run's takes them other courses.
 */
const BEFORE_CEILING = { clockCeilingIgnored: true } as const;

test(`kv-rmw: seeds 1..${SEEDS} under swarm faults: no duplicate, no lost update or double SETNX winner without a network partition`, () => {
  const totals = { split: { runs: 0, lost: 0, duplicated: 0, doubleWinners: 0 }, noSplit: { runs: 0, lost: 0, duplicated: 0, doubleWinners: 0 } };
  let acked = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    // Determinism on a few seeds only: it runs the seed twice.
    const report = runScenario(kvRmwScenario, { seed, ...kvRmwScenario.defaults }, seed <= 3);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    const figure = (name: string) => report[name] as number;
    const group = figure('networkPartitions') > 0 ? totals.split : totals.noSplit;
    group.runs++;
    group.lost += figure('lostIncrements') + figure('lostAppends');
    group.duplicated += figure('duplicatedIncrements') + figure('duplicatedAppends');
    group.doubleWinners += figure('setNxDoubleWinners');
    acked += figure('opsAcked');
  }
  // Printed for the issue note; the assertions below are the targets.
  process.stdout.write(`kv-rmw figures over ${SEEDS} seeds: ${JSON.stringify({ acked, ...totals })}\n`);
  assert.ok(acked > 1000, `the workload did something (${acked} operations acknowledged)`);
  assert.ok(totals.split.runs > 0 && totals.noSplit.runs > 0, 'the seeds cover runs with and without network partitions');
  assert.equal(totals.split.duplicated + totals.noSplit.duplicated, 0);
  assert.deepEqual([totals.noSplit.lost, totals.noSplit.doubleWinners], [0, 0]);
});

const PRESSURE_SEEDS = 12;

test(`kv-rmw-pressure: seeds 1..${PRESSURE_SEEDS}, one owner evicting the keys it owns: no duplicate, no lost update or double SETNX winner without a network partition`, () => {
  let evictions = 0;
  for (let seed = 1; seed <= PRESSURE_SEEDS; seed++) {
    const report = runScenario(kvRmwPressureScenario, { seed, ...kvRmwPressureScenario.defaults }, seed === 1);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    evictions += report['pressedEvictions'] as number;
  }
  assert.ok(evictions > 1_000 * PRESSURE_SEEDS, `the pressed node kept evicting (${evictions} evictions)`);
});

const HOT_SEEDS = 12;

test(`kv-rmw-hot: seeds 1..${HOT_SEEDS}, operations queued on one primary commit in batches, with the same checks`, () => {
  let acked = 0;
  let ops = 0;
  let batches = 0;
  let batchedOps = 0;
  let resultWrites = 0;
  for (let seed = 1; seed <= HOT_SEEDS; seed++) {
    const report = runScenario(kvRmwHotScenario, { seed, ...kvRmwHotScenario.defaults }, seed === 1);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    const rmw = report['rmw'] as { ops: number; batches: number; batchedOps: number; resultWrites: number };
    acked += report['opsAcked'] as number;
    ops += rmw.ops;
    batches += rmw.batches;
    batchedOps += rmw.batchedOps;
    resultWrites += rmw.resultWrites;
  }
  process.stdout.write(`kv-rmw-hot figures over ${HOT_SEEDS} seeds: ${JSON.stringify({ acked, ops, resultWrites, batches, batchedOps })}\n`);
  assert.ok(batches > 100, `operations were batched (${batches} fenced results carried more than one)`);
  assert.ok(resultWrites < ops, `fewer fenced results (${resultWrites}) than operations (${ops})`);
});

// Seed 18 caught the switch first (3 acknowledged APPENDs lost); the gossip fix of kv-sdk seed 147
// took it another course, and of seeds 1..107 with that fix, 107 was the first to catch it, until
// the ring announcements (ring-lifecycle.ts) took 107 another course again. With the switch alone
// on that gossip, of seeds 1..346 (346 runs), 18, 78 and 230 caught it, until catch-up pressed on
// (sync.ts pressOn) took 18 another course, where it loses no append. With the switch alone today,
// of seeds 1..191 (191 runs), 115 alone catches it (12 acknowledged INCRs of ctr0 lost, no
// partition), and passes fixed. Both run as found, a refusal for want of a promise taken for a
// deposition (AS_FOUND_1290020): keeping such a result in doubt takes the seed another course.
test('kv-rmw-hot seed 115: with a batch answering its operations before its fenced result reached a quorum, acknowledged increments are lost', () => {
  const options = { seed: 115, ...kvRmwHotScenario.defaults, bugs: AS_FOUND_1290020 };
  const buggy = runScenario(kvRmwHotScenario, { ...options, bugs: { ...AS_FOUND_1290020, rmwBatchAnswersEarly: true } });
  assert.equal(buggy['networkPartitions'], 0, 'lost updates count only without a network partition');
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /lost-appends|acknowledged increments lost/);
  const fixed = runScenario(kvRmwHotScenario, options);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
});

/**
 * The seeds below were found before group commit; batching changes their course (some of them no
 * longer reach the bug's path), so those run one operation per fenced result, as they were found:
 * with `rmwNoGroupCommit` the code runs exactly as then (kv-rmw seed 12 with rmwIgnoreRequestIds:
 * digest f8a65156bd0614f9 before and after). The checks themselves serve both paths; kv-rmw-hot
 * seed 115 above and kv-rmw seed 107 below show the checker on runs that batch.
 */
const ONE_AT_A_TIME = { rmwNoGroupCommit: true } as const;

function withBug(seed: number, bug: 'rmwIgnoreRequestIds' | 'rmwNoFencing', base: { rmwNoGroupCommit?: boolean } = {}): { buggy: RunReport; fixed: RunReport } {
  const options = { seed, ...kvRmwScenario.defaults };
  return { buggy: runScenario(kvRmwScenario, { ...options, bugs: { ...base, [bug]: true } }), fixed: runScenario(kvRmwScenario, { ...options, bugs: base }) };
}

test('kv-rmw seed 12: with request ids ignored, retried and duplicated requests apply twice and the checker counts the duplicates', () => {
  const buggy = withBug(12, 'rmwIgnoreRequestIds', { ...ONE_AT_A_TIME, ...BEFORE_CEILING }).buggy;
  const fixed = withBug(12, 'rmwIgnoreRequestIds', ONE_AT_A_TIME).fixed;
  assert.equal(buggy['networkPartitions'], 0);
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /is above the \d+ increments ever issued/);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
  assert.ok((fixed['rmw'] as { repeats: number }).repeats > 0, 'some repeat was answered with its first result');
});

test('kv-rmw seed 107: with fencing off, a deposed primary and its successor both apply an INCR to the same value and one increment is lost', () => {
  const { buggy, fixed } = withBug(107, 'rmwNoFencing');
  assert.equal(buggy['networkPartitions'], 0);
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /acknowledged increments lost/);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
  assert.ok((fixed['rmw'] as { fenced: number }).fenced > 0, 'some result was refused for a higher epoch');
});

/**
 * A keyed seed (3 nodes, 60 s) that the switch makes apply an APPEND to `key` twice, and that passes
 * without it. With `gossipAsFound`, the buggy run keeps members silent to the accused (the gossip
 * fix of kv-sdk seed 147) and rings unannounced, as when the seed was found: both fixes take the
 * runs other courses, and not every seed meets its bug on today's gossip. With `catchUpAsFound`,
 * it keeps catch-up at the timer's pace (`catchUpAtTimerPace`): pressed on (sync.ts pressOn), the
 * run takes another course.
 */
function appendsTwiceWith(seed: number, bug: 'rmwAbandonBuiltOnDoubts' | 'rmwClaimedIdsStayLocal' | 'rmwLateIdsStayBehind', key: string, gossipAsFound: boolean, catchUpAsFound = false): void {
  const options = { seed, ...kvRmwScenario.defaults, nodes: 3, durationMs: 60_000, draws: 'keyed' as const };
  const oldGossip = gossipAsFound ? { silentToAccused: true, ringsUnannounced: true } : {};
  const oldCatchUp = catchUpAsFound ? { catchUpAtTimerPace: true } : {};
  // Claims trusting ids only at the newest record, as when the seed was found: the lineage (kv-rmw-hot
  // seed 1350627) trusts an id left at a record the newest was built on, and covers both later switches.
  const buggy = runScenario(kvRmwScenario, { ...options, bugs: { ...ONE_AT_A_TIME, ...oldGossip, ...oldCatchUp, rmwIgnoreLineage: true, [bug]: true } });
  const fixed = runScenario(kvRmwScenario, { ...options, bugs: ONE_AT_A_TIME });
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, new RegExp(`duplicated-appends: ${key}: token \\S+ appended 2 times`));
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
}

// Found as seed 230056 (an APPEND applied twice, regression-seeds.json). Later gossip fixes (the
// re-announced refutation, the answer to stale accusations of kv-rmw seed 106) took that seed and
// then seed 230275 other courses; seed 231040 (3 nodes, 60 s, keyed draws) holds it, an APPEND
// applied twice, with the fix of kv-sdk seed 147 and the ring announcements switched off too, as when
// it was found (both take it other courses). With the switch alone on today's gossip, none of seeds
// 231001..231379 (379 runs) fails, 231040 included;
// seed 230336 below keeps the old gossip too (rmwClaimedIdsStayLocal: none of 230301..230700, 400
// runs, fails with the switch alone).
test('kv-rmw seed 231040 (3 nodes, 60 s, keyed draws): with an in-doubt id abandoned once a later operation is built on it, the retry at the next primary applies it twice', () => {
  appendsTwiceWith(231040, 'rmwAbandonBuiltOnDoubts', 'str0', true);
});

// Seeds 230336 and 230828 were found failing on main (regression-seeds.json has their causal stories).
test('kv-rmw seed 230336 (3 nodes, 60 s, keyed draws): with the ids a claim learned kept by the new primary alone, a later claim misses them and a retried APPEND is applied twice', () => {
  appendsTwiceWith(230336, 'rmwClaimedIdsStayLocal', 'str2', true);
});

// On today's gossip (without silentToAccused and ringsUnannounced), of seeds 230801..231200 with the
// switch alone (400 runs), 230828 alone fails, still an APPEND to str2 applied twice, and passes
// fixed (the crashes in the title are the found run's; today's run was not traced event by event).
// With catch-up pressed on its buggy run applied nothing twice: it keeps the old catch-up pace
// (with the switch alone at today's pace, none of 230801..231428, 628 runs, has any violation).
test("kv-rmw seed 230828 (3 nodes, 60 s, keyed draws): with a late result's id left standing for its older record, two crashes leave it only there and a retried APPEND is applied twice", () => {
  appendsTwiceWith(230828, 'rmwLateIdsStayBehind', 'str2', false, true);
});

test('kv-rmw seed 400293 (4 nodes, BUGGIFY): with a claim trusting any id its replica remembers beside the newest record, a retried INCR is answered with a result another write overwrote', () => {
  const options = { seed: 400293, ...kvRmwScenario.defaults, nodes: 4, buggify: true };
  // Rings unannounced and catch-up at the timer's pace, as when the seed was found: the
  // announcements (ring-lifecycle.ts) and the faster catch-up (sync.ts pressOn) take it other
  // courses. With the switch alone on today's gossip, none of seeds 400001..401711 (4 nodes,
  // BUGGIFY, 1,711 runs) has any violation; with the switch and rings unannounced at today's
  // catch-up pace, none of 400001..400600 (600 runs) has any.
  const buggy = runScenario(kvRmwScenario, { ...options, bugs: { ...ONE_AT_A_TIME, ...AS_FOUND_1290020, rmwTrustIdsByHolder: true, ringsUnannounced: true, catchUpAtTimerPace: true } });
  const fixed = runScenario(kvRmwScenario, { ...options, bugs: { ...ONE_AT_A_TIME, ...AS_FOUND_1290020 } });
  assert.equal(buggy['networkPartitions'], 0);
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /1 acknowledged increments lost .*1 answered a value another had/);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
});

// Found by `shoal sim --hunt` (regression-seeds.json has its causal story), shrunk to no faults,
// 6.9% loss and 17 operations; the full seed fails the same way with the switch.
test('kv-rmw-pressure seed 1290020: with a result refused for want of a promise taken for a deposition, an INCR whose result the pressed owner applied and evicted counts from nothing', () => {
  const options = { seed: 1290020, ...kvRmwPressureScenario.defaults };
  const buggy = runScenario(kvRmwPressureScenario, { ...options, bugs: AS_FOUND_1290020 });
  assert.equal(buggy['networkPartitions'], 0);
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /ctr2: 1 acknowledged increments lost .*1 answered a value another had/);
  const fixed = runScenario(kvRmwPressureScenario, options);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
});

// Found by `shoal sim --hunt` (regression-seeds.json has its causal story): n5, the primary, had
// APPEND cl16:509 applied by n2 and itself; n3 missed that result and applied the next ones, built
// on it; n2 then missed the last two. n5 crashed, and its retry's claim read the newest record at
// n3, which never learnt the id, while n2 remembered it at an older record the newest was built on.
test('kv-rmw-hot seed 1350627 (BUGGIFY): with a claim trusting an id only at the newest record, not at one the newest was built on, a retried APPEND is applied twice', () => {
  const options = { seed: 1350627, ...kvRmwHotScenario.defaults, buggify: true };
  const buggy = runScenario(kvRmwHotScenario, { ...options, bugs: { ...BEFORE_CEILING, rmwIgnoreLineage: true } });
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /duplicated-appends: str0: token 16\.509 appended 2 times/);
  const fixed = runScenario(kvRmwHotScenario, options);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
});

/**
 * Seed 400293's residue, built by hand so it reaches the other place a stale id answered: the
 * node's own memory, once the replica that kept the id becomes the primary. Returns what the
 * retried INCR X and the overwriting INCR Y were answered.
 */
function residueBecomesPrimary(bugs: { rmwTrustIdsByHolder?: boolean } = {}): { x: unknown[]; y: unknown[]; final: string | null } {
  // P gives X up without a doubt as the code did before seed 1290020's fix (AS_FOUND_1290020): the
  // shortest way to the residue. It is also reached when the refusing replica promised a higher
  // epoch (a real deposition), which takes another node claiming the partition to build.
  const cluster = new KvCluster({ seed: 7, nodes: 4, partitions: KV_SIM_PARTITIONS, replication: { ...KV_SIM_REPLICATION, bugs: { ...AS_FOUND_1290020, ...bugs } }, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const key = new TextEncoder().encode('counter');
  const placement = sim.process(0)!.placement();
  const partition = placement.partitionOfKey(key);
  const [P, B, C] = placement.owners(partition).map((name) => sim.indexOf(name)!) as [number, number, number];
  const D = [0, 1, 2, 3].find((i) => ![P, B, C].includes(i))!;
  const x: unknown[] = [];
  const y: unknown[] = [];
  const incr = (node: number, requestId: string, into: unknown[]) =>
    sim.process(node)!.keyspace.rmw([key], { op: 'incrby', by: 1n }, { requestId }, (error, result) => into.push(error ?? result));
  // X through D: P's claim never reaches C, so C promises nothing and refuses X's result; B
  // applies it (keeping X's id), but nothing B sends gets out (its ack, its claim answers, its
  // sync): P takes itself for deposed, so X is not in doubt.
  const healPC = sim.network.cut([P], [C]);
  incr(D, 'X', x);
  sim.runUntil(sim.now + 250);
  healPC();
  const healB = sim.network.cut([B], [P, C]);
  sim.runUntil(sim.now + 2_000, () => cluster.totals().rmw.fenced > 0);
  // D goes before it retries X; P's next claim misses B's answer and writes Y over X unread.
  sim.crash(D);
  incr(P, 'Y', y);
  sim.runUntil(sim.now + 1_500);
  healB();
  // P goes; B, still remembering X beside Y's record, becomes the primary and takes X's retry.
  sim.crash(P);
  sim.runUntil(sim.now + 15_000);
  incr(B, 'X', x);
  sim.runUntil(sim.now + 3_000);
  const raw = sim.process(B)!.heldPartitions().get(partition)?.peek('counter') ?? null;
  return { x, y, final: raw === null ? null : new TextDecoder().decode(decodeRecord(raw).value) };
}

test('an INCR kept by a replica and overwritten unread is applied again when that replica, as primary, takes its retry (not answered with the lost result)', () => {
  const fixed = residueBecomesPrimary();
  assert.deepEqual(fixed.y, [{ kind: 'integer', value: 1n }], 'Y wrote over X without reading it');
  assert.deepEqual(fixed.x.at(-1), { kind: 'integer', value: 2n }, JSON.stringify(fixed.x, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  assert.equal(fixed.final, '2');
  const buggy = residueBecomesPrimary({ rmwTrustIdsByHolder: true });
  assert.deepEqual(buggy.x.at(-1), { kind: 'integer', value: 1n }, 'with the bug, X is answered the result Y overwrote');
  assert.equal(buggy.final, '1');
});

test('read-modify-write through every node of a quiet cluster: results, operation errors, request ids, and a key outside the partition refused', () => {
  const cluster = new KvCluster({ seed: 7, nodes: 3, partitions: KV_SIM_PARTITIONS, replication: KV_SIM_REPLICATION, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const key = new TextEncoder().encode('counter');
  const answers: unknown[] = [];
  const call = (node: number, keys: Uint8Array[], op: RmwOp, requestId?: string) =>
    sim.process(node)!.keyspace.rmw(keys, op, requestId ? { requestId } : {}, (error, result) => answers.push(error ?? result));
  // One INCR through each node: each sees the one before it, whichever node is the primary.
  for (let n = 0; n < 3; n++) {
    call(n, [key], { op: 'incrby', by: 5n });
    sim.runUntil(sim.now + 500);
  }
  // A repeat of a request id answers the first result without applying it again.
  call(1, [key], { op: 'incrby', by: 1n }, 'once');
  sim.runUntil(sim.now + 500);
  call(2, [key], { op: 'incrby', by: 1n }, 'once');
  sim.runUntil(sim.now + 500);
  // "16x" is not an integer: INCR's own error is a result (not a KvError), and writes nothing.
  call(0, [key], { op: 'append', value: new TextEncoder().encode('x') });
  sim.runUntil(sim.now + 500);
  call(0, [key], { op: 'incrby', by: 1n });
  sim.runUntil(sim.now + 500);
  // Keys of two partitions in one operation: refused before anything is sent.
  const placement = sim.process(0)!.placement();
  let other = 0;
  while (placement.partitionOfKey(new TextEncoder().encode(`k${other}`)) === placement.partitionOfKey(key)) other++;
  call(0, [key, new TextEncoder().encode(`k${other}`)], { op: 'del' });
  sim.runUntil(sim.now + 500);
  assert.deepEqual(answers.slice(0, 5), [
    { kind: 'integer', value: 5n },
    { kind: 'integer', value: 10n },
    { kind: 'integer', value: 15n },
    { kind: 'integer', value: 16n },
    { kind: 'integer', value: 16n },
  ]);
  assert.deepEqual(answers[5], { kind: 'integer', value: 3n }, 'APPEND answers the new length');
  assert.deepEqual(answers[6], { kind: 'error', code: 'not-integer' });
  assert.equal((answers[7] as { code: string }).code, 'bad-request');
  assert.equal(answers.length, 8);
});
