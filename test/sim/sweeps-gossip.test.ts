// The membership swarm sweeps (test/sim/sweep.ts says why the sweeps are split over files).
import { sweepTests } from './sweep.ts';

sweepTests([
  { scenario: 'heartbeat', seeds: [1, 100] },
  // 16 nodes cost ~2.8 s a seed on a loaded machine; `shoal sim --hunt` runs gossip at every size beyond these.
  { scenario: 'gossip', seeds: [1, 20], nodes: 16, durationMs: 120_000 },
]);
