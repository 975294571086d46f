// The kv swarm sweep (test/sim/sweep.ts says why the sweeps are split over files).
import { sweepTests } from './sweep.ts';

sweepTests([
  { scenario: 'kv', seeds: [1, 100], nodes: 5 },
  // Anti-entropy by bucket digests with a small answer budget (docs/REPLICATION.md, "Anti-entropy of large partitions").
  { scenario: 'kv-buckets', seeds: [1, 30], nodes: 5 },
  { scenario: 'kv-buckets', seeds: [1, 20], nodes: 3 },
]);
