/**
 * W-TinyLFU's cold fill (src/store/policy-wtinylfu.ts, `endFill`, `victimIsUnreadFill`): until a
 * key is requested again every candidate is admitted, so a cache filled by keys seen once holds the
 * newest, as LRU; after that, a candidate one point ahead of an unread key the fill kept is a tie.
 * The two patterns that begin alike: a sweep that turns back (zigzag) wants the newest keys at its
 * turn, a loop that starts over (scan) the keys it will reach before its misses push them out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyHashes, policyHits } from '../../src/store/trace/policy-sim.ts';

const ENTRIES = 500;
const KEYS = 4 * ENTRIES;
const hashes = keyHashes(KEYS);

/** Hits of `policy` in requests [from, to) of `ids`, the cache having seen every request before `from`. */
const hitsBetween = (ids: Int32Array, from: number, to: number, policy: 'wtinylfu' | 'lru'): number =>
  policyHits(ids.subarray(0, to), ENTRIES, hashes, policy) - policyHits(ids.subarray(0, from), ENTRIES, hashes, policy);

test('a sweep that turns back hits at its first reversal what LRU hits', () => {
  // Up over 4x the cache's keys, then down and up again (the zigzag trace). The first reversal
  // re-reads the last keys of the sweep up; a 1% window's admission ties kept the first ones
  // (5 hits of LRU's 499 at 500 entries), and the sweep down then pushed those out too.
  const ids = Int32Array.from({ length: 3 * KEYS }, (_, i) => {
    const sweep = Math.floor(i / KEYS);
    return sweep % 2 === 0 ? i % KEYS : KEYS - 1 - (i % KEYS);
  });
  const lru = hitsBetween(ids, KEYS, 2 * KEYS, 'lru');
  assert.ok(lru >= ENTRIES - 1, `LRU ${lru}`);
  assert.equal(hitsBetween(ids, KEYS, 2 * KEYS, 'wtinylfu'), lru);
});

test('a loop that starts over keeps what the cold fill kept, pass after pass', () => {
  // The same first sweep, then the keys again in the same order (the scan trace). The fill kept the
  // last 500; the second pass's misses, each one point ahead of them, would push them out before
  // the pass reached them: without the tie the second pass hit nothing (0, then 455 / 495 / 494).
  // With it: 431 / 476 / 495 / 493 (a 1% window's first keys, without the fill: 465 / 491 / 495 / 494;
  // sketch collisions give some candidates a lead of two).
  const passes = 6;
  const ids = Int32Array.from({ length: passes * KEYS }, (_, i) => i % KEYS);
  for (let pass = 1; pass < passes; pass++) {
    const hits = hitsBetween(ids, pass * KEYS, (pass + 1) * KEYS, 'wtinylfu');
    assert.ok(hits >= 0.8 * ENTRIES, `pass ${pass}: ${hits} hits`);
  }
});
