// applyRmw against Redis 7.0's semantics. Expected texts for INCRBYFLOAT and the integer rules were
// taken from a real redis-server 7.0.15 (redis-cli), so they pin Redis's bytes, not our guesses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyRmw, type RmwExpiry, type RmwOp, type StoredRecordLike } from '../../src/replication/rmw.ts';
import { formatLongDoubleHuman, parseRedisInteger, parseRedisLongDouble, addLongDouble } from '../../src/replication/redis-numbers.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | undefined): string | null => (b == null ? null : new TextDecoder().decode(b));
const NOW = 1_000_000;
const LIMITS = { maxValueBytes: 64 };
const rec = (value: string, expiresAtMs = 0): StoredRecordLike => ({ value: enc(value), expiresAtMs });

function run(op: RmwOp, current: (StoredRecordLike | null)[], limits = LIMITS) {
  return applyRmw(op, current, NOW, limits);
}

function incrFloat(from: string | null, by: string): string {
  const out = run({ op: 'incrbyfloat', by }, [from === null ? null : rec(from)]);
  if (out.result.kind === 'error') return `error:${out.result.code}`;
  assert.equal(out.result.kind, 'bulk');
  const written = out.writes[0];
  assert.ok(written !== null && written !== 'delete' && written !== undefined);
  assert.deepEqual(written.value, (out.result as { value: Uint8Array }).value, 'reply and stored value are the same bytes');
  assert.equal(written.writtenAs, 'float', 'Redis keeps the text a string object, never int');
  return dec((out.result as { value: Uint8Array }).value)!;
}

test('string2ll: what Redis takes as an integer', () => {
  const ok: [string, bigint][] = [['0', 0n], ['-1', -1n], ['9223372036854775807', 9223372036854775807n], ['-9223372036854775808', -9223372036854775808n], ['42', 42n]];
  for (const [text, value] of ok) assert.equal(parseRedisInteger(enc(text)), value, text);
  for (const text of ['', '-', '-0', '+1', ' 1', '1 ', '01', '00', '1.0', '9223372036854775808', '-9223372036854775809', '1e3', '0x10', '000000000000000000001', '12a']) {
    assert.equal(parseRedisInteger(enc(text)), null, JSON.stringify(text));
  }
});

test('incrby: adds, keeps the TTL, creates a missing key at 0', () => {
  let out = run({ op: 'incrby', by: 5n }, [rec('10', NOW + 500)]);
  assert.deepEqual(out.result, { kind: 'integer', value: 15n });
  assert.deepEqual(out.writes, [{ value: enc('15'), expiresAtMs: NOW + 500 }]);
  out = run({ op: 'incrby', by: -1n }, [null]);
  assert.deepEqual(out.result, { kind: 'integer', value: -1n });
  assert.deepEqual(out.writes, [{ value: enc('-1'), expiresAtMs: 0 }]);
});

test('incrby: not an integer, overflow both ways, nothing written on error', () => {
  for (const v of ['abc', ' 1', '+1', '-0', '01', '1.5', '', '99999999999999999999']) {
    assert.deepEqual(run({ op: 'incrby', by: 1n }, [rec(v)]), { result: { kind: 'error', code: 'not-integer' }, writes: [null] }, v);
  }
  assert.deepEqual(run({ op: 'incrby', by: 1n }, [rec('9223372036854775807')]).result, { kind: 'error', code: 'overflow' });
  assert.deepEqual(run({ op: 'incrby', by: -1n }, [rec('-9223372036854775808')]).result, { kind: 'error', code: 'overflow' });
  assert.deepEqual(run({ op: 'incrby', by: -9223372036854775808n }, [rec('-1')]).result, { kind: 'error', code: 'overflow' });
  assert.deepEqual(run({ op: 'incrby', by: -9223372036854775808n }, [rec('0')]).result, { kind: 'integer', value: -9223372036854775808n });
});

