/**
 * The reuse-distance second opinion in W-TinyLFU's admission (src/store/turned-away.ts): a
 * candidate that comes back before the victim that turned it away is read again is admitted.
 * (That a loop larger than the cache still keeps its set is store-admission.test.ts's.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmix32 } from '../../src/protocol/hash.ts';
import { policyHits } from '../../src/store/trace/policy-sim.ts';
import { TurnedAway } from '../../src/store/turned-away.ts';

const hashesOf = (keys: number): Uint32Array => Uint32Array.from({ length: keys }, (_, key) => fmix32(key + 1));

test('keys that come back again and again get past a hot set whose phase has ended', () => {
  // 100 keys read 15 times each fill a 100-entry cache with counts the sketch keeps for a while;
  // then they are never read again, and 60 other keys are read in turn 20 times. LIRS keeps the
  // 60 after their second read. Frequency alone turned them away until the halvings wore the old
  // counts down: 728 of the last 1,200 reads hit before this second opinion, 980 with it.
  const capacity = 100;
  const hot = 100;
  const fresh = 60;
  const ids: number[] = [];
  for (let read = 0; read < 15; read++) for (let key = 0; key < hot; key++) ids.push(key);
  const phase = ids.length;
  for (let cycle = 0; cycle < 20; cycle++) for (let key = 0; key < fresh; key++) ids.push(hot + key);
  const all = Int32Array.from(ids);
  const hashes = hashesOf(hot + fresh);
  const before = policyHits(all.subarray(0, phase), capacity, hashes, 'wtinylfu', { adaptation: 'static' });
  const hits = policyHits(all, capacity, hashes, 'wtinylfu', { adaptation: 'static' }) - before;
  assert.ok(hits >= 950, `${hits} of ${20 * fresh} reads of the new keys hit`);
});

test('a candidate is admitted when the victim that turned it away has not been read since', () => {
  const memory = new TurnedAway(1024);
  memory.facing(7, 0xabc);
  memory.turnAway(0x1234, 5);
  // Same victim, same tenure: the candidate came back first. Stamps do not matter here.
  assert.equal(memory.cameBackFirst(0x1234, 5, 5), true);
  assert.equal(memory.cameBackFirst(0x9999, 5, 5), false, 'never turned away');
  // The victim was read: a new tenure, and the stamps (same period) prove nothing.
  memory.read(7);
  memory.facing(7, 0xabc);
  assert.equal(memory.cameBackFirst(0x1234, 5, 5), false);
  // Another victim: nothing turned away in its tenure yet.
  memory.turnAway(0x1234, 5);
  memory.facing(8, 0xdef);
  assert.equal(memory.cameBackFirst(0x1234, 5, 5), false);
  assert.equal(memory.admissions, 1);
});

test('across victims, only a victim last read in an older sketch period than the candidate loses', () => {
  const memory = new TurnedAway(1024);
  memory.facing(1, 1);
  memory.turnAway(0x1234, 10);
  memory.facing(2, 2);
  assert.equal(memory.cameBackFirst(0x1234, 9, 11), true, 'victim last read a period before the candidate');
  assert.equal(memory.cameBackFirst(0x1234, 10, 11), false, 'same period: order unknown');
  assert.equal(memory.cameBackFirst(0x1234, 11, 11), false, 'victim read later');
  // Stamps are six bits: one 40 periods old could pass for a new one, so it is not compared.
  assert.equal(memory.cameBackFirst(0x1234, 9, 50), false);
  // Modulo 64: period 63 is older than period 1 of the next lap.
  memory.turnAway(0x5678, 1);
  memory.facing(3, 3);
  assert.equal(memory.cameBackFirst(0x5678, 63, 2), true);
});

test('the table is bounded: 8 bytes a bucket, at most 1,024 buckets, fewer for a small cache', () => {
  assert.equal(new TurnedAway(1_000_000).byteSize, 8 * 1024);
  assert.equal(new TurnedAway(100).byteSize, 8 * 128);
  assert.equal(new TurnedAway(1).byteSize, 8 * 64);
});
