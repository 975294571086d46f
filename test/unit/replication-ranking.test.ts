// Reads ranked by peer health (coordinator.ts, "Ranking"): a demoted owner is left out of the
// first round only while the others can make the level, and is asked as soon as they cannot, so
// ranking never makes a read miss a level it would have met; answers and silences reach the health.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GetResult, KvError } from '../../src/replication/api.ts';
import { Coordinator, DEFERRED_READ_AFTER_TIMEOUT_FRACTION } from '../../src/replication/coordinator.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import { HintStore } from '../../src/replication/hints.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import type { ReplicaHealth } from '../../src/replication/observer.ts';
import { replicationConfig } from '../../src/replication/config.ts';
import { context, fakeEnv } from './replication-fakes.ts';

/** A coordinator on n1 (owners n1, n2, n3) whose health demotes `demoted`, recording what it hears; `alive` is its view of the members. */
function setup(demoted: string[], alive: (name: string) => boolean = () => true) {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const heard: string[] = [];
  const health: ReplicaHealth = {
    asked: () => {},
    answered: (name, sentAtMs) => void heard.push(`${name} answered after ${now() - sentAtMs} ms`),
    silent: (name) => void heard.push(`${name} silent`),
    deferRead: (name) => demoted.includes(name),
  };
  const coordinator = new Coordinator(context(env, sent, { isAlive: alive }), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  coordinator.health = health;
  let result: { error: KvError | null; result?: GetResult } | null = null;
  const write = (consistency: 'quorum' | 'all' = 'quorum') =>
    coordinator.set(new Uint8Array([1]), new Uint8Array([2]), { consistency }, (error) => (result = { error }));
  const read = (consistency: 'quorum' | 'all' = 'quorum') => coordinator.get(new Uint8Array([1]), { consistency }, (error, r) => (result = { error, ...(r ? { result: r } : {}) }));
  const reads = () => sent.filter(([, m]) => m.t === 'r').map(([to]) => to);
  const id = () => (sent.find(([, m]) => m.t === 'r')![1] as { id: number }).id;
  const answer = (from: string) => coordinator.onReply(from, { t: 'ra', id: id(), r: null, ready: true });
  const writes = () => sent.filter(([, m]) => m.t === 'w').map(([to]) => to);
  return { coordinator, flush, now, write, writes, read, reads, answer, id, heard, result: () => result };
}

test('a quorum read leaves the demoted owner out while the others answer', () => {
  const s = setup(['n3']);
  s.read();
  assert.deepEqual(s.reads().sort(), ['n1', 'n2']);
  s.answer('n1');
  s.flush(s.now() + 2);
  s.answer('n2');
  assert.equal(s.result()?.error, null);
  s.flush(s.now() + 10_000);
  assert.deepEqual(s.reads().sort(), ['n1', 'n2'], 'the demoted owner was never asked');
  assert.deepEqual(s.heard, ['n2 answered after 2 ms'], 'remote answers reach the health, its own replica does not');
});

test('an owner of the first round answering busy brings the demoted owner in at once, and the read succeeds', () => {
  const s = setup(['n3']);
  s.read();
  s.answer('n1');
  s.coordinator.onReply('n2', { t: 'nb', id: s.id() });
  assert.ok(s.reads().includes('n3'), 'asked at once');
  s.answer('n3');
  assert.equal(s.result()?.error, null, JSON.stringify(s.result()));
  assert.equal(s.result()?.result?.acks, 2);
  s.flush(s.now() + 10_000);
});

test('a silent owner of the first round brings the demoted owner in after a quarter of the timeout, well before the deadline', () => {
  const s = setup(['n3']);
  s.read();
  s.answer('n1');
  const timeout = replicationConfig().requestTimeoutMs;
  s.flush(s.now() + timeout * DEFERRED_READ_AFTER_TIMEOUT_FRACTION - 1);
  assert.ok(!s.reads().includes('n3'));
  s.flush(s.now() + 1);
  assert.ok(s.reads().includes('n3'));
  s.answer('n3');
  assert.equal(s.result()?.error, null);
  s.flush(s.now() + 10_000);
  assert.ok(s.heard.includes('n2 silent'), 'the silence reaches the health at the deadline');
});

test('a read that needs every owner asks the demoted one too', () => {
  const s = setup(['n2', 'n3']);
  s.read('all');
  assert.deepEqual(s.reads().sort(), ['n1', 'n2', 'n3']);
  s.flush(s.now() + 10_000);
});

test('a read failed at once for want of live owners reports nobody silent: the owners it asked had no time to answer', () => {
  const s = setup([], (name) => name !== 'n3');
  s.read('all');
  assert.deepEqual(s.reads().sort(), ['n1', 'n2']);
  s.flush(s.now());
  assert.equal(s.result()?.error?.code, 'unavailable');
  s.answer('n2');
  s.flush(s.now() + 10_000);
  assert.deepEqual(s.heard, [], 'n2 was asked and failed at the same moment: not a silence');
});

test('so does a write failed at once for want of live owners, and the silence of one asked at its deadline still counts', () => {
  const early = setup([], (name) => name !== 'n3');
  early.write('all');
  early.flush(early.now());
  assert.equal(early.result()?.error?.code, 'unavailable');
  assert.deepEqual(early.writes().sort(), ['n1', 'n2']);
  early.flush(early.now() + 10_000);
  assert.deepEqual(early.heard, []);
  const late = setup([]);
  late.write('all');
  late.flush(late.now() + 10_000);
  assert.equal(late.result()?.error?.code, 'unavailable');
  assert.deepEqual(late.heard.sort(), ['n2 silent', 'n3 silent']);
});
