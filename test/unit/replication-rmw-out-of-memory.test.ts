// Read-modify-write under --eviction-policy noeviction: a result the store has no room for is
// refused whole with `out-of-memory` (RESP's OOM), as a plain write is (replication-out-of-memory
// .test.ts), on the primary before anything is sent, and on a replica that answers `xwa` with `o`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import { decodeKvMessage, encodeKvMessage, type KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { RmwPrimary } from '../../src/replication/rmw-primary.ts';
import { encodeRmwOp, encodeRmwResult } from '../../src/replication/rmw-wire.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';
import { Store } from '../../src/store/index.ts';
import { context, fakeEnv } from './replication-fakes.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** n1 as the primary of partition 1 (owners n1, n2, n3), over a noeviction store of `maxEntries` holding key `a`. */
function primary(maxEntries: number) {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const store = new Store({ maxEntries, policy: 'noeviction', clock: env.clock, seed: 1 });
  const hlc = new HybridLogicalClock(env.clock, 1);
  const host = new ReplicaHost(context(env, sent), store, new HintStore(10, 10_000, 60_000), hlc, 64);
  host.apply(host.hold(1), 'a', makeRecord({ wallMs: 1, logical: 0, node: 1 }, bytes('7'), 0));
  const rmw = new RmwPrimary(context(env, sent), hlc, host);
  /** Delivers what n1 sent itself, answers claims from n2 and n3 as caught-up holders of nothing, until quiet. */
  const settle = (answerResult: (id: number) => KvMessage | null) => {
    for (let round = 0; round < 20; round++) {
      flush(now() + 1);
      const batch = sent.splice(0);
      if (batch.length === 0) return;
      for (const [to, m] of batch) {
        if (to === 'n1') rmw.onMessage('n1', m);
        else if (m.t === 'xc') rmw.onMessage(to, { t: 'xca', id: m.id, ok: true, e: m.e, ready: true, r: m.k.map(() => null), d: [] });
        else if (m.t === 'xw') {
          const answer = answerResult(m.id);
          if (answer) rmw.onMessage(to, answer);
        } else outbox.push([to, m]);
      }
    }
    throw new Error('the exchange did not settle');
  };
  const outbox: [string, KvMessage][] = [];
  let requests = 0;
  const request = (keys: string[], op: RmwOp, answerResult: (id: number) => KvMessage | null = (id) => ({ t: 'xwa', id, ok: true, e: 0 })) => {
    rmw.onMessage('n9', { t: 'x', id: 1, p: 1, k: keys, o: encodeRmwOp(op), c: 'quorum', q: `r${requests++}` });
    settle(answerResult);
    const reply = outbox.pop();
    assert.ok(reply && reply[0] === 'n9' && reply[1].t === 'xr', 'the coordinator got an answer');
    return reply[1] as Extract<KvMessage, { t: 'xr' }>;
  };
  return { store, request, sentXw: () => sent };
}

test('a full noeviction store refuses INCR, APPEND and SET of a new key with out-of-memory, and nothing changes', () => {
  const p = primary(1);
  for (const op of [{ op: 'incrby', by: 1n }, { op: 'append', value: bytes('x') }, { op: 'set', value: bytes('v'), expiry: { kind: 'none' }, condition: 'nx', get: false }] as RmwOp[]) {
    const reply = p.request(['b'], op);
    assert.equal(reply.err, 'out-of-memory', op.op);
    assert.match(reply.msg!, /no room for the result \(--eviction-policy noeviction\)/);
  }
  assert.equal(p.store.has('b'), false);
  // An operation on the held key that does not grow the store still runs; a read-only one too.
  assert.deepEqual(p.request(['a'], { op: 'incrby', by: 1n }).res, encodeRmwResult({ kind: 'integer', value: 8n }));
  assert.deepEqual(p.request(['b'], { op: 'getdel' }).res, encodeRmwResult({ kind: 'bulk', value: null }));
  assert.equal(p.store.stats().refusedOverBudget, 0, 'refused before the store was asked to write');
});

test('replicas refusing a result for memory fail it with out-of-memory once its level is out of reach', () => {
  const p = primary(10);
  // Quorum of 3: one other owner must apply before n1 does; both refuse.
  const reply = p.request(['b'], { op: 'incrby', by: 5n }, (id) => ({ t: 'xwa', id, ok: false, e: 0, o: true }));
  assert.equal(reply.err, 'out-of-memory');
  assert.match(reply.msg!, /n\d's store has no room for it/);
  assert.equal(p.store.has('b'), false, 'the primary applies its own copy last, so it has none');
  // One refusal is not enough when the other owner takes it.
  let answered = 0;
  const ok = p.request(['b'], { op: 'incrby', by: 5n }, (id) => (answered++ === 0 ? { t: 'xwa', id, ok: false, e: 0, o: true } : { t: 'xwa', id, ok: true, e: 0 }));
  assert.deepEqual(ok.res, encodeRmwResult({ kind: 'integer', value: 5n }));
  // `o` travels between nodes like every other field.
  assert.deepEqual(decodeKvMessage(encodeKvMessage({ t: 'xwa', id: 3, ok: false, e: 9, o: true })), { t: 'xwa', id: 3, ok: false, e: 9, o: true });
});

test('a replica whose store has no room answers xwa with o and neither applies nor remembers the result', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const store = new Store({ maxEntries: 1, policy: 'noeviction', clock: env.clock, seed: 1 });
  const hlc = new HybridLogicalClock(env.clock, 2);
  const host = new ReplicaHost(context(env, sent, { selfName: 'n2' }), store, new HintStore(10, 10_000, 60_000), hlc, 64);
  const rmw = new RmwPrimary(context(env, sent, { selfName: 'n2' }), hlc, host);
  host.apply(host.hold(1), 'a', makeRecord({ wallMs: 1, logical: 0, node: 1 }, bytes('7'), 0));
  const epoch = 2 ** 21 + 1;
  rmw.onMessage('n1', { t: 'xc', id: 1, p: 1, e: epoch, k: ['a', 'b'] });
  flush(now() + 1);
  const record = (value: string) => makeRecord({ wallMs: 5, logical: 0, node: 1 }, bytes(value), 0);
  rmw.onMessage('n1', { t: 'xw', id: 2, p: 1, e: epoch, k: ['b'], r: [record('1')], q: 'req-1', res: encodeRmwResult({ kind: 'integer', value: 1n }) });
  flush(now() + 1);
  assert.deepEqual(sent.at(-1), ['n1', { t: 'xwa', id: 2, ok: false, e: epoch, o: true }]);
  assert.equal(store.has('b'), false);
  assert.equal(host.hold(1).requests.get('req-1', now()), undefined, 'a refused result is not remembered');
  // A result that fits (an overwrite of the held key) is applied.
  rmw.onMessage('n1', { t: 'xw', id: 3, p: 1, e: epoch, k: ['a'], r: [record('8')], q: 'req-2', res: encodeRmwResult({ kind: 'integer', value: 8n }) });
  flush(now() + 1);
  assert.deepEqual(sent.at(-1), ['n1', { t: 'xwa', id: 3, ok: true, e: epoch }]);
});
