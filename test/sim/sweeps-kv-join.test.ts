// The kv-join swarm sweep (test/sim/sweep.ts says why the sweeps are split over files).
import assert from 'node:assert/strict';
import { sweepTests } from './sweep.ts';

sweepTests([
  {
    scenario: 'kv-join',
    seeds: [1, 20],
    // Seed 1: the joiner and the leaver hand off (kv-scenarios.test.ts ran that seed again, twice,
    // for this check; kv-join injects no faults, so the sweep's run is the same run).
    expect: (report) => {
      if (report.seed !== 1) return;
      assert.ok((report['keysReceivedByJoiner'] as number) > 0, 'the joiner received keys');
      assert.equal(typeof report['joinHandoffSeconds'], 'number');
      assert.equal(typeof report['leaveHandoffSeconds'], 'number');
    },
  },
]);
