// The turn scheduler (src/actors/scheduler.ts): one job at a time, round-robin, a budget per turn,
// and a delay before each turn when pacing says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnScheduler, type Schedulable } from '../../src/actors/index.ts';
import { fakeEnv } from './replication-fakes.ts';

/** A schedulable with a plain job list, recording what ran into `log`. */
function actor(name: string, log: string[]) {
  const jobs: (() => void)[] = [];
  const a: Schedulable & { add(job?: () => void): void; readonly size: number } = {
    add(job = () => {}) {
      jobs.push(() => {
        log.push(name);
        job();
      });
    },
    get size() {
      return jobs.length;
    },
    runNext() {
      jobs.shift()?.();
      return jobs.length > 0;
    },
  };
  return a;
}

test('with no delay, work from outside a turn runs at once; work queued inside a turn runs in that turn, round-robin', () => {
  const { env } = fakeEnv();
  const scheduler = new TurnScheduler(env.timers, { jobsPerTurn: 100, turnDelayMs: 0 });
  const log: string[] = [];
  const a = actor('a', log);
  const b = actor('b', log);
  a.add(() => {
    // Re-entrant: queued, not run inside this job.
    a.add();
    a.add();
    scheduler.wake(a);
    b.add();
    scheduler.wake(b);
    assert.deepEqual(log, ['a']);
  });
  scheduler.wake(a);
  // b was woken while a ran; a, with more work, went to the back of the line.
  assert.deepEqual(log, ['a', 'b', 'a', 'a']);
});

test('a turn yields after its budget and goes on from a timer', () => {
  const { env, flush } = fakeEnv();
  const scheduler = new TurnScheduler(env.timers, { jobsPerTurn: 2, turnDelayMs: 0 });
  const log: string[] = [];
  const a = actor('a', log);
  a.add(() => {
    for (let i = 0; i < 4; i++) a.add();
    scheduler.wake(a);
  });
  scheduler.wake(a);
  assert.equal(log.length, 2, 'the budget of one turn');
  assert.equal(a.size, 3);
  flush();
  assert.equal(log.length, 5);
});

test('with a delay, jobs wait for turns of jobsPerTurn each: work arriving faster queues', () => {
  const { env, flush, now } = fakeEnv();
  const scheduler = new TurnScheduler(env.timers, { jobsPerTurn: 1, turnDelayMs: 10 });
  const log: string[] = [];
  const a = actor('a', log);
  for (let i = 0; i < 3; i++) {
    a.add();
    scheduler.wake(a);
  }
  assert.deepEqual(log, [], 'nothing runs before the first turn');
  const start = now();
  flush(start + 10);
  assert.equal(log.length, 1);
  flush(start + 30);
  assert.equal(log.length, 3);
});

test('a forgotten actor gets no more turns, and a stopped scheduler runs nothing', () => {
  const { env, flush } = fakeEnv();
  const scheduler = new TurnScheduler(env.timers, { jobsPerTurn: 1, turnDelayMs: 5 });
  const log: string[] = [];
  const a = actor('a', log);
  const b = actor('b', log);
  a.add();
  b.add();
  scheduler.wake(a);
  scheduler.wake(b);
  scheduler.forget(a);
  flush(10_000);
  assert.deepEqual(log, ['b']);
  b.add();
  scheduler.wake(b);
  scheduler.stop();
  flush(20_000);
  assert.deepEqual(log, ['b']);
});

test('pacing is checked', () => {
  const { env } = fakeEnv();
  assert.throws(() => new TurnScheduler(env.timers, { jobsPerTurn: 0, turnDelayMs: 0 }), /jobsPerTurn/);
  assert.throws(() => new TurnScheduler(env.timers, { jobsPerTurn: 1, turnDelayMs: -1 }), /turnDelayMs/);
});
