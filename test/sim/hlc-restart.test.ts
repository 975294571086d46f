// Versions across a restart (docs/REPLICATION.md, "Versions across restarts"), built by hand on a
// quiet 4-node cluster: owners P, A and C of a key's partition and D, a coordinator that owns none
// of it. D's hybrid logical clock lives in memory, and a new incarnation starts it from its wall
// clock, which can lie behind versions the old one handed out:
//  - pulled ahead: P's wall clock runs 10 s fast, D reads P's write (folding its version in) and
//    writes v1 10 s ahead of its own wall clock, crashes and restarts; its next writes of the key
//    are stamped from its wall clock, below v1;
//  - stepped back: D writes v1 (C cut off, so P and A hold it), its wall clock steps back 1 s, it
//    crashes and restarts; 1 s later its wall clock reads v1's millisecond again, and v2 gets v1's
//    very version: P and A keep v1, C takes v2, and anti-entropy, comparing versions, never sees
//    a difference.
// Each construction's writes and reads are judged by the kv scenarios' history checker, as in a
// swarm run (where none of the seeds tried reaches either: docs/SIMULATION.md).
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consistency } from '../../src/replication/api.ts';
import type { ReplicationConfig } from '../../src/replication/config.ts';
import { compareVersions, type Version } from '../../src/replication/hlc.ts';
import { KvHistoryChecker } from '../../src/sim/scenarios/kv-checkers.ts';
import type { Op, ReadOp, WriteOp } from '../../src/sim/scenarios/kv-workload.ts';
import { COUNTER, counterCluster } from './rmw-counter-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

type Outcome = { error: string } | { version: Version };

/**
 * Switches off the fold of peers' clocks (sync answers' `hc`) and the clock ceiling D persisted
 * (clock-ceiling.ts): a restarted D then writes below its predecessor's versions, so the
 * replicas' tells (`wa` `sv`), the backstop for a holder whose clock D has not heard yet, are what
 * the first constructions exercise.
 */
const TELLS_ONLY: ReplicationConfig['bugs'] = { peerClocksIgnored: true, clockCeilingIgnored: true };
/** The clock ceiling ignored: what the peers' clocks and the tells do without it. */
const NO_CEILING: ReplicationConfig['bugs'] = { clockCeilingIgnored: true };

/** The cluster, with its writes and reads of the key judged by the kv scenarios' history checker. */
function restartCluster(bugs: ReplicationConfig['bugs']) {
  const built = counterCluster(bugs);
  const { sim, key } = built;
  const step = (ms = 1_000) => sim.runUntil(sim.now + ms);
  const outcomes = new Map<string, Outcome>();
  const history = new KvHistoryChecker(3, () => false);
  const op = (kind: 'write' | 'read', node: number, value: string | null) => {
    const common = { client: node, key: COUNTER, consistency: 'quorum' as const, sticky: true, coordinator: node, incarnation: sim.nodes[node]!.incarnation, startMs: sim.now };
    const started: Op = kind === 'write' ? { ...common, kind, value, ttlMs: 0, sloppy: false, endMs: null, outcome: 'pending', version: null, acks: 0 } : { ...common, kind, endMs: null, outcome: 'pending', value: null, version: null };
    history.issued(started);
    return started;
  };
  const set = (node: number, value: string, consistency: Consistency = 'quorum') => {
    const write = { ...(op('write', node, value) as WriteOp), consistency };
    sim.process(node)!.kv.set(key, enc.encode(value), { consistency }, (error, result) => {
      outcomes.set(value, error ? { error: error.code } : { version: result!.version! });
      history.completed({ ...write, endMs: sim.now, outcome: error ? 'failed' : 'acked', version: result?.version ?? null });
    });
  };
  /** What a QUORUM read through each node returns. */
  const readThroughEach = () => {
    const values: (string | null)[] = [];
    sim.nodes.forEach((_, n) => {
      const read = op('read', n, null) as ReadOp;
      sim.process(n)!.kv.get(key, { consistency: 'quorum' }, (error, result) => {
        values[n] = error ? error.code : result!.value && dec.decode(result!.value);
        history.completed({ ...read, endMs: sim.now, outcome: error ? 'failed' : 'ok', value: result?.value ? dec.decode(result.value) : null, version: result?.version ?? null });
      });
    });
    step();
    return values;
  };
  /** The history checker's verdicts on it, by checker. */
  const violations = () => history.violations.map((v) => v.checker);
  return { ...built, step, set, outcomes, readThroughEach, violations };
}

