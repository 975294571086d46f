// The kv swarm sweep (test/sim/sweep.ts says why the sweeps are split over files).
import assert from 'node:assert/strict';
import { sweepTests } from './sweep.ts';

sweepTests([
  // Every seed acknowledges some operations: a workload that got nothing through would pass the
  // checkers with nothing to check. (kv-scenarios.test.ts ran seeds 1..5 of this sweep again, each
  // twice, for that check: 10 runs, 50 s of a loaded CI run, that this sweep already made.)
  { scenario: 'kv', seeds: [1, 100], nodes: 5, expect: (report) => assert.ok((report['opsAcked'] as number) > 0, `seed ${report.seed}: no operation acknowledged`) },
  // Anti-entropy by bucket digests with a small answer budget (docs/REPLICATION.md, "Anti-entropy of large partitions").
  // Seeds 1..3 compare some partition by bucket, each run twice (sync-buckets.test.ts ran those three
  // runs again, each twice, for that check: the same scenario, seeds, nodes, duration and faults).
  {
    scenario: 'kv-buckets',
    seeds: [1, 30],
    nodes: 5,
    determinism: [2, 3],
    expect: (report) => {
      if (report.seed <= 3) assert.ok((report['syncPartitionsByBucket'] as number) > 0, `seed ${report.seed} compared some partition by bucket`);
    },
  },
  { scenario: 'kv-buckets', seeds: [1, 20], nodes: 3 },
]);