test('incrbyfloat: Redis 7.0.15 replies (80-bit long double, %.17Lf, zeros cut)', () => {
  const cases: [string | null, string, string][] = [
    [null, '0.1', '0.1'],
    ['0.1', '0.2', '0.3'],
    ['10.5', '0.1', '10.6'],
    ['5.0e3', '2.0e2', '5200'],
    ['3', '-3', '0'],
    ['-0', '0', '0'],
    ['0', '0x1p-3', '0.125'],
    ['1.1', '-1.1', '0'],
    ['0', '1e-17', '0.00000000000000001'],
    ['0', '-1e-18', '0'],
    ['0', '123456789012345678901234567890', '123456789012345678899921813504'],
    ['0', '3.14159265358979323846', '3.14159265358979324'],
    ['1', '1e-20', '1'],
    ['0', '+.5', '0.5'],
    ['0', '5.', '5'],
    ['-5', '2.5', '-2.5'],
    ['0', '9223372036854775807', '9223372036854775807'],
    ['0', '0.3333333333333333333333', '0.33333333333333333'],
    ['0', '1e-4950', '0'],
    ['0', '3.6e-4951', '0'],
    ['1.5', '0x1.8p1', '4.5'],
    ['0', '-0.0', '0'],
    ['-0.0', '-0.0', '0'],
    ['10', '-9.99999999999999999', '0.00000000000000001'],
    ['0', '00012', '12'],
    ['0', '1E3', '1000'],
    ['0', '0X1P4', '16'],
    // Boundaries of the 80-bit format, as redis-server 7.0.15 answers them.
    ['0', '1.8225997659412373013e-4951', '0'],
    ['0', '0x1.8p-16446', '0'],
    ['0', '0.000000000000000015', '0.00000000000000002'],
    ['0', '0.000000000000000025', '0.00000000000000002'],
    ['0', '9999999999999999999.999999999999999995', '10000000000000000000'],
    ['0', '0e99999999999', '0'],
    ['0', '0x' + 'f'.repeat(40), '1461501637330902918203684832716283019655932542976'],
    [
      '0',
      '1.7976931348623157e308',
      '179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384',
    ],
  ];
  for (const [from, by, expected] of cases) assert.equal(incrFloat(from, by), expected, `${from} + ${by}`);
  const big = incrFloat('1e4900', '1');
  assert.equal(big.length, 4901);
  assert.ok(big.startsWith('1000000000000000000027083122306903498332'));
  assert.ok(big.endsWith('52246225341116846746313424896'));
  assert.ok(incrFloat('0', '1.18973149535723176502e+4932').startsWith('118973149535723176502126385303097020516906332229462420044032373389173700552297072261641029033652888285354569780749557731'));
});

test('incrbyfloat: invalid floats and infinite results', () => {
  for (const by of ['1.8225997659412373012e-4951', '0x1p-16446', '1.1897314953572317651e+4932', '1e-99999999999']) assert.equal(incrFloat('0', by), 'error:not-float', by);
  for (const by of [' 1', '1 ', 'nan', '1e-5000', '1e5000', '0x', '1.19e4932', 'infin', '1e', '.', '', 'abc', '1e-4952', '0x1p']) assert.equal(incrFloat('0', by), 'error:not-float', by);
  for (const by of ['inf', 'INFINITY', '-infinity']) assert.equal(incrFloat('0', by), 'error:nan-or-infinity', by);
  assert.equal(incrFloat('abc', '1'), 'error:not-float');
  assert.equal(incrFloat('1.18973149535723176502e+4932', '1.18973149535723176502e+4932'), 'error:nan-or-infinity');
  assert.equal(incrFloat('-1e4932', '-1e4932'), 'error:nan-or-infinity');
});

test('long double: subnormals and rounding stay exact', () => {
  const tiny = parseRedisLongDouble(enc('0x1p-16445'));
  assert.ok(tiny !== null && tiny.kind === 'finite' && tiny.mant === 1n);
  assert.equal(parseRedisLongDouble(enc('0x1p-16446')), null, 'half the smallest subnormal rounds to zero: ERANGE');
  const third = parseRedisLongDouble(enc('0.1'))!;
  assert.equal(formatLongDoubleHuman(addLongDouble(third, parseRedisLongDouble(enc('0.2'))!)!), '0.3');
});

