// The whole stack in the simulator: real SDK clients over simulated connections to real client
// sessions on simulated nodes (src/sim/scenarios/kv-sdk.ts), judged by kv's history checkers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAnyScenario } from '../../src/sim/driver.ts';
import { kvSdkScenario } from '../../src/sim/scenarios/kv-sdk.ts';

/** Short runs of a small cluster: 20 seeds in a few seconds of CPU each. */
const OPTIONS = { nodes: 3, durationMs: 10_000, faults: 'swarm' as const };

test('kv-sdk: seeds 1..20 under node and connection faults pass every checker (determinism checked on one seed in five)', async () => {
  const links = { dropped: 0, halfOpened: 0, slowReaders: 0, dialed: 0 };
  const admission = { waited: 0, abandoned: 0 };
  let acked = 0;
  let failedCalls = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const report = await runAnyScenario(kvSdkScenario, { seed, ...OPTIONS }, seed % 5 === 1);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    const l = report['links'] as typeof links;
    for (const k of Object.keys(links) as (keyof typeof links)[]) links[k] += l[k];
    const a = report['admission'] as typeof admission;
    admission.waited += a.waited;
    admission.abandoned += a.abandoned;
    acked += report['opsAcked'] as number;
    failedCalls += (report['opsFailed'] as number) + (report['opsUnknown'] as number);
  }
  // The faults ran, and the clients lived through them: they redialed and kept being acknowledged.
  assert.ok(links.dropped > 0 && links.halfOpened > 0 && links.slowReaders > 0, JSON.stringify(links));
  assert.ok(links.dialed > 20 * 2 * OPTIONS.nodes, `reconnects: ${JSON.stringify(links)}`);
  assert.ok(acked > 1_000 && failedCalls > 0, `acked ${acked}, failed or unknown ${failedCalls}`);
  // The nodes' admission gates (shrunk to the simulated traffic, with bursts of sets) held calls,
  // and refused some whose deadline passed while they waited (7 of the 20 seeds when this was written).
  assert.ok(admission.waited > 100 && admission.abandoned > 0, JSON.stringify(admission));
});

// The oldest reply is a stale one only while some replica is behind, and catch-up pressed on
// (sync.ts pressOn) keeps them behind for less: of seeds 1..30, 16, 23 and 27 catch it (at the old
// catch-up pace 1, 2 and 4 of 1..4 did). The test runs those three until one catches it.
test('kv-sdk: the history checkers see through the SDK: a node answering reads with the oldest reply is caught (seeds 16, 23, 27)', async () => {
  let caught = null;
  for (const seed of [16, 23, 27]) {
    const report = await runAnyScenario(kvSdkScenario, { seed, ...OPTIONS, bugs: { answerOldest: true } });
    caught = report.violations.find((v) => /no-lost-acknowledged-write/.test(v.message)) ?? null;
    if (caught) break;
  }
  assert.ok(caught, 'answerOldest went unnoticed');
});

// Seed 2 (the scenario's defaults: 5 nodes, 30 s) is the first of 1..300 where a write waits out a
// node's pause in its socket past its client's deadline; with the sessions' deadline check on (every
// other run here) it is refused. (Seed 18 at 3 nodes and 10 s showed it until the SDK's prompt ping
// of a silent connection changed the course of that run.)
test('kv-sdk: a node taking up a write after its client gave up is caught (seed 2, sessions that ignore deadlines as nodes older than the field do)', async () => {
  const report = await runAnyScenario(kvSdkScenario, { seed: 2, nodes: 5, durationMs: 30_000, faults: 'swarm', bugs: { sessionIgnoresDeadlines: true } });
  const caught = report.violations.find((v) => v.checker === 'sdk/write-after-deadline');
  assert.ok(caught, `sessionIgnoresDeadlines went unnoticed; replay: ${report.replay}`);
});

// A write that waits in a node's admission gate past its client's deadline is refused when its turn
// comes; a gate that starts it anyway versions it after its client gave up. Seeds 3, 5, 10 and 14
// of 1..20 (3 nodes, 10 s) catch that (54 calls refused in seed 5's correct run).
test('kv-sdk: a write started after waiting in the admission gate past its client\'s deadline is caught (seed 5, a gate that does not check deadlines)', async () => {
  const report = await runAnyScenario(kvSdkScenario, { seed: 5, ...OPTIONS, bugs: { admissionIgnoresDeadlines: true } });
  const caught = report.violations.find((v) => v.checker === 'sdk/write-after-deadline');
  assert.ok(caught, `admissionIgnoresDeadlines went unnoticed; replay: ${report.replay}`);
  const fixed = await runAnyScenario(kvSdkScenario, { seed: 5, ...OPTIONS });
  assert.deepEqual(fixed.violations, []);
  assert.ok((fixed['admission'] as { abandoned: number }).abandoned > 0, 'the gate refused the calls that waited past their deadline');
});

/**
 * Seeds that failed, replayed as found (the CLI's defaults, 5 nodes and 30 s, unless given).
 * regression-seeds.json replays the synchronous scenarios only; kv-sdk's are kept here.
 */
const KV_SDK_REGRESSIONS: { seed: number; nodes?: number; durationMs?: number; note: string }[] = [
  {
    seed: 62,
    note: 'a connection cut by a keepalive ping (terminated, its close event not delivered yet) was handed a new call, and the flush wrote to the closing socket (the simulated one throws, as WHATWG sockets would not); fixed: a flush sends only on an open socket, and the calls it holds are reported unsent when the close arrives',
  },
  {
    seed: 147,
    nodes: 3,
    durationMs: 10_000,
    note: 'a healed split left n1 suspecting n2 and n2 and n3 holding n1 dead, the accusations\' retransmits spent during the split, and Lifeguard had stretched n1\'s probes: not recovered 4 s after the faults; fixed (src/gossip): a member holding the sender of a message as suspect or dead tells it so, and it refutes (switch silentToAccused, test/sim/gossip-accused-told.test.ts)',
  },
];

for (const { seed, nodes = 5, durationMs = 30_000, note } of KV_SDK_REGRESSIONS) {
  test(`kv-sdk regression: seed ${seed} (${note})`, async () => {
    const report = await runAnyScenario(kvSdkScenario, { seed, nodes, durationMs, faults: 'swarm' }, true);
    assert.deepEqual(report.violations, [], `replay: ${report.replay}`);
  });
}
