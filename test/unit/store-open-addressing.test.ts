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
