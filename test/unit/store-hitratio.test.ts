/**
 * Replays every real trace from ../shared/traces at one size through W-TinyLFU and asserts the
 * issue's hit-ratio targets. These are deterministic numbers (the random admission is seeded).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { REFERENCE_ROWS, requiredHitRatio, TRACES_DIR, tracePath } from '../../bench/hitratio/reference.ts';
import { loadTrace } from '../../src/cli/bench.ts';
import { replay } from '../../src/store/trace/replay.ts';
import { DEFAULT_STORE_SEED } from '../../src/store/store.ts';

/** One size per trace: the row carrying the explicit target. */
const ROWS = REFERENCE_ROWS.filter((r) => r.target !== undefined);
const skip = existsSync(TRACES_DIR) ? false : `traces not found at ${TRACES_DIR} (see ../shared/traces/README.md)`;

for (const row of ROWS) {
  test(`W-TinyLFU on ${row.trace} @ ${row.size} meets its target`, { skip }, () => {
    const trace = loadTrace(tracePath(row), row.format);
    const result = replay(trace, row.size, 'wtinylfu', { seed: DEFAULT_STORE_SEED });
    const need = requiredHitRatio(row);
    assert.ok(result.hitRatio >= need, `${row.trace} @ ${row.size}: ${result.hitRatio.toFixed(2)}% < required ${need}%`);
  });
}

test('LRU and OPT replay match the reference simulator exactly', { skip }, () => {
  const row = REFERENCE_ROWS.find((r) => r.trace === 'gli')!;
  const trace = loadTrace(tracePath(row), row.format);
  // The README gives one decimal (rounded or truncated).
  assert.ok(Math.abs(replay(trace, row.size, 'lru').hitRatio - row.lru) < 0.1);
  assert.ok(Math.abs(replay(trace, row.size, 'opt').hitRatio - row.opt) < 0.1);
});
