// kv-rmw-crash-pressure's loss judge (src/sim/scenarios/rmw-memory.ts) on real stores, built by
// hand: an acknowledged update is lost legitimately only when the last process holding it let go
// by a drop (eviction, delete, crash), never when a record built without it replaced it there.
// And the checker's INCR rule (kv-rmw-checker.ts) with it. Virtual time is a plain counter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShoalNode } from '../../src/node/node.ts';
import { encodeRecord } from '../../src/replication/record.ts';
import type { Env } from '../../src/runtime/env.ts';
import { checkRmwHistory, type IncrRecord } from '../../src/sim/scenarios/kv-rmw-checker.ts';
import { RmwMemoryRecord } from '../../src/sim/scenarios/rmw-memory.ts';
import { Store } from '../../src/store/index.ts';

const clock = { wallMs: () => 1_000_000, monoMs: () => 0 };
const enc = new TextEncoder();

/** Three node processes whose stores the record watches; `now` is the virtual time. */
function watched(maxMemory = 1 << 20) {
  let now = 0;
  const memory = new RmwMemoryRecord(['ctr0'], () => now);
  const stores = [0, 1, 2].map((index) => {
    const store = new Store({ maxMemory, clock, seed: index + 1, policy: 'lru' });
    memory.instrument({} as Env, { index, incarnation: 0 }, () => ({ store }) as unknown as ShoalNode);
    return store;
  });
  let version = 0;
  const put = (node: number, value: string) =>
    stores[node]!.set('ctr0', encodeRecord({ version: { wallMs: 1_000_000, logical: ++version, node: 1 }, expiresAtMs: 0, tombstone: false, value: enc.encode(value) }), { partition: 0 });
  // Judged after the events, as the checker does once the run ended.
  const atLeast3 = (fromMs: number, toMs: number) => memory.judge('ctr0', (v) => Number(v) >= 3)(fromMs, toMs);
  return { memory, stores, put, atLeast3, at: (ms: number) => (now = ms) };
}

test('a counter evicted at one owner and crashed with the other left every memory by a drop', () => {
  const { memory, stores, put, atLeast3, at } = watched(4096);
  at(1);
  put(0, '3');
  put(1, '3');
  at(2);
  // Filler writes make owner 0's LRU store evict the counter.
  for (let i = 0; stores[0]!.has('ctr0'); i++) stores[0]!.set(`filler${i}`, new Uint8Array(200), { partition: 1 });
  at(3);
  memory.crashed(1);
  assert.equal(atLeast3(1, 10), true);
  assert.equal(atLeast3(1, 2.5), false, 'owner 1 still held it at 2.5');
});

test('a counter written over by an older count where it was last held was not lost by a drop', () => {
  const { stores, put, atLeast3, at } = watched();
  at(1);
  put(0, '3');
  put(1, '3');
  at(2);
  stores[0]!.delete('ctr0');
  at(3);
  // A result counted from nothing replaces the last copy of 3.
  put(1, '1');
  assert.equal(atLeast3(1, 10), false);
});

test('an update already gone from every memory by a crash when it was acknowledged is excused', () => {
  const { memory, put, atLeast3, at } = watched();
  at(1);
  put(2, '3');
  at(2);
  memory.crashed(2);
  assert.equal(atLeast3(5, 10), true);
  // Held again (a late copy) before the acknowledgement: that life is the one that counts.
  at(6);
  put(0, '3');
  at(7);
  put(0, '1');
  assert.equal(atLeast3(6.5, 10), false);
});

test('a newer record dropped from every memory makes the key evicted: a count from nothing over an older record still held is excused (seed 46)', () => {
  for (const newestStillHeld of [false, true]) {
    const { stores, put, atLeast3, at } = watched();
    at(1);
    put(0, '3');
    put(1, '3');
    at(2);
    // A result built on 3, held by owner 0 alone (and owner 2 in the second run), then evicted there.
    put(0, '4');
    if (newestStillHeld) put(2, '4');
    stores[0]!.delete('ctr0');
    at(3);
    // Counted from nothing over owner 1's older 3.
    put(1, '1');
    assert.equal(atLeast3(1, 10), !newestStillHeld, newestStillHeld ? 'owner 2 held the newest: reading the key as absent lost it' : 'the newest left every memory first');
  }
});

test('the INCR rule: an answer at or below one acknowledged before the INCR began is a loss unless the counter left every memory by a drop', () => {
  const incr = (result: bigint, startMs: number, endMs: number): IncrRecord => ({ key: 'ctr0', outcome: 'acked', result, startMs, endMs });
  const history = [incr(1n, 0, 1), incr(2n, 1, 2), incr(3n, 2, 3), incr(1n, 5, 6)];
  // The final counter does not show the loss (3): the INCR that began after 3 was acknowledged and answered 1 does.
  const check = (leftMemory: boolean) => checkRmwHistory(history, [], [], () => '3', { judge: () => () => leftMemory, endMs: 10 });
  const judged = check(false);
  // The later answer 1 counted neither 2 nor 3, and collides with the first 1.
  assert.equal(judged.figures.lostIncrements, 3, judged.problems.join('\n'));
  assert.match(judged.problems[0]!, /^lost-increments: ctr0: INCR answered 1 at 1\.0ms, then another INCR answered 1 too at 6\.0ms/);
  const excused = check(true);
  assert.deepEqual(excused.problems, []);
  assert.equal(excused.figures.lossesExcused, 3);
});
