// The swarm sweeps under memory pressure and overload (test/sim/sweep.ts says why the sweeps are split over files).
import assert from 'node:assert/strict';
import type { RunReport } from '../../src/sim/driver.ts';
import { sweepTests } from './sweep.ts';

/** Asserts a run shows no eviction inversion (a read answered older than a version a replica evicted). */
function noEvictionInversion(report: RunReport): void {
  const inversions = report['evictionInversions'] as { count: number; examples: string[] };
  assert.equal(inversions.count, 0, `seed ${report.seed}: eviction inversions: ${inversions.examples.join(' | ')}`);
}

/**
 * kv-pressure-ring seeds 5 and 10 (kv-pressure-ring.test.ts ran them again for these checks): no
 * eviction inversion (here a violation), and not vacuous: the ring steps ran, and restarted or newly
 * gaining owners answered reads of keys another owner had forgotten, some of them answered over that
 * inexact eviction. Chosen because, on this code, they reach the rarest count asserted below (a fresh
 * owner behind an acknowledged write beside an inexact eviction: 6 and 4 reads; seeds 1..12 reach it
 * in 4 seeds). A change to replication that shifts the runs can take them past it: pick others with
 * `shoal sim --scenario kv-pressure-ring --seeds 1..20 --json` (its freshOwners.behindBeside).
 * Summed over both seeds, checked at the last; the sweep runs its seeds in order, in one test.
 */
function ringSeedsExpect(): (report: RunReport) => void {
  const SEEDS = [5, 10];
  const ring: Record<string, number> = {};
  const fresh: Record<string, number> = {};
  let overInexact = 0;
  return (report) => {
    if (!SEEDS.includes(report.seed)) return;
    noEvictionInversion(report);
    for (const [k, n] of Object.entries(report['ring'] as Record<string, number>)) ring[k] = (ring[k] ?? 0) + n;
    for (const [k, n] of Object.entries(report['freshOwners'] as Record<string, number>)) fresh[k] = (fresh[k] ?? 0) + n;
    overInexact += report['answersOverInexactEviction'] as number;
    if (report.seed !== SEEDS.at(-1)) return;
    for (const step of ['crash-restart', 'join', 'drain', 'stop-restart', 'leave', 'miss-then-restart']) assert.ok(ring[step]! > 0, `no ${step} step ran: ${JSON.stringify(ring)}`);
    assert.ok(ring['distinctRings']! > 1, 'the ring never changed');
    assert.ok(fresh['beside']! > 0, `no fresh owner answered beside an inexact eviction: ${JSON.stringify(fresh)}`);
    assert.ok(fresh['countedInAnswer']! > 0, `no read was answered over an inexact eviction with a fresh owner answering: ${JSON.stringify(fresh)}`);
    assert.ok(fresh['behindBeside']! > 0, `no fresh owner answered older than an acknowledged write beside an inexact eviction (see SEEDS): ${JSON.stringify(fresh)}`);
    assert.ok(overInexact > 0);
  };
}

sweepTests([
  // Seed 13 read k14 from a replica that had evicted the newest write (a tombstone) and one that
  // missed it, and answered the older version. Replicas now report the version they evicted, and
  // the coordinator answers a miss rather than anything older (kv-pressure.test.ts ran the seed
  // again, twice, for this check).
  {
    scenario: 'kv-pressure',
    seeds: [1, 20],
    nodes: 5,
    determinism: [13],
    expect: (report) => {
      if (report.seed === 13) noEvictionInversion(report);
    },
  },
  // 3 nodes: each owns every partition, so a restarted node catches all of them up (seeds 4, 18, 24, 29 never did before the fix).
  { scenario: 'kv-pressure', seeds: [1, 30], nodes: 3 },
  // A 64-key eviction shadow: keys it forgot are answered by its filter of forgotten keys (restart-probe F5).
  { scenario: 'kv-pressure-forgetful', seeds: [1, 20], nodes: 5 },
  // The same, while owners restart, a node joins, nodes drain, leave and rejoin (restarted and newly gaining owners under pressure).
  { scenario: 'kv-pressure-ring', seeds: [1, 10], nodes: 5, determinism: [5], expect: ringSeedsExpect() },
  // Slow partition actors, tiny mailboxes: backpressure (`overloaded`) under swarm faults.
  { scenario: 'kv-overload', seeds: [1, 5], nodes: 5, durationMs: 30_000 },
]);
