// Mutation tests of the checkers: each bug planted behind a test-only switch (ReplicationBugs in
// src/replication/config.ts) must be caught by the right checker within a few seeds. A planted
// bug no checker catches is a checker to fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import { parseBugs, replayCommand } from '../../src/sim/driver.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { violationKind } from '../../src/sim/shrink.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';

interface Mutation {
  bugs: ReplicationBugs;
  /** The violation kind that must catch it. */
  kind: string;
  /** Seeds tried (from 1): as few as catch it. */
  seeds: number;
}

const MUTATIONS: Mutation[] = [
  // 3 since a joining node waits for a full member table (restart-probe F7): seed 1 now catches it by read-your-writes first, seed 3 by this.
  { bugs: { dropWritesOn: 'n1' }, kind: 'history/no-lost-acknowledged-write', seeds: 3 },
  { bugs: { answerOldest: true }, kind: 'history/no-lost-acknowledged-write', seeds: 3 },
  { bugs: { hlcIgnoresRemote: true }, kind: 'history/causal-versions', seeds: 3 },
];

for (const m of MUTATIONS) {
  test(`planted bug ${JSON.stringify(m.bugs)} is caught by ${m.kind} within ${m.seeds} seeds`, () => {
    const found: string[] = [];
    for (let seed = 1; seed <= m.seeds; seed++) {
      const result = kvScenario.run({ seed, ...kvScenario.defaults, bugs: m.bugs }, new EventTrace());
      const first = result.violations[0];
      if (!first) continue;
      found.push(`seed ${seed}: ${violationKind(first)}`);
      if (violationKind(first) === m.kind) return;
    }
    assert.fail(`not caught by ${m.kind} in seeds 1..${m.seeds} (${found.join('; ') || 'no violation'})`);
  });
}

test('--bugs parses switch names (a node for dropWritesOn) and refuses unknown ones; replay lines carry them', () => {
  assert.deepEqual(parseBugs('dropWritesOn=n1,answerOldest'), { dropWritesOn: 'n1', answerOldest: true });
  assert.throws(() => parseBugs('dropWrites'), /unknown bug switch "dropWrites"; known: forgetStandInWrites, /);
  assert.throws(() => parseBugs('dropWritesOn'), /dropWritesOn names a node: dropWritesOn=n1/);
  assert.throws(() => parseBugs('answerOldest=yes'), /answerOldest takes no value/);
  const options = { seed: 2, ...kvScenario.defaults, bugs: parseBugs('dropWritesOn=n1,answerOldest') };
  assert.match(replayCommand('kv', options, false, 'p.json'), /--seed 2 .* --bugs dropWritesOn=n1,answerOldest --plan p\.json$/);
});
