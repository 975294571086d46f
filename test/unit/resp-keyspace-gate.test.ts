// KeyspaceGate (src/resp/keyspace-gate.ts): at most `limit` calls unanswered, the rest started in
// arrival order as room comes, synchronous answers without recursion, a double release ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyspaceGate } from '../../src/resp/keyspace-gate.ts';

test('at most limit calls run at once; the others start in arrival order as earlier ones are answered', () => {
  const gate = new KeyspaceGate(3);
  const started: number[] = [];
  const releases: (() => void)[] = [];
  for (let i = 0; i < 10; i++) gate.admit((release) => (started.push(i), releases.push(release)));
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(gate.waitingCount, 7);
  releases[1]!();
  releases[1]!(); // a second release of one call frees nothing more
  assert.deepEqual(started, [0, 1, 2, 3]);
  for (let i = 0; i < releases.length; i++) releases[i]!();
  assert.deepEqual(started, Array.from({ length: 10 }, (_, i) => i));
  assert.equal(gate.inFlight, 0);
  assert.equal(gate.peakInFlight, 3);
  assert.equal(gate.waited, 7);
});

test('calls answered synchronously: 200,000 of them through a gate of 1 without growing the stack', () => {
  const gate = new KeyspaceGate(1);
  let calls = 0;
  let held: (() => void) | null = null;
  gate.admit((release) => (held = release));
  for (let i = 0; i < 200_000; i++) gate.admit((release) => (calls++, release()));
  held!();
  assert.equal(calls, 200_000);
  assert.equal(gate.waitingCount, 0);
});

test('a limit that is not a positive integer is refused', () => {
  assert.throws(() => new KeyspaceGate(0), /positive integer/);
});
