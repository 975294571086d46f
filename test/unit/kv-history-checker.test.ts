// The kv history checker's lost-write rule for W=1 writes (src/sim/scenarios/kv-checkers.ts): a
// W=1 write lives on one replica until it spreads, and the kv scenarios bound crashes by W=2, so a
// W=1 write an ALL read misses after a crash is counted (oneWritesLostToCrash), not a violation;
// without a crash in between it stays a violation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consistency } from '../../src/replication/api.ts';
import { highestVersionBy as highest, KvHistoryChecker, lowestVersionFrom as lowest } from '../../src/sim/scenarios/kv-checkers.ts';
import type { ReadOp, WriteOp } from '../../src/sim/scenarios/kv-workload.ts';

function write(atMs: number, consistency: Consistency, wallMs: number): WriteOp {
  const version = { wallMs, logical: 0, node: 1 };
  return { kind: 'write', client: 0, key: 'k', value: null, ttlMs: 0, consistency, sloppy: false, sticky: true, coordinator: 0, incarnation: 1, startMs: atMs, endMs: atMs, outcome: 'acked', version, acks: 1 };
}

function readNothing(atMs: number): ReadOp {
  return { kind: 'read', client: 1, key: 'k', consistency: 'all', sticky: true, coordinator: 2, incarnation: 1, startMs: atMs, endMs: atMs + 5, outcome: 'ok', value: null, version: null };
}

/** A W=1 (or W=`level`) delete at 100 ms, a crash at `crashAtMs` (or none), then an ALL read at 500 ms that finds nothing. */
function judge(level: Consistency, crashAtMs: number | null): KvHistoryChecker {
  const checker = new KvHistoryChecker(3, () => false, undefined, (from, to) => crashAtMs !== null && crashAtMs > from && crashAtMs < to);
  const w = write(100, level, 1_000);
  checker.issued(w);
  checker.completed(w);
  const r = readNothing(500);
  checker.issued(r);
  checker.completed(r);
  return checker;
}

test('a W=1 write an ALL read misses after a crash is counted, not a violation', () => {
  const checker = judge('one', 200);
  assert.deepEqual(checker.violations, []);
  assert.equal(checker.figures.oneWritesLostToCrash, 1);
});

test('without a crash between its acknowledgement and the read, the missed W=1 write is a violation', () => {
  for (const crashAtMs of [null, 50, 600]) {
    const checker = judge('one', crashAtMs);
    assert.equal(checker.violations.length, 1, `crash at ${crashAtMs}`);
    assert.match(checker.violations[0]!.message, /no-lost-acknowledged-write|W=1/);
    assert.equal(checker.figures.oneWritesLostToCrash, 0);
  }
});

test('a crash does not excuse a missed QUORUM write (W=2 survives the one crash the scenarios allow)', () => {
  const checker = judge('quorum', 200);
  assert.equal(checker.violations.length, 1);
  assert.match(checker.violations[0]!.message, /W=2/);
});

// Real processes' histories (test/integration/nemesis-history.ts) carry version bounds: a write's
// lowest possible version (its start, logical 0), a read's highest (its source's end, at the top).

function bounded(sourceEndMs: number, laterStartMs: number): KvHistoryChecker {
  const checker = new KvHistoryChecker(3, () => false, undefined, undefined, { versions: 'bounds' });
  const first: WriteOp = { ...write(0, 'quorum', 0), value: 'a', startMs: sourceEndMs - 5, endMs: sourceEndMs, version: lowest(sourceEndMs - 5), coordinator: -1 };
  const second: WriteOp = { ...write(0, 'quorum', 0), value: 'b', startMs: laterStartMs, endMs: laterStartMs + 5, version: lowest(laterStartMs), coordinator: -1 };
  const r: ReadOp = { ...readNothing(laterStartMs + 10), consistency: 'quorum', value: 'a', version: highest(sourceEndMs), coordinator: -1 };
  for (const op of [first, second, r]) {
    checker.issued(op);
    checker.completed(op);
  }
  return checker;
}

test('with version bounds, a read returning a write that surely ended before an acknowledged one began is a lost write', () => {
  const checker = bounded(100, 101);
  assert.equal(checker.violations.length, 1);
  assert.match(checker.violations[0]!.message, /returned version <= 100ms \("a"\), older than >= 101ms acknowledged before it \(W=2\)/);
});

test('with version bounds, writes within one millisecond may be ordered either way: no violation', () => {
  assert.deepEqual(bounded(100, 100).violations, []);
});

