// Group commit of read-modify-write (docs/REPLICATION.md, "Group commit"): operations queued on a
// partition's primary behind a running one leave as one fenced result, each with its own result
// and request id; a fenced batch fails every operation retryably and leaves nothing applied; a
// primary whose peers announce a protocol version older than RMW_BATCH_PROTOCOL does not batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock, versionToString } from '../../src/replication/hlc.ts';
import type { ReplicationContext } from '../../src/replication/context.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { decodeRecord, versionOfEncoded } from '../../src/replication/record.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { MAX_BATCH_BYTES, RMW_BATCH_PROTOCOL, RmwPrimary } from '../../src/replication/rmw-primary.ts';
import { RequestMemory } from '../../src/replication/rmw-requests.ts';
import { encodeRmwOp, encodeRmwResult } from '../../src/replication/rmw-wire.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';
import { Store } from '../../src/store/index.ts';
import { context, fakeEnv } from './replication-fakes.ts';

type Xw = Extract<KvMessage, { t: 'xw' }>;
type Xr = Extract<KvMessage, { t: 'xr' }>;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const INCR: RmwOp = { op: 'incrby', by: 1n };

/**
 * n1 the primary of partition 1 and n2 a real replica (owners n1, n2, n3; n3 is down, so a quorum
 * of 2 is n1 and n2). Fenced results from n1 to n2 can be held back (`hold`) and let go later.
 */
function pair(n1Overrides: Partial<ReplicationContext> = {}) {
  const { env, flush, now } = fakeEnv();
  const node = (name: string, id: number, sent: [string, KvMessage][], overrides: Partial<ReplicationContext> = {}) => {
    const ctx = context(env, sent, { selfName: name, isAlive: (n) => n !== 'n3', ...overrides });
    const store = new Store({ maxEntries: 1000, clock: env.clock, seed: id });
    const hlc = new HybridLogicalClock(env.clock, id);
    const host = new ReplicaHost(ctx, store, new HintStore(10, 10_000, 60_000), hlc, 256);
    return { store, host, rmw: new RmwPrimary(ctx, hlc, host) };
  };
  const sent1: [string, KvMessage][] = [];
  const sent2: [string, KvMessage][] = [];
  const n1 = node('n1', 1, sent1, n1Overrides);
  const n2 = node('n2', 2, sent2);
  const replies = new Map<string, Xr>();
  const xws: Xw[] = [];
  const held: Xw[] = [];
  let holding = false;
  const pump = () => {
    for (let round = 0; round < 100; round++) {
      flush(now() + 1);
      const out1 = sent1.splice(0);
      const out2 = sent2.splice(0);
      if (out1.length === 0 && out2.length === 0) return;
      for (const [to, m] of out1) {
        if (to === 'n1') n1.rmw.onMessage('n1', m);
        else if (m.t === 'xr') replies.set(`r${m.id}`, m);
        else if (to === 'n2' && m.t === 'xw') {
          if (!xws.some((x) => x.id === m.id)) xws.push(m);
          if (holding) held.push(m);
          else n2.rmw.onMessage('n1', m);
        } else if (to === 'n2') n2.rmw.onMessage('n1', m);
      }
      for (const [to, m] of out2) if (to === 'n1') n1.rmw.onMessage('n2', m);
    }
    throw new Error('the exchange did not settle');
  };
  /** Sends request `r<id>` from a coordinator n9 to n1 (not yet pumped). */
  const request = (id: number, key: string, op: RmwOp = INCR) => n1.rmw.onMessage('n9', { t: 'x', id, p: 1, k: [key], o: encodeRmwOp(op), c: 'quorum', q: `r${id}` });
  /** Lets every held result through, holding no more. */
  const release = () => {
    holding = false;
    for (const m of held.splice(0)) n2.rmw.onMessage('n1', m);
    pump();
  };
  /** Lets the oldest held result through, holding what follows. */
  const releaseOne = () => {
    n2.rmw.onMessage('n1', held.shift()!);
    pump();
  };
  return { n1, n2, replies, xws, pump, request, release, releaseOne, hold: () => (holding = true), now };
}

/** The value node `n` holds for `key` in partition 1 (read without a job: diagnostics). */
const valueOf = (n: { host: ReplicaHost }, key: string): string | null => {
  const raw = n.host.hold(1).peek(key);
  return raw === null ? null : text(decodeRecord(raw).value);
};

