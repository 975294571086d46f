// The kv-join swarm sweep (test/sim/sweep.ts says why the sweeps are split over files).
import { sweepTests } from './sweep.ts';

sweepTests([{ scenario: 'kv-join', seeds: [1, 20] }]);
