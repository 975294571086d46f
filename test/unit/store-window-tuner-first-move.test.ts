/**
 * The window tuner's first decision (src/store/window-tuner.ts, FIRST_MOVE_SIGNIFICANCE): a move up
 * on one period's lead inside the noise waits for a second period; a clear lead moves at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmix32 } from '../../src/protocol/hash.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { WINDOW_LADDER, WindowTuner } from '../../src/store/window-tuner.ts';

const ENTRIES = 256;
const hashOf = (key: number): number => fmix32(key + 1);

/**
 * Feeds `periods` periods of a hot set of 64 keys that every rung holds, a new key per step that
 * fills the cache, and, every `every` steps, a re-read of the key new 100 steps before: a recency
 * hit only the large rungs catch, so the fewer re-reads, the smaller their lead over 1%.
 */
function feeder(tuner: WindowTuner, every: number): (periods: number) => void {
  let i = 0;
  return (periods) => {
    for (; tuner.decisions < periods; i++) {
      tuner.record(hashOf(i % 64));
      tuner.record(hashOf(1_000_000 + i));
      if (i >= 100 && i % every === 0) tuner.record(hashOf(1_000_000 + i - 100));
    }
  };
}

test('a first period whose large rungs lead inside the noise leaves the window where it is', () => {
  const tuner = new WindowTuner({ expectedEntries: ENTRIES, random: SeededRandom.mulberry32(7) });
  tuner.noteRead();
  // One re-read in 8 steps: the 80% and 99% rungs lead the 1% rung by about 9 hits of 330 (0.35
  // standard deviations of the two counts' Poisson noise); every rung's hits are mostly the hot set.
  const feed = feeder(tuner, 8);
  feed(1);
  assert.equal(tuner.fraction, WINDOW_LADDER[0], 'moved up on the first period\'s lead inside the noise');
  // The same lead a second period running is taken (after the first decision a larger rung needs
  // only to lead): waiting costs one period.
  feed(2);
  assert.ok(tuner.fraction >= 0.8, `the second period left the window at ${tuner.fraction}`);
});

test('a first period whose large rung leads clearly moves the window up at the first decision', () => {
  const tuner = new WindowTuner({ expectedEntries: ENTRIES, random: SeededRandom.mulberry32(7) });
  tuner.noteRead();
  // One re-read in 2 steps: the 99% rung leads by about 19 hits of 360 (0.7 standard deviations);
  // the 100% rung above it does not lead it.
  feeder(tuner, 2)(1);
  assert.equal(tuner.fraction, 0.99);
});
