// AdmissionGate (src/replication/admission-gate.ts): at most `limit` calls unanswered, the rest started in
// arrival order as room comes, synchronous answers without recursion; the limit shrinks after a
// round with a late or congested answer and grows after a clean round in which calls waited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionGate } from '../../src/replication/admission-gate.ts';

/** A gate on a clock the test moves. */
function gateAt(options: { initial: number; min?: number; max?: number }) {
  let now = 0;
  const gate = new AdmissionGate({ min: 1, max: 1000, targetMs: 100, nowMs: () => now, ...options });
  return { gate, advance: (ms: number) => (now += ms) };
}

test('at most limit calls run at once; the others start in arrival order as earlier ones are answered', () => {
  const { gate } = gateAt({ initial: 3, max: 3 });
  const started: number[] = [];
  const releases: ((code?: string) => void)[] = [];
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
  const { gate } = gateAt({ initial: 1, max: 1 });
  let calls = 0;
  let held: ((code?: string) => void) | null = null;
  gate.admit((release) => (held = release));
  for (let i = 0; i < 200_000; i++) gate.admit((release) => (calls++, release()));
  held!();
  assert.equal(calls, 200_000);
  assert.equal(gate.waitingCount, 0);
});

test('late answers shrink the limit by a quarter per round, down to min; congestion errors count as late', () => {
  const { gate, advance } = gateAt({ initial: 64, min: 16 });
  const round = (ms: number, code?: string): void => {
    const releases: ((code?: string) => void)[] = [];
    const n = gate.limit;
    for (let i = 0; i < n; i++) gate.admit((release) => releases.push(release));
    advance(ms);
    for (const release of releases) release(code);
  };
  round(150);
  assert.equal(gate.limit, 48);
  // One failure among fast answers: the limit shrinks at once, not at the end of the round.
  const releases: ((code?: string) => void)[] = [];
  for (let i = 0; i < 48; i++) gate.admit((release) => releases.push(release));
  advance(10);
  releases.shift()!('unavailable');
  assert.equal(gate.limit, 36);
  for (const release of releases) release();
  assert.equal(gate.limit, 36, 'the fast answers after it change nothing');
  for (let i = 0; i < 10; i++) round(500);
  assert.equal(gate.limit, 16, 'never below min');
  round(10, 'not-found-is-no-congestion');
  assert.equal(gate.limit, 16, 'a clean round without waiting calls leaves it');
});

test('a burst of failures shrinks the limit once per round of answers, not once per failure', () => {
  const { gate, advance } = gateAt({ initial: 64, min: 1 });
  const releases: ((code?: string) => void)[] = [];
  for (let i = 0; i < 64; i++) gate.admit((release) => releases.push(release));
  advance(10);
  for (const release of releases) release('timeout');
  // 64 -> 48 at the first failure; -> 36 when the 48 answers after it end that round (late); the
  // 15 left start a round whose first failure -> 27.
  assert.equal(gate.limit, 27);
});

test('a clean round in which calls waited grows the limit by an eighth, up to max', () => {
  const { gate, advance } = gateAt({ initial: 64, max: 100 });
  const releases: ((code?: string) => void)[] = [];
  for (let i = 0; i < 1000; i++) gate.admit((release) => releases.push(release));
  for (let answered = 0; answered < 1000; answered++) {
    advance(1);
    releases.shift()!();
  }
  assert.equal(gate.limit, 100);
  assert.ok(gate.peakInFlight <= 100);
});

test('bounds that do not make sense are refused', () => {
  assert.throws(() => new AdmissionGate({ min: 0, nowMs: () => 0 }), /positive integer/);
  assert.throws(() => new AdmissionGate({ initial: 5, min: 10, max: 20, nowMs: () => 0 }), /min <= initial <= max/);
});

test('a waiting call whose `abandoned` says so when its turn comes is skipped: it takes no room, and the next starts', () => {
  const { gate } = gateAt({ initial: 1, max: 1 });
  const started: number[] = [];
  const releases: ((code?: string) => void)[] = [];
  const asked: number[] = [];
  gate.admit((release) => (started.push(0), releases.push(release)), () => assert.fail('a call with room at once is not asked'));
  for (let i = 1; i <= 4; i++) {
    gate.admit(
      (release) => (started.push(i), releases.push(release)),
      () => (asked.push(i), i === 1 || i === 2),
    );
  }
  assert.equal(gate.waitingCount, 4);
  releases.shift()!();
  // 1 and 2 were given up on while waiting: skipped; 3 starts in the room 0 left.
  assert.deepEqual(asked, [1, 2, 3]);
  assert.deepEqual(started, [0, 3]);
  assert.equal(gate.inFlight, 1);
  assert.equal(gate.abandoned, 2);
  releases.shift()!();
  assert.deepEqual(started, [0, 3, 4]);
  releases.shift()!();
  assert.equal(gate.inFlight, 0);
  assert.equal(gate.waitingCount, 0);
});

test('abandoned calls do not count as answers: the round and the limit are as if they had never come', () => {
  const { gate, advance } = gateAt({ initial: 4, min: 1 });
  const releases: ((code?: string) => void)[] = [];
  for (let i = 0; i < 4; i++) gate.admit((release) => releases.push(release));
  for (let i = 0; i < 100; i++) gate.admit(() => assert.fail('an abandoned call must not start'), () => true);
  advance(10);
  for (const release of releases.splice(0)) release();
  assert.equal(gate.abandoned, 100);
  // One clean round of 4 answers with calls waiting: 4 -> 4 + max(1, 4/8) = 5.
  assert.equal(gate.limit, 5);
  assert.equal(gate.inFlight, 0);
});

test("clients take turns: one client's burst waiting does not queue another client's call behind all of it", () => {
  const { gate } = gateAt({ initial: 1, max: 1 });
  const [a, b, c] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
  const started: string[] = [];
  const releases: ((code?: string) => void)[] = [];
  const call = (label: string) => (release: (code?: string) => void) => (started.push(label), releases.push(release));
  for (let i = 0; i < 5; i++) gate.admit(call(`a${i}`), undefined, a);
  gate.admit(call('b0'), undefined, b);
  gate.admit(call('b1'), undefined, b);
  gate.admit(call('c0'), undefined, c);
  assert.equal(gate.waitingCount, 7);
  while (releases.length > 0) releases.shift()!();
  // a0 had the room; then each client with calls waiting in turn, in the order they first waited.
  assert.deepEqual(started, ['a0', 'a1', 'b0', 'c0', 'a2', 'b1', 'a3', 'a4']);
  assert.equal(gate.waitingCount, 0);
  assert.equal(gate.inFlight, 0);
});

test('without a client every call is one shared client: arrival order, as before', () => {
  const { gate } = gateAt({ initial: 1, max: 1 });
  const started: number[] = [];
  const releases: (() => void)[] = [];
  for (let i = 0; i < 6; i++) gate.admit((release) => (started.push(i), releases.push(release)));
  while (releases.length > 0) releases.shift()!();
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
});
