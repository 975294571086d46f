/**
 * W-TinyLFU's admission duel (src/store/policy-wtinylfu.ts) on the two patterns its tie rules are
 * for: a loop larger than the cache, which only keeps a stable set while ties hold through the
 * sketch's halvings, and a hash flood, which must not pin a victim forever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmix32 } from '../../src/protocol/hash.ts';
import { policyHits } from '../../src/store/trace/policy-sim.ts';

const hashesOf = (keys: number): Uint32Array => Uint32Array.from({ length: keys }, (_, key) => fmix32(key + 1));

// 2,000 keys read in order 24 times: the best any policy does is keep one set of about the cache's
// size and hit it every pass (LIRS: 99% of the cache). With every key counted alike, only ties hold
// the set. Measured per pass before this admission: 440.6 at 500 entries (the halving's rounding let
// newcomers win half the duels after each halving), and 1,459.0 at 1,500 entries with the random
// admission drawing against fresh victims below the ceiling (each draw that won evicted a kept key).
for (const [capacity, floor] of [
  [500, 475],
  [1500, 1475],
] as const) {
  test(`a loop of 2,000 keys keeps nearly all of a ${capacity}-entry cache through the sketch's halvings`, () => {
    const keys = 2000;
    const passes = 24;
    const ids = Int32Array.from({ length: keys * passes }, (_, i) => i % keys);
    const perPass = policyHits(ids, capacity, hashesOf(keys), 'wtinylfu', { adaptation: 'static' }) / (passes - 1);
    assert.ok(perPass >= floor, `${perPass.toFixed(1)} hits per pass`);
  });
}

// The same loop at 85-95% of its keys, for 60 passes: every key is counted once a pass, so a
// candidate (read this pass) leads the kept key due next (read last pass, not yet this one) by one
// point. Only a key whose counters a collision inflates held the set at probation's head; where none
// stood, that one-point lead won and the kept set churned. Measured per pass before the tie for a
// fresh victim that came down from protected: 1,637.3 / 1,747.4 / 1,859.2 (docs/research/eviction-policy.md, "loop @ 850").
for (const capacity of [1700, 1800, 1900]) {
  test(`a loop of 2,000 keys keeps its set in a ${capacity}-entry cache: a one-point lead over a proven victim is a tie`, () => {
    const keys = 2000;
    const passes = 60;
    const ids = Int32Array.from({ length: keys * passes }, (_, i) => i % keys);
    const perPass = policyHits(ids, capacity, hashesOf(keys), 'wtinylfu', { adaptation: 'static' }) / (passes - 1);
    assert.ok(perPass >= capacity * 0.985, `${perPass.toFixed(1)} hits per pass`);
  });
}

test('a victim whose count a flood holds at the ceiling is still evicted: hot keys get in', () => {
  // 64 attacker keys share one hash, so their count saturates (15) and every resident is a victim
  // no real key can out-count; the attacker keeps it there with 8 hits per round. 20 hot keys are
  // read once per round and saturate too: they only ever tie, and a tie keeps the victim, so
  // without the random admission they would never be admitted.
  const capacity = 64;
  const attackers = 64;
  const hot = 20;
  const rounds = 2000;
  const hashes = hashesOf(attackers + hot);
  hashes.fill(hashes[0]!, 0, attackers);
  const ids: number[] = [];
  for (let key = 0; key < attackers; key++) ids.push(key);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < 8; j++) ids.push((round * 8 + j) % attackers);
    for (let key = 0; key < hot; key++) ids.push(attackers + key);
  }
  const hits = policyHits(Int32Array.from(ids), capacity, hashes, 'wtinylfu', { adaptation: 'static' });
  // Even if every attacker read hit, more than half the hot reads must have hit too.
  const attackerReads = attackers + 8 * rounds;
  const hotReads = hot * rounds;
  assert.ok(hits - attackerReads > hotReads / 2, `at least ${hits - attackerReads} of ${hotReads} hot reads hit`);
});