test('append and setrange keep the TTL; setrange pads with zero bytes; too-large writes nothing', () => {
  // writtenAs in-place: what Redis keeps as a `raw` string (OBJECT ENCODING); APPEND to a missing key stores its argument as SET does.
  let out = run({ op: 'append', value: enc('def') }, [rec('abc', NOW + 9)]);
  assert.deepEqual(out, { result: { kind: 'integer', value: 6n }, writes: [{ value: enc('abcdef'), expiresAtMs: NOW + 9, writtenAs: 'in-place' }] });
  out = run({ op: 'append', value: enc('x') }, [null]);
  assert.deepEqual(out, { result: { kind: 'integer', value: 1n }, writes: [{ value: enc('x'), expiresAtMs: 0 }] });
  out = run({ op: 'setrange', offset: 2, value: enc('Z') }, [null]);
  assert.deepEqual(out, { result: { kind: 'integer', value: 3n }, writes: [{ value: new Uint8Array([0, 0, 0x5a]), expiresAtMs: 0, writtenAs: 'in-place' }] });
  out = run({ op: 'setrange', offset: 1, value: enc('XY') }, [rec('hello', NOW + 1)]);
  assert.deepEqual(out, { result: { kind: 'integer', value: 5n }, writes: [{ value: enc('hXYlo'), expiresAtMs: NOW + 1, writtenAs: 'in-place' }] });
  // Writing nothing never creates the key and never fails, whatever the offset.
  assert.deepEqual(run({ op: 'setrange', offset: 1e9, value: enc('') }, [null]), { result: { kind: 'integer', value: 0n }, writes: [null] });
  assert.deepEqual(run({ op: 'setrange', offset: 1e9, value: enc('') }, [rec('abc')]), { result: { kind: 'integer', value: 3n }, writes: [null] });
  assert.deepEqual(run({ op: 'setrange', offset: 64, value: enc('a') }, [null]).result, { kind: 'error', code: 'too-large' });
  assert.deepEqual(run({ op: 'setrange', offset: 63, value: enc('a') }, [null]).result, { kind: 'integer', value: 64n });
  assert.deepEqual(run({ op: 'append', value: new Uint8Array(60) }, [rec('abcde')]), { result: { kind: 'error', code: 'too-large' }, writes: [null] });
});

test('set: NX, XX, GET, KEEPTTL, a past time deletes', () => {
  const set = (condition: 'always' | 'nx' | 'xx', get: boolean, expiry: RmwExpiry = { kind: 'none' }): RmwOp => ({ op: 'set', value: enc('new'), expiry, condition, get });
  assert.deepEqual(run(set('nx', false), [rec('old')]), { result: { kind: 'bulk', value: null }, writes: [null] });
  assert.deepEqual(run(set('nx', false), [null]), { result: { kind: 'ok' }, writes: [{ value: enc('new'), expiresAtMs: 0 }] });
  assert.deepEqual(run(set('xx', false), [null]), { result: { kind: 'bulk', value: null }, writes: [null] });
  assert.deepEqual(run(set('xx', true), [rec('old', NOW + 5)]), { result: { kind: 'bulk', value: enc('old') }, writes: [{ value: enc('new'), expiresAtMs: 0 }] });
  assert.deepEqual(run(set('nx', true), [rec('old')]), { result: { kind: 'bulk', value: enc('old') }, writes: [null] });
  assert.deepEqual(run(set('always', true), [null]), { result: { kind: 'bulk', value: null }, writes: [{ value: enc('new'), expiresAtMs: 0 }] });
  assert.deepEqual(run(set('always', false, { kind: 'keep' }), [rec('old', NOW + 5)]).writes, [{ value: enc('new'), expiresAtMs: NOW + 5 }]);
  assert.deepEqual(run(set('always', false, { kind: 'at', atMs: NOW + 1 }), [null]).writes, [{ value: enc('new'), expiresAtMs: NOW + 1 }]);
  assert.deepEqual(run(set('always', false, { kind: 'at', atMs: NOW }), [rec('old')]), { result: { kind: 'ok' }, writes: ['delete'] });
});

