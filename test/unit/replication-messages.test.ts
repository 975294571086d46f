import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKvMessage, encodeKvMessage, KvMessageEncoder, MalformedKvMessageError, type KvMessage } from '../../src/replication/messages.ts';

const record = new Uint8Array(40).map((_, i) => i * 7);
const latin1Key = 'user:42\u00ff\u0000';

test('every replication message survives encode and decode (binary layouts and msgpack maps)', () => {
  const messages: KvMessage[] = [
    { t: 'w', id: 1, p: 7, k: latin1Key, r: record },
    { t: 'w', id: 2 ** 40, p: 1023, k: '', r: record },
    { t: 'w', id: 3, p: 7, k: latin1Key, r: record, h: 'n2' }, // hint owner: msgpack
    { t: 'w', id: 4, p: 7, k: 'snow \u2603', r: record }, // not latin1: msgpack
    { t: 'w', id: 14, p: 7, k: latin1Key, r: record, v: '0123456789abcdef' }, // routed by a ring version
    { t: 'w', id: 15, p: 7, k: latin1Key, r: record, v: 'r'.repeat(300) }, // ring version too long for a u8: msgpack
    { t: 'wa', id: 5 },
    { t: 'nb', id: 6 },
    { t: 'r', id: 7, p: 3, k: latin1Key },
    { t: 'r', id: 8, p: 3, k: 'x'.repeat(5000) },
    { t: 'r', id: 16, p: 3, k: latin1Key, v: 'not-joined' },
    { t: 'r', id: 19, p: 3, k: latin1Key, v: '0123456789abcdef', n: 2 }, // owner count (fewer owners than N): msgpack
    { t: 'r', id: 20, p: 3, k: latin1Key, v: '0123456789abcdef', pk: true }, // a peek (OBJECT's lookup): msgpack
    { t: 'ns', id: 17, rv: 'fedcba9876543210', v: '0123456789abcdef', o: ['n1', 'n4', 'n3'] },
    { t: 'ns', id: 18, rv: 'fedcba9876543210', v: '0123456789abcdef', o: ['n3'], r: record }, // a read's refuser still holding the partition
    { t: 'ra', id: 9, r: record, ready: true },
    { t: 'ra', id: 10, r: null, ready: false },
    { t: 'ra', id: 11, r: null, ready: true, e: { wallMs: 1767225601010, logical: 3, node: 0xdea7eb19 } }, // evicted
    { t: 'ra', id: 21, r: null, ready: true, e: { wallMs: 1767225601010, logical: 3, node: 0xdea7eb19 }, ei: true }, // evicted at or below (inexact)
    { t: 'ra', id: 22, r: null, ready: true, f: { wallMs: 1767225601010, logical: 3, node: 7 } }, // a flush floor
    { t: 'ra', id: 23, r: null, ready: true, h: { wallMs: 1767225601011, logical: 4, node: 0xdea7eb19 } }, // nothing held, the partition's forgetting horizon
    { t: 'ra', id: 24, r: null, ready: true, f: { wallMs: 1767225601010, logical: 3, node: 7 }, h: { wallMs: 1767225601011, logical: 0, node: 8 } }, // a floor and a newer horizon
    { t: 'ra', id: 25, r: record, ready: true, vh: { wallMs: 1767225601011, logical: 2, node: 9 } }, // a record older than the horizon its catch-up inherited
    { t: 'ra', id: 26, r: null, ready: true, h: { wallMs: 1767225601011, logical: 4, node: 3 }, vh: { wallMs: 1767225601011, logical: 4, node: 3 } }, // nothing held, the horizon (at least) inherited
    { t: 'rp', p: 1, k: 'a', r: record },
    { t: 'hd', id: 12, p: 1, k: 'a', r: record },
    { t: 'ha', id: 13 },
    { t: 'sq', d: [1, 2, 3, 4] },
    { t: 'sw', p: 1, k: ['a', 'b'] },
    { t: 'sr', eq: [1, 2], df: [[3, ['a'], [1, 0, 7]]], v: 'ring-1' },
    { t: 'sd', p: 1, k: ['a'], r: [record], last: true, v: 'ring-1' },
    { t: 'sd', p: 1, k: [], r: [], last: true, v: 'ring-1', ek: ['b'], ev: [1, 0, 7] }, // evicted at the sender
    // Anti-entropy by bucket (sync.ts): the asker compares buckets, a bucket-digest answer, a bucket request and lists, a partial want.
    { t: 'sq', d: [1, 2], b: 256 },
    { t: 'sr', eq: [], df: [], v: 'ring-1', bd: [[3, -5, 0, 2147483647]] },
    { t: 'sb', p: 3, b: [0, 255] },
    { t: 'sl', p: 3, b: [0, 255], k: ['a'], x: [1, 0, 7], v: 'ring-1', c: false },
    { t: 'sw', p: 1, k: ['a'], n: true },
    // A catching-up answerer names the partitions it is pulling (no pushes of them, sync.ts pullsFrom).
    { t: 'sr', eq: [], df: [[3, [], []]], v: 'ring-1', u: [3] },
    { t: 'sl', p: 3, b: [0], k: [], x: [], v: 'ring-1', c: true, u: true },
    // An answerer that evicted and forgot names its forgetting horizons (ForgottenKeys.horizon).
    { t: 'sr', eq: [], df: [[3, [], []]], v: 'ring-1', fh: [3, 1767225601010, 2, 7] },
    { t: 'sl', p: 3, b: [0], k: [], x: [], v: 'ring-1', c: true, fh: { wallMs: 1767225601010, logical: 2, node: 7 } },
  ];
  for (const message of messages) {
    const decoded = decodeKvMessage(encodeKvMessage(message)) as Record<string, unknown>;
    const expected = message as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(decoded).sort(), Object.keys(expected).sort(), message.t);
    for (const [field, value] of Object.entries(expected)) {
      const got = decoded[field];
      if (value instanceof Uint8Array) assert.deepEqual([...(got as Uint8Array)], [...value], `${message.t}.${field}`);
      else assert.deepEqual(got, value, `${message.t}.${field}`);
    }
  }
});