/** Pulled ahead: D's v1 is stamped 10 s ahead of its wall clock; after its restart it writes v2 then v3. */
function pulledAhead(bugs: ReplicationConfig['bugs'] = TELLS_ONLY) {
  const { cluster, sim, key, coordinator: D, owners, held, step, set, outcomes, readThroughEach, violations } = restartCluster(bugs);
  const [P] = owners;
  sim.nodes[P]!.clock.setOffset(10_000);
  set(P, 'v0');
  step();
  // D reads P's write: its clock folds in the version, 10 s ahead of D's wall clock.
  sim.process(D)!.kv.get(key, { consistency: 'quorum' }, () => {});
  step();
  set(D, 'v1');
  step();
  cluster.crash(D);
  step(100);
  cluster.restart(D);
  sim.runUntil(sim.now + 10_000, () => sim.process(D)!.joined);
  step();
  set(D, 'v2');
  step();
  set(D, 'v3');
  step(30_000);
  const reads = readThroughEach();
  return { outcomes, held: held(), reads, restamped: sim.process(D)!.kv.stats.writesRestamped, violations: violations() };
}

/** Stepped back: D's v2 (written at `v2Level`), after its restart, gets the version of its v1, which C missed. */
function steppedBack(bugs: ReplicationConfig['bugs'] = TELLS_ONLY, v2Level: Consistency = 'quorum') {
  const { cluster, sim, coordinator: D, owners, held, step, set, outcomes, readThroughEach, violations } = restartCluster(bugs);
  const [P, A, C] = owners;
  const t1 = Math.floor(sim.now) + 1;
  sim.runUntil(t1);
  // C hears nothing from the others until v2 is written: it misses v1, and no sync mends that.
  const heals = [sim.network.cut([C], [P, A]), sim.network.cut([P, A], [C])];
  const healDC = sim.network.cut([D], [C]);
  set(D, 'v1');
  step(50);
  healDC();
  const v1Held = held();
  sim.nodes[D]!.clock.step(-1_000);
  cluster.crash(D);
  step(100);
  cluster.restart(D);
  sim.runUntil(t1 + 1_000);
  // P's and A's answers to v2 come 20 ms late: at ONE, C's ack answers the write first.
  if (v2Level === 'one') for (const owner of [P, A]) sim.network.clog(owner, D, sim.now + 20);
  set(D, 'v2', v2Level);
  step(50);
  for (const heal of heals) heal();
  step(30_000);
  const reads = readThroughEach();
  return { outcomes, v1Held, held: held(), reads, restamped: sim.process(D)!.kv.stats.writesRestamped, violations: violations() };
}

const versionOf = (outcome: Outcome | undefined): Version => {
  assert.ok(outcome && 'version' in outcome, `acknowledged: ${JSON.stringify(outcome)}`);
  return outcome.version;
};

test('a restarted node whose clock had been pulled ahead by a peer writes over its earlier incarnation\'s version: its later writes win', () => {
  const run = pulledAhead();
  assert.equal(run.restamped, 1, 'v2 was started again once, above v1');
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) > 0);
  assert.ok(compareVersions(versionOf(run.outcomes.get('v3')), versionOf(run.outcomes.get('v2'))) > 0);
  assert.deepEqual(run.held, ['v3', 'v3', 'v3']);
  assert.deepEqual(run.reads, ['v3', 'v3', 'v3', 'v3']);
  assert.deepEqual(run.violations, []);
});

test('with peers\' clocks folded in, the restarted node\'s clock is past v1 before it writes v2: nothing to restamp', () => {
  const run = pulledAhead(NO_CEILING);
  assert.equal(run.restamped, 0);
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) > 0);
  assert.deepEqual(run.reads, ['v3', 'v3', 'v3', 'v3']);
  assert.deepEqual(run.violations, []);
});

test('with the predecessor\'s version taken for an ordinary ack, the restarted node\'s acknowledged writes are stamped below v1 and lost', () => {
  const run = pulledAhead({ ...TELLS_ONLY, hlcForgetsPredecessor: true });
  assert.equal(run.restamped, 0);
  assert.ok(compareVersions(versionOf(run.outcomes.get('v3')), versionOf(run.outcomes.get('v1'))) < 0, 'v3 acknowledged under an older version than v1');
  assert.deepEqual(run.held, ['v1', 'v1', 'v1']);
  assert.deepEqual(run.reads, ['v1', 'v1', 'v1', 'v1']);
  assert.deepEqual(run.violations, ['versions-across-restarts', 'versions-across-restarts', 'versions-across-restarts', 'versions-across-restarts'], 'each read of v1');
});