test('operations queued behind a running one leave as one fenced result, each answered with its own result in order', () => {
  const c = pair();
  // Both keys read once (claimed): fresh under n1's claim from then on.
  c.request(100, 'a', { op: 'set', value: bytes('0'), expiry: { kind: 'none' }, condition: 'always', get: false });
  c.request(101, 'b', { op: 'set', value: bytes(''), expiry: { kind: 'none' }, condition: 'always', get: false });
  c.pump();
  c.hold();
  c.request(0, 'a');
  c.pump();
  assert.equal(c.xws.length, 3, 'the first INCR waits for its fenced result');
  for (let i = 1; i <= 5; i++) c.request(i, 'a');
  c.request(6, 'b', { op: 'append', value: bytes('x') });
  c.pump();
  assert.equal(c.xws.length, 3, 'the others wait in the serial queue');
  c.release();
  assert.equal(c.xws.length, 4, 'six queued operations, one fenced result');
  for (let i = 0; i <= 5; i++) assert.deepEqual(c.replies.get(`r${i}`)?.res, encodeRmwResult({ kind: 'integer', value: BigInt(i + 1) }), `r${i}`);
  assert.deepEqual(c.replies.get('r6')?.res, encodeRmwResult({ kind: 'integer', value: 1n }));
  assert.deepEqual(
    { ops: c.n1.rmw.stats.ops, resultWrites: c.n1.rmw.stats.resultWrites, batches: c.n1.rmw.stats.batches, batchedOps: c.n1.rmw.stats.batchedOps },
    { ops: 9, resultWrites: 4, batches: 1, batchedOps: 6 },
  );
  // The batch carries the final records, and every request id with its keys and their final versions.
  const batch = c.xws[3]!;
  assert.deepEqual(batch.k, ['a', 'b']);
  assert.equal(batch.q, 'r6');
  const finals = batch.r.map((r) => versionToString(versionOfEncoded(r)));
  assert.deepEqual(
    (batch.u ?? []).map(([id, , keys, versions]) => [id, keys, versions]),
    [1, 2, 3, 4, 5, 6].map((i) => [`r${i}`, [i === 6 ? 'b' : 'a'], [finals[i === 6 ? 1 : 0]]]),
  );
  for (const n of [c.n1, c.n2]) {
    assert.equal(valueOf(n, 'a'), '6');
    assert.equal(valueOf(n, 'b'), 'x');
    // The replica remembers each id with its own result: a repeat is answered, not applied again.
    for (let i = 1; i <= 5; i++) assert.deepEqual(n.host.hold(1).requests.get(`r${i}`, c.now()), encodeRmwResult({ kind: 'integer', value: BigInt(i + 1) }));
  }
  c.request(13, 'a');
  c.pump();
  c.n1.rmw.onMessage('n9', { t: 'x', id: 14, p: 1, k: ['a'], o: encodeRmwOp(INCR), c: 'quorum', q: 'r3' });
  c.pump();
  assert.deepEqual(c.replies.get('r14')?.res, encodeRmwResult({ kind: 'integer', value: 4n }), 'a repeat of a batched id gets its first result');
  assert.equal(valueOf(c.n1, 'a'), '7');
});

test('operations on keys not yet claimed, queued behind one that claims, are claimed with it and leave in its fenced result', () => {
  // INCRs spread over many keys of one partition (redis-benchmark -r with --cluster): before, each
  // claimed its key in its own turn, one round trip after another (6 claims, 6 fenced results).
  // The first starts at once, alone; the five that arrive while it claims are claimed together.
  const c = pair();
  for (let i = 0; i < 6; i++) c.request(i, `k${i}`);
  c.pump();
  for (let i = 0; i < 6; i++) assert.deepEqual(c.replies.get(`r${i}`)?.res, encodeRmwResult({ kind: 'integer', value: 1n }), `r${i}`);
  assert.deepEqual({ claims: c.n1.rmw.stats.claims, resultWrites: c.n1.rmw.stats.resultWrites, batches: c.n1.rmw.stats.batches }, { claims: 2, resultWrites: 2, batches: 1 });
  assert.deepEqual(c.xws.at(-1)!.k, ['k1', 'k2', 'k3', 'k4', 'k5'], 'one fenced result carries the five');
  for (const n of [c.n1, c.n2]) for (let i = 0; i < 6; i++) assert.equal(valueOf(n, `k${i}`), '1');
});