test('the inexact bit (4) of `ra`: set only beside an eviction, and a reader that predates it sees an exact eviction', () => {
  const e = { wallMs: 1767225601010, logical: 3, node: 7 };
  const inexact = encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, e, ei: true });
  const exact = encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, e });
  assert.equal(inexact.length, exact.length, 'no byte more on the wire');
  assert.equal(inexact[9]! ^ exact[9]!, 16, 'only flag bit 4 differs');
  // An older reader tests only the bits it knows (0-3): it decodes the exact eviction.
  const older = inexact.slice();
  older[9] = older[9]! & 0x0f;
  assert.deepEqual(decodeKvMessage(older), { t: 'ra', id: 1, ready: true, r: null, e });
  // Without an eviction there is nothing to qualify: the bit is not sent.
  assert.equal(encodeKvMessage({ t: 'ra', id: 1, r: record, ready: true, ei: true })[9]! & 16, 0, 'not beside a record');
  assert.equal(encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, f: e, ei: true })[9]! & 16, 0, 'not beside a floor');
});

test('the horizon bit (5) of `ra`: its 16 bytes after the floor, only with no record and no eviction; a reader that predates it reads the answer as before', () => {
  const f = { wallMs: 1767225601010, logical: 3, node: 7 };
  const h = { wallMs: 1767225601011, logical: 0, node: 8 };
  for (const [answer, before] of [
    [{ t: 'ra', id: 1, r: null, ready: true, h }, { t: 'ra', id: 1, r: null, ready: true }],
    [{ t: 'ra', id: 1, r: null, ready: true, f, h }, { t: 'ra', id: 1, r: null, ready: true, f }],
  ] as const) {
    const bytes = encodeKvMessage(answer);
    assert.equal(bytes.length, encodeKvMessage(before).length + 16);
    // An older reader knows bits 0-4 and reads no further than they say: the bytes after are ignored.
    const older = bytes.slice();
    older[9] = older[9]! & 0x1f;
    assert.deepEqual(decodeKvMessage(older), before);
    assert.throws(() => decodeKvMessage(bytes.subarray(0, bytes.length - 1)), MalformedKvMessageError);
  }
  const e = { wallMs: 1767225601012, logical: 0, node: 9 };
  assert.equal(encodeKvMessage({ t: 'ra', id: 1, r: record, ready: true, h })[9]! & 32, 0, 'not beside a record');
  assert.equal(encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, e, ei: true, h })[9]! & 32, 0, 'not beside an eviction');
});

