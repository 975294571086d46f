// Shrinking (src/sim/shrink.ts): ddmin itself, failing kv and kv-rmw runs shrunk within a bounded
// budget of candidate runs to at most 10% of their faults and operations, still failing the same
// way, and the keyed draws (src/sim/rng.ts) that keep a removal's effect local.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ddmin, shrinkRun, violationKind } from '../../src/sim/shrink.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';
import { kvRmwScenario } from '../../src/sim/scenarios/kv-rmw.ts';
import { runScenario } from '../../src/sim/driver.ts';
import { writeArtifacts } from '../../src/sim/artifacts.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { instantKeyedStream, KeyedStreams, namedStream, type Draws } from '../../src/sim/rng.ts';

test('ddmin finds the two items that together fail, in few tests', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  let tests = 0;
  const minimal = ddmin(items, (subset) => (tests++, subset.includes(17) && subset.includes(62)));
  assert.deepEqual(minimal, [17, 62]);
  assert.ok(tests <= 80, `${tests} tests`);
  assert.deepEqual(ddmin(items, () => true), [], 'a failure that needs nothing shrinks to nothing');
});

test('kv seed 12 with reads answered by their oldest replica shrinks to at most 10% of its faults and ops within 40 runs, and replays', () => {
  // Seed 3 shrank so until catch-up pressed on (sync.ts pressOn): now its run fails at 1.1 s, after 23
  // ops, too early to shrink to 10% (18 of 23 left). Of seeds 12, 17 and 43, failing later at today's
  // pace, 12 (0 of 5 faults, 12 of 681 ops within 40 runs) and 43 (0 of 3, 108 of 1,187) shrink so.
  // Its requests expire as soon as their deadline timer fires, as when it was found (expireBeforeReading):
  // with a late timer's expiry put off a turn (coordinator.ts expireDue) it shrank to 4 of 6 faults.
  // And without the clock ceiling (clockCeilingIgnored), as found: with it, it shrank to 3 of 3 faults.
  const options = { seed: 12, ...kvScenario.defaults, bugs: { answerOldest: true, expireBeforeReading: true, clockCeilingIgnored: true } };
  const r = shrinkRun(kvScenario, options, { maxRuns: 40 });
  assert.equal(r.kind, 'history/no-lost-acknowledged-write');
  assert.ok(r.runs <= 40);
  assert.ok(r.shrunk.faults <= 0.1 * r.original.faults, `faults ${r.shrunk.faults} of ${r.original.faults}`);
  assert.ok(r.shrunk.ops <= 0.1 * r.original.ops, `ops ${r.shrunk.ops} of ${r.original.ops}`);
  const replay = kvScenario.run(r.options, new EventTrace());
  assert.equal(violationKind(replay.violations[0]!), r.kind, 'the minimal plan fails the same way when replayed');
});

test("kv seed 1100 with issue 7's bug re-injected, drawn keyed, shrinks to at most 10% of its ops within 12 runs, and replays", () => {
  // Seed 211, the bug's regression seed, fails with shared draws only, where every removal reshuffles later messages.
  // At the old catch-up pace, as the seed was found (kv-scenarios.test.ts, seed 1100).
  const options = { seed: 1100, ...kvScenario.defaults, bugs: { forgetStandInWrites: true, catchUpAtTimerPace: true }, draws: 'keyed' as const };
  const r = shrinkRun(kvScenario, options, { maxRuns: 12 });
  assert.equal(r.kind, 'history/read-your-writes');
  assert.equal(r.options.draws, 'keyed');
  assert.ok(r.shrunk.ops <= 0.1 * r.original.ops, `ops ${r.shrunk.ops} of ${r.original.ops}`);
  const replay = kvScenario.run(r.options, new EventTrace());
  assert.equal(violationKind(replay.violations[0]!), r.kind, 'the minimal plan fails the same way when replayed');
});

