// Peer health verdicts stable in time (probe s18, F1/F2/F10), in virtual time: under steady,
// heavy load on every node, with each node's event loop stalling a few milliseconds now and then
// (a busy coordinator's own lag is in every round trip it measures), three healthy nodes must not
// flip each other's verdicts nor keep republishing their metadata; a node that really is slow, or
// stopped most of the time from outside (SIGSTOP/SIGCONT duty cycles), must be flagged by every
// other node, stay flagged while the fault lasts, and be the only one flagged. And however verdicts
// move, the log and gossip they cause stay bounded.
// Figures per seed: runGray's verdictChanges, grayRecoveries and incarnationBumps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEALTH_PUBLISH_INTERVAL_MS } from '../../src/node/node.ts';
import { VERDICT_LOG_INTERVAL_MS } from '../../src/node/verdict-log.ts';
import { runGray, type GrayRunOptions } from '../../src/sim/scenarios/gray.ts';

const NODES = 3;
const LOADED = { nodes: NODES, durationMs: 20_000, routing: true, load: { clients: 12, meanThinkMs: 2 }, loopStalls: { meanGapMs: 200, minMs: 2, maxMs: 30 } } satisfies Partial<GrayRunOptions>;
/** Each node's first metadata, plus a few (a refuted suspicion, a prediction crossing a step). */
const MAX_INCARNATION_BUMPS = NODES + 3;

test('three healthy nodes under steady load with event-loop stalls keep their verdicts and their incarnations', () => {
  for (const seed of [1, 2]) {
    const run = runGray({ seed, ...LOADED, fault: 'none' });
    assert.equal(run.verdictChanges, 0, `seed ${seed}: ${JSON.stringify(run)}`);
    assert.ok(run.incarnationBumps <= MAX_INCARNATION_BUMPS, `seed ${seed}: ${run.incarnationBumps} metadata republications`);
    assert.equal(run.readsFailed + run.writesFailed, 0);
  }
});

test('a node whose replies take 10x as long, under the same load, is flagged by every other node within 1 s and stays flagged; nobody else is', () => {
  for (const seed of [1, 2]) {
    const run = runGray({ seed, ...LOADED, fault: 'slow' });
    assert.ok(run.demotedAfterMs !== null && run.demotedAfterMs <= 1_000, `seed ${seed}: ${JSON.stringify(run)}`);
    assert.notEqual(run.degradedAfterMs, null, `seed ${seed}: gossip calls it degraded`);
    assert.equal(run.grayRecoveries, 0, `seed ${seed}: ${JSON.stringify(run)}`);
    assert.equal(run.verdictChanges, run.grayVerdictChanges, `seed ${seed}: a healthy node was flagged`);
  }
});

test('a node stopped 60 ms of every 80 (SIGSTOP/SIGCONT) is flagged within 1 s and stays flagged; nobody else is', () => {
  for (const seed of [1, 2]) {
    const run = runGray({ seed, ...LOADED, fault: 'duty', duty: { pausedMs: 60, runningMs: 20 } });
    assert.ok(run.demotedAfterMs !== null && run.demotedAfterMs <= 1_000, `seed ${seed}: ${JSON.stringify(run)}`);
    assert.equal(run.grayRecoveries, 0, `seed ${seed}: ${JSON.stringify(run)}`);
    assert.equal(run.verdictChanges, run.grayVerdictChanges, `seed ${seed}: a healthy node was flagged`);
  }
});

test('however fast verdicts flip, a node logs at most one peer-verdict line per peer per 10 s and republishes its health at most once per 5 s', () => {
  // Peer health made to flip on noise (no hold, one window of 20 ms decides): what the log and gossip do with it.
  const flappy = { minHoldMs: 0, maxHoldMs: 0, slowWindowsToDemote: 1, healthyWindowsToRecover: 1, slowFactor: 1.05, slowMinGapMs: 0, windowMs: 20 };
  let lines = 0;
  const run = runGray({ seed: 1, ...LOADED, fault: 'none', peerHealth: flappy, logSink: (line) => void (line.includes('"event":"peer-verdict"') && lines++) });
  assert.ok(run.verdictChanges > 500, `the premise: verdicts flip (${run.verdictChanges})`);
  const seconds = LOADED.durationMs / 1000;
  assert.ok(lines <= NODES * (NODES - 1) * (Math.ceil(seconds / (VERDICT_LOG_INTERVAL_MS / 1000)) + 1), `${lines} peer-verdict lines`);
  // Plus one for each ring a node installed while the cluster formed: each is announced in its metadata.
  assert.ok(run.incarnationBumps <= NODES * (Math.ceil(seconds / (HEALTH_PUBLISH_INTERVAL_MS / 1000)) + 1) + run.ringsInstalled, `${run.incarnationBumps} metadata republications (${run.ringsInstalled} rings installed)`);
});

test('a node stopped most of the time in pauses longer than the pause rule (71%, 89%) is flagged and called degraded: its pauses are the fault', () => {
  for (const duty of [{ pausedMs: 250, runningMs: 100 }, { pausedMs: 800, runningMs: 100 }]) {
    const run = runGray({ seed: 1, nodes: NODES, durationMs: 20_000, routing: true, fault: 'duty', duty });
    const label = `paused ${duty.pausedMs} ms of ${duty.pausedMs + duty.runningMs}`;
    assert.ok(run.demotedAfterMs !== null && run.demotedAfterMs <= 10_000, `${label}: ${JSON.stringify(run)}`);
    assert.notEqual(run.degradedAfterMs, null, `${label}: gossip calls it degraded`);
    assert.equal(run.grayRecoveries, 0, `${label}: ${JSON.stringify(run)}`);
  }
});
