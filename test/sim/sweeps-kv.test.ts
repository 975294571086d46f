// The kv swarm sweep (test/sim/sweep.ts says why the sweeps are split over files).
import { sweepTests } from './sweep.ts';

sweepTests([{ scenario: 'kv', seeds: [1, 100], nodes: 5 }]);