test('the inherited-horizon bit (6) of `ra`: 16 bytes before a record, the bit alone beside `h`; a reader that predates it reads `h` as before', () => {
  const vh = { wallMs: 1767225601011, logical: 2, node: 9 };
  const withRecord = encodeKvMessage({ t: 'ra', id: 1, r: record, ready: true, vh });
  assert.equal(withRecord.length, encodeKvMessage({ t: 'ra', id: 1, r: record, ready: true }).length + 16);
  assert.deepEqual(decodeKvMessage(withRecord), { t: 'ra', id: 1, r: record, ready: true, vh });
  assert.throws(() => decodeKvMessage(withRecord.subarray(0, 20)), MalformedKvMessageError, 'shorter than the horizon');
  // Nothing held: no byte more than the horizon answer; an older reader (bits 0-5) decodes `h` alone.
  const notHeld = encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, h: vh, vh });
  const horizonOnly = encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, h: vh });
  assert.equal(notHeld.length, horizonOnly.length, 'no byte more on the wire');
  assert.equal(notHeld[9]! ^ horizonOnly[9]!, 64, 'only flag bit 6 differs');
  const older = notHeld.slice();
  older[9] = older[9]! & 0x3f;
  assert.deepEqual(decodeKvMessage(older), { t: 'ra', id: 1, r: null, ready: true, h: vh });
  // Without a horizon or a record there is nothing to qualify: the bit is not sent.
  assert.equal(encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, vh })[9]! & 64, 0, 'not with nothing held and no horizon');
  assert.equal(encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, e: vh, ei: true, vh })[9]! & 64, 0, 'not beside an eviction');
});

test('the hot messages are compact, and truncated or unknown bytes are MalformedKvMessageError', () => {
  const write = encodeKvMessage({ t: 'w', id: 1, p: 7, k: 'key', r: record });
  assert.equal(write.length, 16 + 3 + record.length);
  const routed = encodeKvMessage({ t: 'w', id: 1, p: 7, k: 'key', r: record, v: 'abcd' });
  assert.equal(routed.length, 16 + 4 + 3 + record.length);
  assert.throws(() => decodeKvMessage(routed.subarray(0, 17)), MalformedKvMessageError, 'cut inside the ring version');
  assert.equal(encodeKvMessage({ t: 'wa', id: 1 }).length, 9);
  for (const bytes of [write.subarray(0, 12), write.subarray(0, 16), new Uint8Array([0x02, 0, 0]), new Uint8Array([0x7f, 0, 0, 0, 0, 0, 0, 0, 0]), new Uint8Array([0xc1])]) {
    assert.throws(() => decodeKvMessage(bytes), MalformedKvMessageError);
  }
});

test('a message missing a field, or carrying a record shorter than its header, is malformed, never a crash later', async () => {
  const { Encoder } = await import('@msgpack/msgpack');
  const raw = new Encoder();
  const short = new Uint8Array(10);
  const cases: unknown[] = [
    { t: 'sq' },
    { t: 'sq', d: 'nope' },
    { t: 'sr', eq: [1], v: 'x' },
    { t: 'sr', eq: [1], df: [[1, 'a', []]], v: 'x' },
    { t: 'sd', p: 1, k: ['a'], r: [short], last: true, v: 'x' },
    { t: 'sd', p: 1, k: [], r: [], last: true, v: 'x', ek: [1], ev: [1, 0, 7] },
    { t: 'sq', d: [1, 2], b: 'all' },
    { t: 'sr', eq: [], df: [], v: 'x', bd: [[]] },
    { t: 'sr', eq: [], df: [], v: 'x', bd: [3, 4] },
    { t: 'sb', p: 3 },
    { t: 'sl', p: 3, b: [0], k: ['a'], x: [1, 0, 7], v: 'x' },
    { t: 'sr', eq: [], df: [], v: 'x', u: 3 },
    { t: 'sl', p: 3, b: [0], k: [], x: [], v: 'x', c: true, u: 1 },
    { t: 'sr', eq: [], df: [], v: 'x', fh: 3 },
    { t: 'sl', p: 3, b: [0], k: [], x: [], v: 'x', c: true, fh: [1, 0, 7] },
    { t: 'hd', id: 1, p: 1, k: 'a' },
    { t: 'rp', p: 1, k: 'a', r: short },
    { t: 'w', id: 1, p: 1, k: 'a', r: record, h: 5 },
  ];
  for (const message of cases) {
    assert.throws(() => decodeKvMessage(raw.encode(message)), MalformedKvMessageError, JSON.stringify(message));
  }
  // The binary layouts too: a write or a read answer whose record is shorter than the header.
  assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'w', id: 1, p: 1, k: 'a', r: short })), MalformedKvMessageError);
  assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'ra', id: 1, r: short, ready: true })), MalformedKvMessageError);
});

test('a message sent to several members is encoded once; another message, even an equal one, is encoded afresh', () => {
  const encoder = new KvMessageEncoder();
  const write: KvMessage = { t: 'w', id: 1, p: 7, k: latin1Key, r: record };
  const first = encoder.encode(write);
  assert.equal(encoder.encode(write), first, 'the same object: the same bytes, not a new encoding');
  assert.deepEqual(decodeKvMessage(first), write);
  const ack: KvMessage = { t: 'wa', id: 1 };
  assert.deepEqual(decodeKvMessage(encoder.encode(ack)), ack);
  const again = encoder.encode({ ...write });
  assert.notEqual(again, first);
  assert.deepEqual(again, first);
});
