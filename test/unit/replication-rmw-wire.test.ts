// Read-modify-write on the wire (rmw-wire.ts, the x/xr/xc/xca/xw/xwa messages), the request-id
// memory (rmw-requests.ts) and the primary's key de-duplication.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Encoder } from '@msgpack/msgpack';
import fc from 'fast-check';
import { decodeKvMessage, encodeKvMessage, MalformedKvMessageError, type KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { distinctKeys } from '../../src/replication/rmw-primary.ts';
import { RECORD_LINKS_PER_KEY, RequestMemory } from '../../src/replication/rmw-requests.ts';
import { decodeRmwOp, decodeRmwResult, encodeRmwOp, encodeRmwResult, MalformedRmwError } from '../../src/replication/rmw-wire.ts';
import type { RmwOp, RmwResult } from '../../src/replication/rmw.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('every read-modify-write operation and result survives the wire, bigints included', () => {
  const ops: RmwOp[] = [
    { op: 'incrby', by: -9223372036854775808n },
    { op: 'incrbyfloat', by: '1.5e3' },
    { op: 'append', value: bytes('tail') },
    { op: 'setrange', offset: 7, value: bytes('x') },
    { op: 'set', value: bytes('v'), expiry: { kind: 'at', atMs: 1234 }, condition: 'nx', get: true },
    { op: 'getdel' },
    { op: 'getex', expiry: null },
    { op: 'getex', expiry: { kind: 'none' } },
    { op: 'expire', atMs: 99, condition: 'gt' },
    { op: 'persist' },
    { op: 'del' },
    { op: 'rename', nx: true },
    { op: 'copy', replace: true },
    { op: 'copy', replace: false },
    { op: 'msetnx', values: [bytes('a'), bytes('b')] },
  ];
  for (const op of ops) {
    // Through the msgpack codec of a real message, as between nodes.
    const message: KvMessage = { t: 'x', id: 1, p: 3, k: ['k'], o: encodeRmwOp(op), c: 'quorum', q: 'r1' };
    const back = decodeKvMessage(encodeKvMessage(message)) as Extract<KvMessage, { t: 'x' }>;
    assert.deepEqual(decodeRmwOp(back.o), op);
  }
  const results: RmwResult[] = [{ kind: 'ok' }, { kind: 'integer', value: 9223372036854775807n }, { kind: 'bulk', value: bytes('v') }, { kind: 'bulk', value: null }, { kind: 'error', code: 'overflow' }];
  for (const result of results) assert.deepEqual(decodeRmwResult(encodeRmwResult(result)), result);
});

test('values are copied when an operation is encoded: the caller lends them, the message goes later (and again on a retry)', () => {
  const lent = bytes('abc');
  const wire = encodeRmwOp({ op: 'append', value: lent });
  lent.fill(0);
  assert.deepEqual(decodeRmwOp(wire), { op: 'append', value: bytes('abc') });
});

test('a malformed operation or result is refused with a clear error, not run', () => {
  assert.throws(() => decodeRmwOp({ op: 'incrby', by: '1.5' }), MalformedRmwError);
  assert.throws(() => decodeRmwOp({ op: 'copy' }), MalformedRmwError);
  assert.throws(() => decodeRmwOp({ op: 'set', value: bytes('v'), expiry: { kind: 'keep' }, condition: 'maybe', get: false }), /bad "condition"/);
  assert.throws(() => decodeRmwOp({ op: 'eval' }), /unknown read-modify-write operation "eval"/);
  assert.throws(() => decodeRmwResult(['e', 'not-a-code']), MalformedRmwError);
  // A message missing a field never reaches a handler.
  assert.throws(() => decodeKvMessage(new Encoder().encode({ t: 'xc', id: 1, p: 0, k: ['k'] })), MalformedKvMessageError);
});

test('claim answers carry records, holes, remembered request ids and lineage links', () => {
  const record = makeRecord({ wallMs: 5, logical: 1, node: 7 }, bytes('v'), 0);
  const message: KvMessage = { t: 'xca', id: 4, ok: true, e: 2 ** 22 + 3, ready: true, r: [record, null], d: [['r1', ['i', '42']]] };
  assert.deepEqual(decodeKvMessage(encodeKvMessage(message)), message);
  const linked: KvMessage = { ...message, lk: [0, 0], lv: ['5.1@7', '4.0@7'], lb: ['4.0@7', '3.0@7'] };
  assert.deepEqual(decodeKvMessage(encodeKvMessage(linked)), linked);
  assert.throws(() => decodeKvMessage(new Encoder().encode({ ...message, lv: [5] })), MalformedKvMessageError);
});