test('with group commit off (bugs.rmwNoGroupCommit) each of those operations claims in its own turn, as before', () => {
  const c = pair({ config: { ...context(fakeEnv().env, []).config, bugs: { rmwNoGroupCommit: true } } });
  for (let i = 0; i < 6; i++) c.request(i, `k${i}`);
  c.pump();
  for (let i = 0; i < 6; i++) assert.deepEqual(c.replies.get(`r${i}`)?.res, encodeRmwResult({ kind: 'integer', value: 1n }), `r${i}`);
  assert.deepEqual({ claims: c.n1.rmw.stats.claims, resultWrites: c.n1.rmw.stats.resultWrites }, { claims: 6, resultWrites: 6 });
});

test('a batch refused for a higher epoch fails every operation retryably and leaves nothing applied', () => {
  const c = pair();
  c.request(0, 'a');
  c.pump();
  c.hold();
  c.request(1, 'a');
  c.pump();
  for (let i = 2; i <= 4; i++) c.request(i, 'a');
  c.pump();
  // r1's result reaches n2; the batch r2..r4 that follows is held on its way there ...
  c.releaseOne();
  assert.deepEqual(c.replies.get('r1')?.res, encodeRmwResult({ kind: 'integer', value: 2n }));
  assert.equal(c.xws.length, 3);
  assert.deepEqual((c.xws[2]!.u ?? []).map(([id]) => id), ['r2', 'r3', 'r4']);
  // ... while another primary claims n2 with a higher epoch: n2 refuses the batch.
  c.n2.rmw.onMessage('n3', { t: 'xc', id: 77, p: 1, e: 2 ** 40, k: ['a'] });
  c.pump();
  c.releaseOne();
  for (let i = 2; i <= 4; i++) {
    const reply = c.replies.get(`r${i}`);
    assert.equal(reply?.err, 'unavailable', `r${i}`);
    assert.equal(reply?.f, undefined, `r${i}: retryable, not final`);
  }
  assert.equal(c.n1.rmw.stats.fenced, 1);
  for (const n of [c.n1, c.n2]) {
    assert.equal(valueOf(n, 'a'), '2', 'nothing of the batch applied');
    for (let i = 2; i <= 4; i++) assert.equal(n.host.hold(1).requests.get(`r${i}`, c.now()), undefined, `r${i} not remembered`);
  }
});

test('a primary whose peers announce a protocol older than RMW_BATCH_PROTOCOL sends one fenced result per operation', () => {
  const c = pair({ protocolOf: () => RMW_BATCH_PROTOCOL - 1 });
  c.hold();
  c.request(0, 'a');
  c.pump();
  for (let i = 1; i <= 5; i++) c.request(i, 'a');
  c.pump();
  c.release();
  assert.equal(c.xws.length, 6);
  assert.equal(c.n1.rmw.stats.batches, 0);
  for (let i = 0; i <= 5; i++) assert.deepEqual(c.replies.get(`r${i}`)?.res, encodeRmwResult({ kind: 'integer', value: BigInt(i + 1) }), `r${i}`);
  assert.equal(valueOf(c.n2, 'a'), '6');
});

test('past its count bound a partition keeps request ids a retry may still repeat, up to a hard cap', () => {
  // kv-rmw-hot seed 10: at group-commit rates 1,024 ids lasted about 4 s, and an INCR retried
  // 7 s after its first, unanswered, application was applied again.
  const memory = new RequestMemory(2, 60_000, { minKeepMs: 1_000, hardMaxEntries: 4 });
  for (let i = 0; i < 4; i++) memory.remember(`r${i}`, ['o'], i);
  assert.deepEqual(memory.list(10).map(([id]) => id), ['r0', 'r1', 'r2', 'r3'], 'all younger than minKeepMs: kept past the count');
  memory.remember('r4', ['o'], 20);
  assert.deepEqual(memory.list(20).map(([id]) => id), ['r1', 'r2', 'r3', 'r4'], 'the hard cap still holds');
  memory.remember('r5', ['o'], 1_002);
  assert.deepEqual(memory.list(1_002).map(([id]) => id), ['r3', 'r4', 'r5'], 'past minKeepMs, the count bound applies again');
});

