/**
 * Known answers of SeededRandom over both generators, recorded from the two classes it replaced
 * (store/prng.ts, mulberry32; sim/rng.ts, alea): seeds must keep replaying the same runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { namedStream } from '../../src/sim/rng.ts';

test('the mulberry32 stream keeps its sequence', () => {
  const r = SeededRandom.mulberry32(12345);
  assert.deepEqual(Array.from({ length: 8 }, () => r.next()), [0.9797282677609473, 0.3067522644996643, 0.484205421525985, 0.817934412509203, 0.5094283693470061, 0.34747186047025025, 0.07375754183158278, 0.7663964673411101]);
  const s = SeededRandom.mulberry32(-7);
  assert.deepEqual(Array.from({ length: 8 }, () => s.int(1000)), [433, 325, 544, 480, 48, 41, 267, 206]);
});

test('a named alea stream keeps its sequence', () => {
  const r = namedStream(3, 'node/n1');
  assert.deepEqual(Array.from({ length: 8 }, () => r.next()), [0.8776242381427437, 0.5982206363696605, 0.006204069126397371, 0.08432274893857539, 0.6140630012378097, 0.673234800575301, 0.7502701540943235, 0.12188711576163769]);
  const s = namedStream(3, 'faults');
  assert.deepEqual([s.int(10), s.chance(0.5), s.between(2, 5), s.exponential(10), s.pick(['p', 'q', 'r'])], [9, false, 4.493491733446717, 20.012070433502885, 'p']);
});
