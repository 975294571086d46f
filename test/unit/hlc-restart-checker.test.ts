// The kv history checker's versions-across-restarts rule (src/sim/scenarios/kv-checkers.ts), on
// the history of test/sim/hlc-restart.test.ts's first construction: v1 written through node 3 ten
// seconds ahead of its wall clock, node 3 restarts, v2 written through it is acknowledged under an
// older version, and a read returns v1. Through one node that is a violation; through two nodes
// it is last-writer-wins decided by skewed clocks, counted only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvHistoryChecker } from '../../src/sim/scenarios/kv-checkers.ts';
import type { ReadOp, WriteOp } from '../../src/sim/scenarios/kv-workload.ts';

const NODE_ID = 0x59fe74e3;

function write(value: string, atMs: number, coordinator: number, incarnation: number, wallMs: number): WriteOp {
  const version = { wallMs, logical: 0, node: NODE_ID + coordinator };
  return { kind: 'write', client: 0, key: 'k', value, ttlMs: 0, consistency: 'quorum', sloppy: false, sticky: true, coordinator, incarnation, startMs: atMs, endMs: atMs + 5, outcome: 'acked', version, acks: 2 };
}

/** v1 through `first`, v2 through `second` (incarnation 2: restarted), then a QUORUM read through node 0 that returns v1. */
function judge(first: number, second: number): KvHistoryChecker {
  const checker = new KvHistoryChecker(3, () => false);
  const v1 = write('v1', 100, first, 1, 20_000);
  const v2 = write('v2', 1_000, second, 2, 11_000);
  const read: ReadOp = { kind: 'read', client: 1, key: 'k', consistency: 'quorum', sticky: true, coordinator: 0, incarnation: 1, startMs: 2_000, endMs: 2_005, outcome: 'ok', value: 'v1', version: v1.version };
  for (const op of [v1, v2, read]) {
    checker.issued(op);
    checker.completed(op);
  }
  return checker;
}

test('a read of a write that a later write through the same node (restarted) was versioned below is a violation', () => {
  const checker = judge(3, 3);
  assert.deepEqual(
    checker.violations.map((v) => v.checker),
    ['versions-across-restarts'],
  );
  assert.match(checker.violations[0]!.message, /incarnation 1.*incarnation 2/);
});

test('through two nodes the same inversion is a clock-skew inversion, counted and allowed', () => {
  const checker = judge(3, 2);
  assert.deepEqual(checker.violations, []);
  assert.equal(checker.figures.skewInversions, 1);
});
