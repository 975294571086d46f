// fanOut (src/resp/keyspace-calls.ts): a multi-key command's calls go out in order, never more
// than MAX_CALLS_IN_FLIGHT unanswered, and answers that come back synchronously do not recurse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fanOut, MAX_CALLS_IN_FLIGHT } from '../../src/resp/keyspace-calls.ts';

test('calls start in order with at most MAX_CALLS_IN_FLIGHT unanswered, and all of them run', () => {
  const started: number[] = [];
  const waiting: (() => void)[] = [];
  let peak = 0;
  fanOut(1000, (i, answered) => {
    started.push(i);
    waiting.push(answered);
    peak = Math.max(peak, waiting.length);
  });
  assert.equal(started.length, MAX_CALLS_IN_FLIGHT, 'the first wave only');
  // Answer in a scrambled order, a few at a time.
  let rounds = 0;
  while (waiting.length > 0 && rounds++ < 10_000) {
    const pick = waiting.splice((rounds * 7919) % waiting.length, 1)[0]!;
    pick();
  }
  assert.deepEqual(started, Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(peak, MAX_CALLS_IN_FLIGHT);
});

test('synchronous answers run 200,000 calls without growing the stack', () => {
  let calls = 0;
  fanOut(200_000, (_, answered) => {
    calls++;
    answered();
  });
  assert.equal(calls, 200_000);
});

test('no calls for no keys', () => {
  fanOut(0, () => assert.fail('no call expected'));
});
