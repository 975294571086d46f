// The swarm sweeps under memory pressure and overload (test/sim/sweep.ts says why the sweeps are split over files).
import { sweepTests } from './sweep.ts';

sweepTests([
  { scenario: 'kv-pressure', seeds: [1, 20], nodes: 5 },
  // 3 nodes: each owns every partition, so a restarted node catches all of them up (seeds 4, 18, 24, 29 never did before the fix).
  { scenario: 'kv-pressure', seeds: [1, 30], nodes: 3 },
  // A 64-key eviction shadow: keys it forgot are answered by its filter of forgotten keys (restart-probe F5).
  { scenario: 'kv-pressure-forgetful', seeds: [1, 20], nodes: 5 },
  // The same, while owners restart, a node joins, nodes drain, leave and rejoin (restarted and newly gaining owners under pressure).
  { scenario: 'kv-pressure-ring', seeds: [1, 10], nodes: 5 },
  // Slow partition actors, tiny mailboxes: backpressure (`overloaded`) under swarm faults.
  { scenario: 'kv-overload', seeds: [1, 5], nodes: 5, durationMs: 30_000 },
]);
