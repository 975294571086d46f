// fanOut (src/resp/keyspace-calls.ts): a multi-key command's calls go out in order, never more
// than MAX_CALLS_IN_FLIGHT unanswered, answers that come back synchronously do not recurse, and
// the calls not started are not made once the command is abandoned (its client gone, a call failed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GetResult, KvError } from '../../src/replication/api.ts';
import type { CommandContext, ReplyWriter } from '../../src/resp/command.ts';
import { fanOut, MAX_CALLS_IN_FLIGHT, readKeys } from '../../src/resp/keyspace-calls.ts';

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

test('once abandoned, the calls not started are skipped, not made', () => {
  const waiting: (() => void)[] = [];
  const skipped: number[] = [];
  let abandoned = false;
  let calls = 0;
  fanOut(1000, (_, answered) => (calls++, waiting.push(answered)), () => abandoned, (i) => skipped.push(i));
  assert.equal(calls, MAX_CALLS_IN_FLIGHT);
  waiting.shift()!();
  assert.equal(calls, MAX_CALLS_IN_FLIGHT + 1, 'an answer starts the next call');
  abandoned = true;
  for (const answered of waiting.splice(0)) answered();
  assert.equal(calls, MAX_CALLS_IN_FLIGHT + 1, 'no call after the abandonment');
  assert.deepEqual(skipped, Array.from({ length: 1000 - calls }, (_, i) => calls + i), 'every other one skipped, in order');
});

// probe-redis (/work/notes/s19): three clients sent EXISTS of 300,000 keys each and closed; their
// node went on reading every key for about 7 minutes, its memory from 292 MB to 0.5-1.1 GB.
test('a multi-key read makes no more keyspace calls once its client has gone, or once one read failed', () => {
  const run = (stop: (connection: { closed: boolean }, held: ((error: KvError | null, result?: GetResult) => void)[]) => void) => {
    const held: ((error: KvError | null, result?: GetResult) => void)[] = [];
    const connection = { closed: false };
    let calls = 0;
    const replies: string[] = [];
    const ctx = { server: { keyspace: { get: (_k: Uint8Array, _o: unknown, done: (error: KvError | null, result?: GetResult) => void) => (calls++, held.push(done)) }, nowMs: () => 0 }, connection } as unknown as CommandContext;
    const keys = Array.from({ length: 10_000 }, (_, i) => new TextEncoder().encode(`k${i}`));
    readKeys(ctx, keys, { error: (text: string) => replies.push(text) } as unknown as ReplyWriter, () => replies.push('done'), () => replies.push('results'));
    assert.equal(calls, MAX_CALLS_IN_FLIGHT);
    stop(connection, held);
    for (let i = 0; i < 10_000 && held.length > 0; i++) held.shift()!(null, { value: null, version: null } as unknown as GetResult);
    return { calls, replies };
  };
  const gone = run((connection) => (connection.closed = true));
  assert.equal(gone.calls, MAX_CALLS_IN_FLIGHT, 'the first wave only');
  assert.equal(gone.replies.at(-1), 'done', 'the command still ends');
  const failed = run((_, held) => held.shift()!({ code: 'timeout', message: 'a read timed out' }));
  assert.equal(failed.calls, MAX_CALLS_IN_FLIGHT);
  assert.deepEqual(failed.replies, ['TRYAGAIN a read timed out', 'done'], 'the first error is the reply');
});