test('a restarted node whose wall clock stepped back never gives a second record its earlier incarnation\'s version: the replicas converge on v2', () => {
  const run = steppedBack();
  assert.deepEqual(run.v1Held, ['v1', 'v1', null]);
  assert.equal(run.restamped, 1);
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) > 0);
  assert.deepEqual(run.held, ['v2', 'v2', 'v2']);
  assert.deepEqual(run.reads, ['v2', 'v2', 'v2', 'v2']);
  assert.deepEqual(run.violations, []);
});

test('a write at ONE answered by C alone before P and A tell of v1 is restamped all the same: the replicas converge on v2', () => {
  const run = steppedBack(TELLS_ONLY, 'one');
  assert.deepEqual(run.v1Held, ['v1', 'v1', null]);
  assert.equal(run.restamped, 1);
  assert.deepEqual(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1')), 'answered under the version C took first');
  assert.deepEqual(run.held, ['v2', 'v2', 'v2']);
  assert.deepEqual(run.reads, ['v2', 'v2', 'v2', 'v2']);
});

test('with the predecessor\'s version taken for an ordinary ack, v1 and v2 share a version and the replicas never converge', () => {
  const run = steppedBack({ ...TELLS_ONLY, hlcForgetsPredecessor: true });
  assert.deepEqual(run.v1Held, ['v1', 'v1', null]);
  assert.deepEqual(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1')), 'two records, one version');
  assert.deepEqual(run.held, ['v1', 'v1', 'v2'], 'still apart 30 s later');
  assert.equal(new Set(run.reads).size, 2, `reads through different nodes answer different values: ${run.reads.join(', ')}`);
  assert.ok(run.violations.length > 0 && run.violations.every((checker) => checker === 'no-fabricated-value'), `v1 read with the version of v2's write: ${run.violations.join(', ')}`);
});

/**
 * The start the late-tell and peer-clock cases share: P's wall clock runs 10 s fast and D reads
 * P's write of another key, so D's clock is pulled ahead (A and C hold nothing of this key); D
 * writes v1 at ONE while cut off from A and C, and P is cut off from them too, so P alone holds
 * v1; then D crashes and restarts. P stays cut off from A and C until the caller runs `heals`.
 */
function v1AtPAloneThenRestart({ cluster, sim, coordinator: D, owners, held, step, set }: ReturnType<typeof restartCluster>) {
  const [P, A, C] = owners;
  sim.nodes[P]!.clock.setOffset(10_000);
  const other = enc.encode('other');
  sim.process(P)!.kv.set(other, enc.encode('v0'), { consistency: 'quorum' }, () => {});
  step();
  sim.process(D)!.kv.get(other, { consistency: 'quorum' }, () => {});
  step();
  const heals = [sim.network.cut([P], [A, C]), sim.network.cut([A, C], [P])];
  const healD = [sim.network.cut([D], [A, C]), sim.network.cut([A, C], [D])];
  set(D, 'v1', 'one');
  step(50);
  for (const heal of healD) heal();
  const v1Held = held();
  cluster.crash(D);
  step(100);
  cluster.restart(D);
  return { heals, v1Held };
}

/**
 * Told late (hole 1 of "Versions across restarts"): D's v1, 10 s ahead of its wall clock, reaches P
 * alone (D cut off from A and C, written at ONE; P cut off from them too, so no sync spreads it).
 * D restarts; P's answers to D come late from then on (clogged `clogMs`): D confirms its ring
 * through A or C, and writes v2, acknowledged by A and C. P's ack naming v1 comes after v2's
 * deadline. Then everything heals and the replicas sync. Peers' clocks are not folded in (TELLS_ONLY):
 * with them, A's and C's clocks, past v0 and ticking, happened to be past v1 too, and v2 with them.
 */
function toldLate(bugs: ReplicationConfig['bugs'] = TELLS_ONLY, clogMs = 3_000, thenV3 = false) {
  const run = restartCluster(bugs);
  const { sim, coordinator: D, owners, held, step, set, outcomes, readThroughEach, violations } = run;
  const [P] = owners;
  const { heals, v1Held } = v1AtPAloneThenRestart(run);
  sim.network.clog(P, D, sim.now + clogMs);
  sim.runUntil(sim.now + 10_000, () => sim.process(D)!.joined);
  set(D, 'v2');
  step();
  const v2Held = held();
  // D writes the key again while P is still silent: P's late tells name v1 for v2 and for v3.
  if (thenV3) set(D, 'v3');
  step(clogMs);
  for (const heal of heals) heal();
  step(30_000);
  const reads = readThroughEach();
  const { writesRestamped: restamped, writesRestampedLate: restampedLate } = sim.process(D)!.kv.stats;
  return { outcomes, v1Held, v2Held, held: held(), reads, restamped, restampedLate, violations: violations() };
}

test('an ack naming the predecessor\'s version that comes after the write stopped waiting restamps it all the same: the replicas converge on v2', () => {
  const run = toldLate();
  assert.deepEqual(run.v1Held, ['v1', null, null]);
  assert.ok('version' in run.outcomes.get('v2')!, `v2 acknowledged by A and C: ${JSON.stringify(run.outcomes.get('v2'))}`);
  assert.deepEqual(run.v2Held, ['v1', 'v2', 'v2'], 'P answered after the deadline');
  assert.equal(run.restamped, 1);
  assert.equal(run.restampedLate, 1);
  assert.deepEqual(run.held, ['v2', 'v2', 'v2']);
  assert.deepEqual(run.reads, ['v2', 'v2', 'v2', 'v2']);
  assert.deepEqual(run.violations, []);
});

test('with a late ack\'s tell ignored, v2 is acknowledged below v1 and lost to it once sync spreads it', () => {
  const run = toldLate({ ...TELLS_ONLY, lateTellsIgnored: true });
  assert.deepEqual(run.v2Held, ['v1', 'v2', 'v2']);
  assert.ok('version' in run.outcomes.get('v2')!);
  assert.equal(run.restamped, 0);
  assert.deepEqual(run.held, ['v1', 'v1', 'v1']);
  assert.deepEqual(run.reads, ['v1', 'v1', 'v1', 'v1']);
  assert.deepEqual(run.violations, ['versions-across-restarts', 'versions-across-restarts', 'versions-across-restarts', 'versions-across-restarts'], 'each read of v1');
});

/**
 * Folded from a peer (hole 2 of "Versions across restarts"): D's v1 reaches P alone, as in
 * toldLate. D restarts and hears P's sync answer, which carries P's clock, already past v1; then
 * P is cut off from D, and D writes v2, acknowledged by A and C. P never gets v2 (its hint waits
 * at D, and a hint's answer tells nothing), so no ack can tell D of v1; once everything heals,
 * sync compares v1 with v2.
 */
function foldedFromPeer(bugs: ReplicationConfig['bugs'] = NO_CEILING) {
  const run = restartCluster(bugs);
  const { sim, coordinator: D, owners, held, step, set, outcomes, readThroughEach, violations } = run;
  const [P] = owners;
  const { heals } = v1AtPAloneThenRestart(run);
  sim.runUntil(sim.now + 10_000, () => sim.process(D)!.joined);
  step(); // a sync round: every peer answers
  heals.push(sim.network.cut([D], [P]), sim.network.cut([P], [D]));
  set(D, 'v2');
  step();
  const v2Held = held();
  for (const heal of heals) heal();
  step(30_000);
  const reads = readThroughEach();
  return { outcomes, v2Held, held: held(), reads, restamped: sim.process(D)!.kv.stats.writesRestamped, violations: violations() };
}

test('a restarted node folds in its peers\' clocks from their sync answers: v2, which the holder of v1 never gets, still versions above v1', () => {
  const run = foldedFromPeer();
  assert.deepEqual(run.v2Held, ['v1', 'v2', 'v2']);
  assert.equal(run.restamped, 0, 'nothing told D of v1');
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) > 0);
  assert.deepEqual(run.held, ['v2', 'v2', 'v2']);
  assert.deepEqual(run.reads, ['v2', 'v2', 'v2', 'v2']);
  assert.deepEqual(run.violations, []);
});