test("the request memory answers a record's lineage from the results applied, in time or late, within its bounds", () => {
  const memory = new RequestMemory();
  const v = (n: number): string => `${n}.0@1`;
  for (let n = 1; n <= RECORD_LINKS_PER_KEY + 2; n++) memory.noteBuilt('k', v(n), v(n + 1));
  const top = v(RECORD_LINKS_PER_KEY + 3);
  const lineage = memory.lineageOf('k', top);
  assert.equal(lineage.length, RECORD_LINKS_PER_KEY, 'bounded per key');
  assert.deepEqual(lineage[0], [top, v(RECORD_LINKS_PER_KEY + 2)], 'newest first, from the record asked');
  assert.deepEqual(lineage.at(-1), [v(4), v(3)], 'the oldest links dropped');
  assert.deepEqual(memory.lineageOf('k', v(5)), [[v(5), v(4)], [v(4), v(3)]], 'from an older record: only what it was built on');
  assert.deepEqual(memory.lineageOf('k', '9.9@9'), [], 'a record no result here wrote');
  // A result missed here cuts the chain: its base is not known.
  memory.noteBuilt('g', '2.0@2', '3.0@2');
  memory.noteBuilt('g', '1.0@2', '2.5@2');
  assert.deepEqual(memory.lineageOf('g', '3.0@2'), [['3.0@2', '2.0@2']]);
  // A partition keeps as many links as ids by count, the least recently built key's oldest first.
  const small = new RequestMemory(2);
  small.noteBuilt('a', '1.0@1', '2.0@1');
  small.noteBuilt('b', '1.0@1', '2.0@1');
  small.noteBuilt('a', '2.0@1', '3.0@1');
  assert.deepEqual(small.lineageOf('b', '2.0@1'), [], "b's link went: a was built on since");
  assert.deepEqual(small.lineageOf('a', '3.0@1'), [['3.0@1', '2.0@1'], ['2.0@1', '1.0@1']]);
});

test('the request memory answers a repeat with the first result, within its count and age bounds', () => {
  const memory = new RequestMemory(2, 1_000);
  memory.remember('a', ['i', '1'], 0);
  memory.remember('a', ['i', '2'], 10);
  assert.deepEqual(memory.get('a', 20), ['i', '1'], 'the first result stays');
  memory.remember('b', ['o'], 30);
  memory.remember('c', ['o'], 40);
  assert.equal(memory.get('a', 50), undefined, 'the oldest is forgotten past the count');
  assert.deepEqual(memory.list(50).map(([id]) => id), ['b', 'c']);
  assert.equal(memory.get('b', 1_031), undefined, 'forgotten past the age');
  assert.deepEqual(memory.get('c', 1_031), ['o']);
});

test('the request memory follows the record holding each result: built-on results move it on, newer versions win, older and malformed ones do not', () => {
  const memory = new RequestMemory();
  memory.remember('a', ['i', '1'], 0, ['k'], ['10.0@1']);
  memory.remember('x', ['i', '7'], 0, ['other'], ['10.0@1']);
  // A result built on k's record at 10.0@1: the ids standing for it (of k only) stand for the new one.
  memory.advance('k', '10.0@1', '12.0@1');
  assert.deepEqual(memory.list(1), [
    ['a', ['i', '1'], ['k'], ['12.0@1']],
    ['x', ['i', '7'], ['other'], ['10.0@1']],
  ]);
  // A result overwriting k unread (built on nothing, or on another record) leaves the id behind.
  memory.advance('k', '11.0@2', '13.0@2');
  assert.deepEqual(memory.list(1)[0]![3], ['12.0@1']);
  memory.remember('a', ['i', '9'], 2, ['k'], ['11.0@1']);
  memory.remember('a', ['i', '9'], 2, ['k'], ['not-a-version']);
  assert.deepEqual(memory.list(3)[0], ['a', ['i', '1'], ['k'], ['12.0@1']], 'an older or malformed version never replaces a newer one');
  assert.equal(memory.heldIn('a', (key) => (key === 'k' ? '12.0@1' : null)), true);
  assert.equal(memory.heldIn('a', () => '13.0@2'), false, 'a record not built on it does not hold its effect');
  // The request applied again (its first effect was lost): its new records and result replace the old.
  memory.remember('a', ['i', '9'], 2, ['k'], ['14.3@2']);
  assert.deepEqual(memory.list(3)[0], ['a', ['i', '9'], ['k'], ['14.3@2']]);
  // Ids from a peer that sends no versions travel without them.
  memory.rememberAll([['old', ['o'], ['k']]], 4);
  assert.deepEqual(memory.listFor(new Set(['k']), 5).map((entry) => entry.length), [4, 3]);
  memory.advance('k', '12.0@1', '15.0@1');
  assert.deepEqual(memory.list(3)[0]![3], ['14.3@2'], 'a version it left behind moves it no more');
  memory.advance('k', '14.3@2', '15.0@1');
  assert.deepEqual(memory.list(3)[0]![3], ['15.0@1']);
  // Forgotten ids (past the count) are moved on by nothing.
  const small = new RequestMemory(1);
  small.remember('gone', ['o'], 0, ['k'], ['1.0@1']);
  small.remember('kept', ['o'], 0, ['k'], ['1.0@1']);
  small.advance('k', '1.0@1', '2.0@1');
  assert.deepEqual(small.list(1), [['kept', ['o'], ['k'], ['2.0@1']]]);
  const message: KvMessage = { t: 'xw', id: 1, p: 0, e: 3, k: ['k'], r: [makeRecord({ wallMs: 1, logical: 0, node: 1 }, bytes('1'), 0)], q: 'r', res: ['i', '1'], u: memory.list(6), b: [''] };
  assert.deepEqual(decodeKvMessage(encodeKvMessage(message)), message);
});

