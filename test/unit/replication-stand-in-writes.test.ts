import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Version } from '../../src/replication/hlc.ts';
import { StandInWrites } from '../../src/replication/stand-in-writes.ts';

const v = (wallMs: number): Version => ({ wallMs, logical: 0, node: 1 });
const record = (bytes: number) => new Uint8Array(bytes);

test('a remembered write is forgotten once every owner that lacked it was seen with it or newer', () => {
  const w = new StandInWrites(10, 1 << 20, 60_000);
  w.remember('k', v(100), record(30), ['a', 'b'], 0);
  w.seen('k', 'a', v(99)); // older: still lacks it
  w.seen('k', 'c', v(100)); // not one it stood in for
  assert.deepEqual([...w.get('k', 0)!.lacking], ['a', 'b']);
  w.seen('k', 'a', v(100));
  w.seen('k', 'b', v(200));
  assert.equal(w.get('k', 0), undefined);
});

test('the newest write per key is kept; an older one only adds the owners it lacks', () => {
  const w = new StandInWrites(10, 1 << 20, 60_000);
  w.remember('k', v(100), record(30), ['a'], 0);
  w.remember('k', v(50), record(30), ['b'], 1);
  assert.deepEqual(w.get('k', 1)!.version, v(100));
  assert.deepEqual([...w.get('k', 1)!.lacking], ['a', 'b']);
  w.remember('k', v(300), record(30), ['c'], 2);
  assert.deepEqual(w.get('k', 2)!.version, v(300));
  assert.deepEqual([...w.get('k', 2)!.lacking], ['c']);
  assert.equal(w.size, 1);
});

test('bounded: oldest first past the count or byte limit, and nothing older than the hint window', () => {
  const byCount = new StandInWrites(2, 1 << 20, 60_000);
  for (const [i, key] of ['a', 'b', 'c'].entries()) byCount.remember(key, v(i + 1), record(10), ['o'], i);
  assert.equal(byCount.get('a', 3), undefined);
  assert.ok(byCount.get('b', 3) && byCount.get('c', 3));

  const byBytes = new StandInWrites(100, 2 * (100 + 1 + 64), 60_000);
  for (const [i, key] of ['a', 'b', 'c'].entries()) byBytes.remember(key, v(i + 1), record(100), ['o'], i);
  assert.equal(byBytes.size, 2);
  assert.equal(byBytes.get('a', 3), undefined);

  const byAge = new StandInWrites(100, 1 << 20, 1_000);
  byAge.remember('a', v(1), record(10), ['o'], 0);
  assert.ok(byAge.get('a', 1_000));
  assert.equal(byAge.get('a', 1_001), undefined);
  byAge.remember('b', v(2), record(10), ['o'], 0);
  byAge.remember('c', v(3), record(10), ['o'], 5_000); // remembering trims what has aged out
  assert.equal(byAge.size, 1);
});