test('with peers\' clocks ignored, v2 is acknowledged below v1, which P alone holds, and lost to it once sync spreads it', () => {
  const run = foldedFromPeer(TELLS_ONLY);
  assert.deepEqual(run.v2Held, ['v1', 'v2', 'v2']);
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) < 0);
  assert.deepEqual(run.held, ['v1', 'v1', 'v1']);
  assert.deepEqual(run.reads, ['v1', 'v1', 'v1', 'v1']);
  assert.deepEqual(run.violations, ['versions-across-restarts', 'versions-across-restarts', 'versions-across-restarts', 'versions-across-restarts'], 'each read of v1');
});

test('told late of v1 for v2 and then for v3, D restamps v3 alone: v2 started again could land above v3', () => {
  const run = toldLate(TELLS_ONLY, 3_000, true);
  assert.ok('version' in run.outcomes.get('v3')!);
  assert.deepEqual(run.held, ['v3', 'v3', 'v3']);
  assert.deepEqual(run.reads, ['v3', 'v3', 'v3', 'v3']);
  assert.deepEqual(run.violations, []);
  assert.equal(run.restampedLate, 1);
});

/**
 * Neither tells nor peers' clocks reach it (docs/REPLICATION.md, "Versions across restarts"): D's
 * wall clock runs 10 s fast while D and P are cut off from A and C; D writes v1 at ONE, which P
 * alone holds (and whose clock alone passed it). D's wall clock is set right (stepped back 10 s),
 * D crashes and restarts cut off from P, hears A's and C's clocks (at their wall clocks, 10 s
 * below v1), and writes v2, acknowledged by A and C. Nothing tells D of v1; once everything heals,
 * sync compares v1 with v2. The clock ceiling D persisted before the crash puts v2 above v1.
 */
