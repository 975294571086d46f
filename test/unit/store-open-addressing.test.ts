import assert from 'node:assert/strict';
import { test } from 'node:test';
import { homeBucket, removeShifting } from '../../src/store/open-addressing.ts';

/** A linearly probed table of id + 1 as hot-keys.ts and the tuner's minis keep one. */
function findIn(table: Int32Array, shift: number, hashes: Uint32Array, hash: number): number {
  const mask = table.length - 1;
  for (let at = homeBucket(hash, shift); ; at = (at + 1) & mask) {
    const held = table[at]!;
    if (held === 0) return -1;
    if (hashes[held - 1] === hash) return held - 1;
  }
}

test('deleting from a linearly probed table keeps every other member reachable (no tombstones; hot-keys.ts and the window tuner\'s minis)', () => {
  const bits = 6;
  const shift = 32 - bits;
  const table = new Int32Array(1 << bits);
  const mask = table.length - 1;
  const ids = 40;
  const hashes = new Uint32Array(ids);
  // 40 members in 64 buckets: long probe runs, some wrapping around the table's end.
  let x = 12345;
  for (let id = 0; id < ids; id++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    hashes[id] = x;
    let at = homeBucket(x, shift);
    while (table[at] !== 0) at = (at + 1) & mask;
    table[at] = id + 1;
  }
  const present = new Set(Array.from({ length: ids }, (_, id) => id));
  for (const id of [3, 17, 0, 39, 22, 8, 31, 12, 5, 26]) {
    removeShifting(table, shift, hashes, id + 1);
    present.delete(id);
    for (let other = 0; other < ids; other++) {
      assert.equal(findIn(table, shift, hashes, hashes[other]!), present.has(other) ? other : -1, `id ${other} after removing ${id}`);
    }
  }
  assert.equal(table.filter((e) => e !== 0).length, present.size);
});

test('deleting from a table of slots whose hashes sit in rows keeps every other member reachable (the window tuner\'s minis: stride 4, slots from 3)', () => {
  const bits = 6;
  const shift = 32 - bits;
  const mask = (1 << bits) - 1;
  const table = new Int32Array(1 << bits);
  const stride = 4;
  const first = 3;
  const slots = 40;
  // Each row's other words hold what the minis keep there (links, clock): never read as a hash.
  const rows = new Uint32Array((first + slots) * stride).fill(0xdeadbeef);
  const findSlot = (hash: number): number => {
    for (let at = homeBucket(hash, shift); ; at = (at + 1) & mask) {
      const held = table[at]!;
      if (held === 0) return -1;
      if (rows[held * stride] === hash) return held;
    }
  };
  let x = 777;
  for (let slot = first; slot < first + slots; slot++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    rows[slot * stride] = x;
    let at = homeBucket(x, shift);
    while (table[at] !== 0) at = (at + 1) & mask;
    table[at] = slot;
  }
  const present = new Set(Array.from({ length: slots }, (_, i) => first + i));
  for (const slot of [6, 20, 3, 42, 25, 11, 34, 15, 8, 29]) {
    removeShifting(table, shift, rows, slot, stride, 0);
    present.delete(slot);
    for (let other = first; other < first + slots; other++) {
      assert.equal(findSlot(rows[other * stride]!), present.has(other) ? other : -1, `slot ${other} after removing ${slot}`);
    }
  }
  assert.equal(table.filter((e) => e !== 0).length, present.size);
});