test('getdel and getex', () => {
  assert.deepEqual(run({ op: 'getdel' }, [rec('v')]), { result: { kind: 'bulk', value: enc('v') }, writes: ['delete'] });
  assert.deepEqual(run({ op: 'getdel' }, [null]), { result: { kind: 'bulk', value: null }, writes: [null] });
  assert.deepEqual(run({ op: 'getex', expiry: null }, [rec('v', NOW + 3)]), { result: { kind: 'bulk', value: enc('v') }, writes: [null] });
  assert.deepEqual(run({ op: 'getex', expiry: { kind: 'none' } }, [rec('v', NOW + 3)]).writes, [{ value: enc('v'), expiresAtMs: 0 }]);
  assert.deepEqual(run({ op: 'getex', expiry: { kind: 'none' } }, [rec('v')]).writes, [null], 'PERSIST of a key without TTL writes nothing');
  assert.deepEqual(run({ op: 'getex', expiry: { kind: 'at', atMs: NOW + 7 } }, [rec('v')]).writes, [{ value: enc('v'), expiresAtMs: NOW + 7 }]);
  assert.deepEqual(run({ op: 'getex', expiry: { kind: 'at', atMs: NOW - 1 } }, [rec('v')]), { result: { kind: 'bulk', value: enc('v') }, writes: ['delete'] });
  assert.deepEqual(run({ op: 'getex', expiry: { kind: 'at', atMs: NOW + 7 } }, [null]), { result: { kind: 'bulk', value: null }, writes: [null] });
});

test('expire NX/XX/GT/LT: no TTL counts as infinite; a past time deletes and answers 1', () => {
  const expire = (atMs: number, condition: 'always' | 'nx' | 'xx' | 'gt' | 'lt'): RmwOp => ({ op: 'expire', atMs, condition });
  const answer = (op: RmwOp, r: StoredRecordLike | null) => {
    const out = run(op, [r]);
    return [(out.result as { value: bigint }).value, out.writes[0]];
  };
  assert.deepEqual(answer(expire(NOW + 10, 'always'), null), [0n, null]);
  assert.deepEqual(answer(expire(NOW + 10, 'always'), rec('v')), [1n, { value: enc('v'), expiresAtMs: NOW + 10 }]);
  assert.deepEqual(answer(expire(NOW, 'always'), rec('v')), [1n, 'delete']);
  assert.deepEqual(answer(expire(NOW + 10, 'nx'), rec('v', NOW + 5)), [0n, null]);
  assert.deepEqual(answer(expire(NOW + 10, 'nx'), rec('v')), [1n, { value: enc('v'), expiresAtMs: NOW + 10 }]);
  assert.deepEqual(answer(expire(NOW + 10, 'xx'), rec('v')), [0n, null]);
  assert.deepEqual(answer(expire(NOW + 10, 'xx'), rec('v', NOW + 5)), [1n, { value: enc('v'), expiresAtMs: NOW + 10 }]);
  assert.deepEqual(answer(expire(NOW + 10, 'gt'), rec('v')), [0n, null], 'GT against no TTL (infinite) fails');
  assert.deepEqual(answer(expire(NOW + 5, 'gt'), rec('v', NOW + 5)), [0n, null]);
  assert.deepEqual(answer(expire(NOW + 6, 'gt'), rec('v', NOW + 5)), [1n, { value: enc('v'), expiresAtMs: NOW + 6 }]);
  assert.deepEqual(answer(expire(NOW + 10, 'lt'), rec('v')), [1n, { value: enc('v'), expiresAtMs: NOW + 10 }], 'LT against no TTL passes');
  assert.deepEqual(answer(expire(NOW + 5, 'lt'), rec('v', NOW + 5)), [0n, null]);
  assert.deepEqual(answer(expire(NOW - 100, 'lt'), rec('v', NOW + 5)), [1n, 'delete']);
  // XX with LT: the key must also have an expiry (LT alone passes on a key without one).
  assert.deepEqual(answer({ op: 'expire', atMs: NOW + 10, condition: 'lt', xx: true }, rec('v')), [0n, null]);
  assert.deepEqual(answer({ op: 'expire', atMs: NOW + 4, condition: 'lt', xx: true }, rec('v', NOW + 5)), [1n, { value: enc('v'), expiresAtMs: NOW + 4 }]);
});

test('persist and del', () => {
  assert.deepEqual(run({ op: 'persist' }, [rec('v', NOW + 1)]), { result: { kind: 'integer', value: 1n }, writes: [{ value: enc('v'), expiresAtMs: 0 }] });
  assert.deepEqual(run({ op: 'persist' }, [rec('v')]), { result: { kind: 'integer', value: 0n }, writes: [null] });
  assert.deepEqual(run({ op: 'persist' }, [null]), { result: { kind: 'integer', value: 0n }, writes: [null] });
  assert.deepEqual(run({ op: 'del' }, [rec('a'), null, rec('c')]), { result: { kind: 'integer', value: 2n }, writes: ['delete', null, 'delete'] });
});