function cutOffHolder(bugs: ReplicationConfig['bugs'] = {}) {
  const run = restartCluster(bugs);
  const { cluster, sim, coordinator: D, owners, held, step, set, outcomes, readThroughEach, violations } = run;
  const [P, A, C] = owners;
  const heals = [sim.network.cut([P, D], [A, C]), sim.network.cut([A, C], [P, D])];
  sim.nodes[D]!.clock.setOffset(10_000);
  set(D, 'v1', 'one');
  step(50);
  const v1Held = held();
  sim.nodes[D]!.clock.setOffset(0);
  cluster.crash(D);
  for (const heal of heals) heal();
  // P stays cut off from A and C, so no sync spreads v1 before v2 is written.
  const healP = [sim.network.cut([P], [A, C]), sim.network.cut([A, C], [P])];
  step(100);
  cluster.restart(D);
  // P's answers to D are held until D has confirmed its ring through A or C, then D and P are cut
  // off from each other: the held answers, P's clock in them, never arrive.
  const clogUntil = sim.now + 3_000;
  sim.network.clog(P, D, clogUntil);
  sim.runUntil(clogUntil - 1, () => sim.process(D)!.joined);
  const joined = sim.process(D)!.joined;
  const healDP = [sim.network.cut([D], [P]), sim.network.cut([P], [D])];
  step();
  set(D, 'v2');
  step();
  const v2Held = held();
  for (const heal of [...healDP, ...healP]) heal();
  step(30_000);
  const reads = readThroughEach();
  return { outcomes, joined, v1Held, v2Held, held: held(), reads, restamped: sim.process(D)!.kv.stats.writesRestamped, violations: violations() };
}

test('a restarted node cut off from the only holder of its predecessor\'s record still writes above it: its persisted clock ceiling starts the clock there', () => {
  const run = cutOffHolder();
  assert.ok(run.joined, 'D confirmed its ring through A or C');
  assert.deepEqual(run.v1Held, ['v1', null, null]);
  assert.deepEqual(run.v2Held, ['v1', 'v2', 'v2']);
  assert.equal(run.restamped, 0, 'nothing told D of v1');
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) > 0, 'v2 versioned above v1');
  assert.deepEqual(run.held, ['v2', 'v2', 'v2']);
  assert.deepEqual(run.reads, ['v2', 'v2', 'v2', 'v2']);
  assert.deepEqual(run.violations, []);
});

test('with the clock ceiling ignored, v2 is acknowledged below v1, which P alone holds, and lost to it once sync spreads it', () => {
  const run = cutOffHolder(NO_CEILING);
  assert.deepEqual(run.v2Held, ['v1', 'v2', 'v2']);
  assert.ok(compareVersions(versionOf(run.outcomes.get('v2')), versionOf(run.outcomes.get('v1'))) < 0, 'v2 versioned below v1');
  assert.deepEqual(run.held, ['v1', 'v1', 'v1']);
  assert.deepEqual(run.reads, ['v1', 'v1', 'v1', 'v1']);
  assert.ok(run.violations.length > 0 && run.violations.every((checker) => checker === 'versions-across-restarts'), run.violations.join(', '));
});