test('a result applied after the one built on it moves its id on to the record held, and only then (kv-rmw seed 230828)', () => {
  const memory = new RequestMemory();
  // This replica applied b (12.0@1, built on 11.0@1) before a, whose result is 11.0@1.
  memory.noteBuilt('k', '11.0@1', '12.0@1');
  memory.remember('a', ['i', '2'], 0, ['k'], ['11.0@1']);
  memory.catchUp('k', '11.0@1', '12.0@1');
  assert.deepEqual(memory.list(1), [['a', ['i', '2'], ['k'], ['12.0@1']]]);
  // A record held that was not built on the late one keeps the id behind.
  memory.remember('c', ['i', '3'], 0, ['k'], ['10.0@2']);
  memory.catchUp('k', '10.0@2', '12.0@1');
  memory.catchUp('k', '10.0@2', '13.0@1');
  assert.deepEqual(memory.list(1)[1], ['c', ['i', '3'], ['k'], ['10.0@2']]);
});

test('keys given twice are passed once, MSETNX keeping the last value', () => {
  assert.deepEqual(distinctKeys(['a', 'b', 'a'], { op: 'msetnx', values: [bytes('1'), bytes('2'), bytes('3')] }), {
    keys: ['a', 'b'],
    op: { op: 'msetnx', values: [bytes('3'), bytes('2')] },
  });
  assert.deepEqual(distinctKeys(['a', 'a'], { op: 'rename', nx: false }).keys, ['a']);
  assert.deepEqual(distinctKeys(['a', 'b'], { op: 'del' }).keys, ['a', 'b']);
});

test('listFor (through the index) lists exactly the ids a walk of every remembered id would, oldest first', () => {
  const KEYS = ['a', 'b', 'c', 'd'];
  const step = fc.oneof(
    // Remembered with versions (indexed), without (a peer that sends none), or with no keys at all.
    fc.record({ kind: fc.constant('remember' as const), id: fc.integer({ min: 0, max: 30 }), keys: fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 0, maxLength: 2 }), version: fc.integer({ min: 1, max: 6 }), withVersions: fc.boolean(), at: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('advance' as const), key: fc.constantFrom(...KEYS), from: fc.integer({ min: 1, max: 6 }), to: fc.integer({ min: 1, max: 6 }) }),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 60 }), fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }), (steps, asked) => {
      const memory = new RequestMemory(12, 1_000, { minKeepMs: 2, hardMaxEntries: 16 });
      let now = 0;
      for (const s of steps) {
        if (s.kind === 'advance') {
          memory.advance(s.key, `${s.from}.0@1`, `${s.to}.0@1`);
          continue;
        }
        now += s.at;
        memory.remember(`r${s.id}`, ['i', String(s.id)], now, s.keys, s.withVersions ? s.keys.map(() => `${s.version}.0@1`) : null);
      }
      const wanted = new Set(asked);
      const walked = memory.list(now).filter(([, , keys]) => (keys ?? []).length === 0 || keys!.some((k) => wanted.has(k)));
      assert.deepEqual(memory.listFor(wanted, now), walked);
    }),
    { numRuns: 300 },
  );
});
