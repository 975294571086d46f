// The near-cache scenario (src/sim/scenarios/near-cache.ts): 50 swarm seeds with lossy,
// duplicating, reordering invalidation streams and 0 violations, the staleness distribution and
// stream traffic per write, and the checker catching the fill-race guard and gap detection off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import { nearCacheScenario, runNearCache, type NearCacheTuning } from '../../src/sim/scenarios/near-cache.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const SEEDS = 50;

test(`near-cache: seeds 1..${SEEDS} under swarm faults with 1% of invalidations lost: every hit within 2 s of the write, none older than an invalidation received`, () => {
  const staleness: number[] = [];
  const totals = { reads: 0, nearHits: 0, writesAcked: 0, streamMessages: 0, invalidationKeysDelivered: 0, gaps: 0, fillsRefused: 0, staleHits: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const report = runScenario(nearCacheScenario, { seed, ...nearCacheScenario.defaults }, seed <= 2);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) if (k !== 'staleHits') totals[k] += report[k] as number;
    const stale = report['staleHitsMs'] as number[];
    totals.staleHits += stale.length;
    staleness.push(...stale);
  }
  staleness.sort((a, b) => a - b);
  const q = (f: number) => (staleness.length === 0 ? 0 : Math.round(staleness[Math.min(staleness.length - 1, Math.floor(f * staleness.length))]!));
  // Printed for the issue note: how long after the newer write's acknowledgement each stale hit came, over every seed.
  process.stdout.write(
    `near-cache figures over ${SEEDS} seeds: ${JSON.stringify({ ...totals, hitRatio: +(totals.nearHits / totals.reads).toFixed(3), streamMessagesPerAckedWrite: +(totals.streamMessages / totals.writesAcked).toFixed(1), invalidationKeysPerAckedWrite: +(totals.invalidationKeysDelivered / totals.writesAcked).toFixed(1), staleHitMs: { p50: q(0.5), p99: q(0.99), max: q(1) } })}\n`,
  );
  assert.ok(totals.nearHits > 500, `the near caches served hits (${totals.nearHits})`);
  assert.ok(totals.gaps > 0, 'lost invalidations were noticed as gaps');
});

function violationsOf(seed: number, faults: 'swarm' | 'none', tuning: NearCacheTuning): string[] {
  return runNearCache({ seed, nodes: 5, durationMs: faults === 'none' ? 15_000 : 10_000, faults }, new EventTrace(), tuning).violations.map((v) => v.message);
}

test('near-cache: with the fill-race guard off, a read that began before an invalidation installs the older value and the checker says so', () => {
  // Fast streams, hot keys and slow nodes (swarm faults) make the race frequent.
  const tuning: NearCacheTuning = { clients: 8, keys: 8, streamDelayMs: [0, 2] };
  const buggy = violationsOf(1, 'swarm', { ...tuning, bugs: { noFillGuard: true } });
  assert.ok(buggy.length > 0, 'the checker caught the fill race');
  assert.match(buggy[0]!, /after receiving .* an invalidation of/);
  assert.deepEqual(violationsOf(1, 'swarm', tuning), []);
});

test('near-cache: with gap detection off, lost invalidations leave stale values past the bound and the checker says so', () => {
  // Every owner streams each change, so 1% loss rarely loses all three copies: 90% of batches are lost here.
  const tuning: NearCacheTuning = { loss: 0.9, heartbeatLoss: 0 };
  // No swarm faults: the streams' own loss is the only trouble.
  const buggy = violationsOf(1, 'none', { ...tuning, bugs: { noGapDetection: true } });
  assert.ok(buggy.length > 0, 'the checker caught a stale hit');
  assert.match(buggy[0]!, /after a newer write was acknowledged \(bound 2000 ms\)/);
  assert.deepEqual(violationsOf(1, 'none', tuning), []);
});

test('near-cache distortion (after Hazelcast): seqs and epochs corrupted for 58 s under writes, half the invalidations lost: no hit past the bound, and every near cache agrees with the cluster at the end', () => {
  // Without faults, 100 s: writes until 60 s, corruption until 58 s, then the streams must heal.
  // Taking only a newer epoch as a change, or never resetting a seq from a heartbeat, fails this
  // run within the bound check (a corrupted stream position hides lost invalidations).
  const report = runNearCache({ seed: 1, nodes: 5, durationMs: 100_000, faults: 'none' }, new EventTrace(), { distortUntilBeforeEndOfWritesMs: 2_000, loss: 0.5, heartbeatLoss: 0 });
  assert.deepEqual(report.violations, []);
  assert.ok((report.figures['nearHits'] as number) > 500, 'the near caches served hits');
  assert.ok((report.figures['epochChanges'] as number) > 0, 'corrupted epochs were seen');
});