test('kv-rmw seed 230275 (3 nodes, 60 s) with an in-doubt id abandoned once built on shrinks to a few INCRs and fewer faults within 160 runs, replays, and its page shows them', (t) => {
  // The bug re-injected (bugs.rmwAbandonBuiltOnDoubts), with the gossip fixes of kv-rmw seed 106 and kv-sdk seed 147, the ring announcements and the catch-up's faster pace off too (as when it was found): a retried INCR applied twice.
  // With the same switches at today's catch-up pace, of 230276..230600 (325 runs) only 230330 fails
  // (an INCR of ctr2 applied twice), and its drawn plan replayed, keyed or shared, does not: it cannot shrink.
  // kv-rmw.test.ts holds the switch at seed 231040 (keyed draws, old gossip too), which shrinks worse: within
  // 160 runs its 14 faults stay 14 (9 within 400 runs) and its 268 ops go to 4 (1.5%).
  const options = { seed: 230275, ...kvRmwScenario.defaults, nodes: 3, durationMs: 60_000, bugs: { rmwAbandonBuiltOnDoubts: true, ignoreStaleAccusations: true, silentToAccused: true, ringsUnannounced: true, catchUpAtTimerPace: true } };
  const r = shrinkRun(kvRmwScenario, options, { maxRuns: 160 });
  assert.equal(r.kind, 'rmw-history/duplicated-increments');
  assert.ok(r.shrunk.ops <= 0.01 * r.original.ops, `ops ${r.shrunk.ops} of ${r.original.ops}`);
  assert.ok(r.shrunk.faults < r.original.faults, `faults ${r.shrunk.faults} of ${r.original.faults}`);
  const replay = runScenario(kvRmwScenario, r.options);
  assert.equal(violationKind(replay.violations[0]!), r.kind, 'the minimal plan fails the same way when replayed');
  assert.throws(() => kvScenario.run({ seed: 1, ...kvScenario.defaults, plan: r.plan }, new EventTrace()), /is not a kv operation/, 'kv refuses a kv-rmw plan');

  const timeline = kvRmwScenario.run(r.options, new EventTrace()).timeline;
  assert.ok(timeline);
  const dir = mkdtempSync(join(tmpdir(), 'shoal-rmw-artifacts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const html = readFileSync(writeArtifacts(dir, replay, timeline), 'utf8');
  assert.match(html, /Operations on ctr0 that led to the violation/);
  assert.equal(html.match(/<td>INCRBY 1 → \d+<\/td>/g)?.length, r.plan.ops.filter((op) => op.key === 'ctr0').length, 'one row per INCR of the key');
});

test('keyed draws: a message keeps its fate and a node its draws whatever was drawn before them', () => {
  const fates = (draws: Draws, extraSends: number) => {
    const network = new SimNetwork(namedStream(9, 'network'), { lossRate: 0.3, duplicateRate: 0.2 }, 8, draws === 'keyed' ? new KeyedStreams(9, 'network') : null);
    const seen: string[] = [];
    for (let i = 0; i < extraSends; i++) network.send(1, 0, 2, new Uint8Array(1), () => {});
    network.send(5, 0, 1, new Uint8Array(1), (at) => seen.push(at.toFixed(6)));
    network.send(5, 0, 1, new Uint8Array(1), (at) => seen.push(`second ${at.toFixed(6)}`));
    return seen.join(' ') || 'lost';
  };
  assert.equal(fates('keyed', 0), fates('keyed', 7), 'messages sent earlier on another link change nothing');
  assert.notEqual(fates('shared', 0), fates('shared', 7), 'with shared draws they do (why a removal reshuffles the run)');

  const drawsAt = (times: number[]) => {
    let now = 0;
    const node = instantKeyedStream(9, 'node/n1', () => now);
    return times.map((t) => ((now = t), node.next()));
  };
  assert.equal(drawsAt([3, 3, 8])[2], drawsAt([8])[0], 'a draw at 8 ms is the same whatever was drawn at 3 ms');
});
