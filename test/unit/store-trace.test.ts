import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { beladyHits } from '../../src/store/trace/belady.ts';
import { parseTrace, TraceFormatError } from '../../src/store/trace/parse.ts';
import type { TraceFormat } from '../../src/store/trace/parse.ts';
import { replay } from '../../src/store/trace/replay.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function u32(keys: number[]): Uint8Array {
  const out = new Uint8Array(keys.length * 4);
  const view = new DataView(out.buffer);
  keys.forEach((k, i) => view.setUint32(i * 4, k, false));
  return out;
}

function u64(keys: bigint[]): Uint8Array {
  const out = new Uint8Array(keys.length * 8);
  const view = new DataView(out.buffer);
  keys.forEach((k, i) => view.setBigUint64(i * 8, k, false));
  return out;
}

const CASES: [TraceFormat, Uint8Array, number[], number][] = [
  ['lirs', text('* comment\n17\n5\n17\n\n0005\n9\n'), [0, 1, 0, 1, 2], 3],
  ['arc', text('10 3 0 1\n11 2 0 2\n'), [0, 1, 2, 1, 2], 3],
  ['u32be', u32([7, 0xffffffff, 7, 1]), [0, 1, 0, 2], 3],
  ['u64be', u64([1n, 0xffffffffffffffffn, 1n, 0x1234567890abcdefn, 0xffffffffffffffffn]), [0, 1, 0, 2, 1], 3],
];

for (const [format, bytes, ids, unique] of CASES) {
  for (const gz of [false, true]) {
    test(`parses ${format} (${gz ? 'gzip' : 'plain'})`, () => {
      const trace = parseTrace(gz ? gzipSync(bytes) : bytes, format);
      assert.deepEqual([...trace.ids], ids);
      assert.equal(trace.uniqueKeys, unique);
    });
  }
}

test('malformed traces fail with a message naming the problem', () => {
  assert.throws(() => parseTrace(text('12\nabc\n'), 'lirs'), /line 2/);
  assert.throws(() => parseTrace(new Uint8Array(6), 'u32be'), TraceFormatError);
  assert.throws(() => parseTrace(text('x y\n'), 'arc'), TraceFormatError);
});

test('Belady OPT on hand-checked traces', () => {
  // A B C A B C with room for 2: C is needed last, so OPT bypasses it and hits A and B.
  assert.equal(beladyHits(Int32Array.from([0, 1, 2, 0, 1, 2]), 2), 2);
  // A B A C B A with room for 2: hit A, bypass C (never reused), hit B, hit A.
  assert.equal(beladyHits(Int32Array.from([0, 1, 0, 2, 1, 0]), 2), 3);
  // Room for everything: every repeat hits.
  assert.equal(beladyHits(Int32Array.from([0, 1, 0, 2, 1, 0]), 3), 3);
  // Evicts the farthest next use: A B C C A with room 2 -> at C evict B (never reused), keep A.
  assert.equal(beladyHits(Int32Array.from([0, 1, 2, 2, 0]), 2), 2);
  assert.equal(beladyHits(Int32Array.from([0, 0, 0]), 0), 0);
});

test('replayed LRU matches a hand count and OPT bounds every policy', () => {
  const trace = parseTrace(text('1\n2\n3\n1\n2\n3\n1\n4\n1\n'), 'lirs');
  // LRU with 2 entries on 1 2 3 1 2 3 1 4 1: only the final 1 hits.
  assert.equal(replay(trace, 2, 'lru').hits, 1);
  const opt = replay(trace, 2, 'opt').hits;
  for (const policy of ['lru', 'lfu', 'wtinylfu'] as const) assert.ok(replay(trace, 2, policy).hits <= opt);
});