test('rename and renamenx: TTL moves with the value; to itself; missing source', () => {
  assert.deepEqual(run({ op: 'rename', nx: false }, [rec('v', NOW + 4), rec('old')]), {
    result: { kind: 'ok' },
    writes: ['delete', { value: enc('v'), expiresAtMs: NOW + 4 }],
  });
  assert.deepEqual(run({ op: 'rename', nx: false }, [null, rec('old')]), { result: { kind: 'error', code: 'no-such-key' }, writes: [null, null] });
  assert.deepEqual(run({ op: 'rename', nx: true }, [rec('v'), rec('old')]), { result: { kind: 'integer', value: 0n }, writes: [null, null] });
  assert.deepEqual(run({ op: 'rename', nx: true }, [rec('v'), null]).result, { kind: 'integer', value: 1n });
  assert.deepEqual(run({ op: 'rename', nx: false }, [rec('v')]), { result: { kind: 'ok' }, writes: [null] });
  assert.deepEqual(run({ op: 'rename', nx: true }, [rec('v')]), { result: { kind: 'integer', value: 0n }, writes: [null] });
  assert.deepEqual(run({ op: 'rename', nx: true }, [null]).result, { kind: 'error', code: 'no-such-key' });
});

test('copy: value and TTL copied, the source kept; REPLACE; missing source; to itself', () => {
  const copied = { value: enc('v'), expiresAtMs: NOW + 4 };
  assert.deepEqual(run({ op: 'copy', replace: false }, [rec('v', NOW + 4), null]), { result: { kind: 'integer', value: 1n }, writes: [null, copied] });
  assert.deepEqual(run({ op: 'copy', replace: false }, [rec('v', NOW + 4), rec('old')]), { result: { kind: 'integer', value: 0n }, writes: [null, null] });
  assert.deepEqual(run({ op: 'copy', replace: true }, [rec('v', NOW + 4), rec('old', NOW + 9)]), { result: { kind: 'integer', value: 1n }, writes: [null, copied] });
  // A source without a TTL leaves the destination without one, whatever it had.
  assert.deepEqual(run({ op: 'copy', replace: true }, [rec('v'), rec('old', NOW + 9)]).writes, [null, { value: enc('v'), expiresAtMs: 0 }]);
  // No source: bulk null (Redis's 0, counted as a keyspace miss by RESP), nothing written.
  assert.deepEqual(run({ op: 'copy', replace: true }, [null, rec('old')]), { result: { kind: 'bulk', value: null }, writes: [null, null] });
  assert.deepEqual(run({ op: 'copy', replace: true }, [rec('v')]), { result: { kind: 'integer', value: 0n }, writes: [null] });
  assert.deepEqual(run({ op: 'copy', replace: false }, [null]), { result: { kind: 'bulk', value: null }, writes: [null] });
});

test('msetnx: all or nothing', () => {
  const values = [enc('1'), enc('2')];
  assert.deepEqual(run({ op: 'msetnx', values }, [null, null]), { result: { kind: 'integer', value: 1n }, writes: [{ value: enc('1'), expiresAtMs: 0 }, { value: enc('2'), expiresAtMs: 0 }] });
  assert.deepEqual(run({ op: 'msetnx', values }, [null, rec('x')]), { result: { kind: 'integer', value: 0n }, writes: [null, null] });
});

test('the expire op keeps its optional xx across the wire between nodes', async () => {
  const { decodeRmwOp, encodeRmwOp, MalformedRmwError } = await import('../../src/replication/rmw-wire.ts');
  const withXx: RmwOp = { op: 'expire', atMs: 5, condition: 'lt', xx: true };
  assert.deepEqual(decodeRmwOp(encodeRmwOp(withXx)), withXx);
  const plain: RmwOp = { op: 'expire', atMs: 5, condition: 'gt' };
  assert.deepEqual(decodeRmwOp(encodeRmwOp(plain)), plain);
  assert.throws(() => decodeRmwOp({ op: 'expire', atMs: 5, condition: 'lt', xx: 'yes' }), MalformedRmwError);
});