test('ids standing for one record move on together, and join the ids already standing for the record they move to', () => {
  const memory = new RequestMemory(3);
  memory.remember('a', ['o'], 0, ['k'], ['1.0@1']);
  memory.remember('b', ['o'], 0, ['k'], ['1.0@1']);
  memory.remember('c', ['o'], 0, ['k'], ['2.0@1']);
  memory.advance('k', '1.0@1', '2.0@1');
  assert.deepEqual(memory.list(1).map(([id, , , v]) => [id, v]), [['a', ['2.0@1']], ['b', ['2.0@1']], ['c', ['2.0@1']]]);
  memory.advance('k', '2.0@1', '3.0@1');
  assert.deepEqual(memory.list(1).map(([, , , v]) => v![0]), ['3.0@1', '3.0@1', '3.0@1']);
  // Past the count, the oldest goes; the others still move on.
  memory.remember('d', ['o'], 1, ['k'], ['3.0@1']);
  memory.advance('k', '3.0@1', '4.0@1');
  assert.deepEqual(memory.list(1).map(([id, , , v]) => [id, v![0]]), [['b', '4.0@1'], ['c', '4.0@1'], ['d', '4.0@1']]);
  assert.equal(memory.heldIn('c', () => '4.0@1'), true);
  assert.equal(memory.heldIn('c', () => '3.0@1'), false);
});

test('a batch stops at the operation that would take it past MAX_BATCH_BYTES: that one keeps its own turn', () => {
  const c = pair();
  const set = (value: Uint8Array): RmwOp => ({ op: 'set', value, expiry: { kind: 'none' }, condition: 'always', get: false });
  c.request(100, 'a', set(bytes('0')));
  c.request(101, 'b', set(bytes('')));
  c.pump();
  c.hold();
  c.request(0, 'a');
  c.pump();
  const big = new Uint8Array(Math.ceil(MAX_BATCH_BYTES * 0.6)).fill(120);
  c.request(1, 'b', set(big));
  c.request(2, 'a', set(big));
  c.request(3, 'a');
  c.pump();
  c.release();
  // r1 leads; r2 would take the batch past the cap and waits its turn, then leads r3.
  assert.equal(c.xws.length, 5);
  assert.deepEqual((c.xws[3]!.u ?? []).map(([id]) => id), [], 'r1 alone');
  assert.deepEqual(c.xws[4]!.k, ['a']);
  // r3 writes nothing (its error is its result): the batch names only r2's id, and answers both.
  assert.deepEqual((c.xws[4]!.u ?? []).map(([id]) => id), ['r2']);
  assert.deepEqual([c.n1.rmw.stats.batches, c.n1.rmw.stats.batchedOps], [1, 2]);
  for (const i of [0, 1, 2]) assert.ok(c.replies.get(`r${i}`)?.res, `r${i} answered`);
  assert.deepEqual(c.replies.get('r3')?.res, encodeRmwResult({ kind: 'error', code: 'not-integer' }), 'r3 read what r2 wrote');
});

test('a group commit counts one store lookup per key of each operation on the primary, and none for a DEL', () => {
  const c = pair();
  const DEL: RmwOp = { op: 'del' };
  const keys = ['a', 'b', 'c', 'd'];
  // Every key read once (claimed): fresh under n1's claim from then on.
  keys.forEach((key, i) => c.request(100 + i, key));
  c.pump();
  const lookups = (op: RmwOp, first: number): { hits: number; misses: number; batchedOps: number } => {
    const before = { ...c.n1.store.stats(), batchedOps: c.n1.rmw.stats.batchedOps };
    c.hold();
    c.request(first, 'a', op);
    c.pump();
    keys.forEach((key, i) => c.request(first + 1 + i, key, op));
    c.pump();
    c.release();
    const after = c.n1.store.stats();
    return { hits: after.hits - before.hits, misses: after.misses - before.misses, batchedOps: c.n1.rmw.stats.batchedOps - before.batchedOps };
  };
  // The INCR sent first runs alone and reads 'a'; the four queued behind it leave as one batch, each reading its key once.
  assert.deepEqual(lookups(INCR, 0), { hits: 5, misses: 0, batchedOps: 4 }, 'INCRs: one lookup per operation\'s key');
  assert.deepEqual(lookups(DEL, 10), { hits: 0, misses: 0, batchedOps: 4 }, 'DELs (and UNLINKs): none, as Redis counts no keyspace hit or miss for them');
});
