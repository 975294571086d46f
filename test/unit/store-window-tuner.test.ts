/**
 * The window tuner's cold start (src/store/window-tuner.ts): until the window first leaves its
 * starting rung, strong evidence moves it within a period instead of at the period's end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmix32 } from '../../src/protocol/hash.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { WINDOW_LADDER, WindowTuner } from '../../src/store/window-tuner.ts';

const ENTRIES = 256;
const hashOf = (key: number): number => fmix32(key + 1);

test('after a tied first period, a clearly better window is taken before the next period ends', () => {
  const tuner = new WindowTuner({ expectedEntries: ENTRIES, random: SeededRandom.mulberry32(7) });
  tuner.noteRead();
  // First period: keys never seen again, so every rung scores nothing and the window stays.
  for (let key = 1_000_000; tuner.decisions === 0; key++) assert.equal(tuner.record(hashOf(key)), false);
  assert.equal(tuner.fraction, WINDOW_LADDER[0]);
  // Then each new key is read again 100 keys later, once: a recency pattern only a large window
  // catches (at 1% a newcomer's tie with main's victim turns it away before its second read).
  let movedAt = -1;
  for (let key = 0; movedAt === -1 && tuner.decisions === 1; key++) {
    if (tuner.record(hashOf(key))) movedAt = key;
    else if (key >= 100 && tuner.record(hashOf(key - 100))) movedAt = key;
  }
  assert.notEqual(movedAt, -1, 'the window moved only at the second period end');
  assert.equal(tuner.decisions, 1);
  assert.ok(tuner.fraction >= 0.5, `moved to ${tuner.fraction}`);
});

test('once the window has moved, it moves only at period ends', () => {
  const tuner = new WindowTuner({ expectedEntries: ENTRIES, random: SeededRandom.mulberry32(7) });
  tuner.noteRead();
  for (let key = 1_000_000; tuner.decisions === 0; key++) tuner.record(hashOf(key));
  let moves = 0;
  for (let key = 0; tuner.decisions < 6; key++) {
    const decisions = tuner.decisions;
    const moved = tuner.record(hashOf(key)) || (key >= 100 && tuner.record(hashOf(key - 100)));
    if (!moved) continue;
    moves++;
    // The first move may come mid-period; every later one comes with a decision.
    if (moves > 1) assert.equal(tuner.decisions, decisions + 1);
  }
  assert.ok(moves >= 1);
});
