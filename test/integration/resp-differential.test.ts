// Differential test: the same command sequences go to a real redis-server 7.0 and to one Shoal
// daemon's RESP port over raw sockets, and the replies are compared byte for byte. Scripted
// sequences cover every string/expiry command with its edge cases (wrong arity, overflow, negative,
// zero and huge expire times, options twice or in conflict, `-0`, spaces in numbers, binary keys);
// a seeded generator adds random sequences; a short script repeats the nulls and types in RESP3,
// and cross-slot commands go to a cluster-enabled redis-server. WRONGTYPE cannot be provoked: Shoal's keyspace holds
// strings only, so no command here ever meets another type.
//
// What must differ is listed in DIFFERENCES below, one entry each with its reason; nothing else
// may differ. The generator keeps to inputs where Redis and Shoal are meant to agree (same-slot
// keys for RENAME/MSETNX, expiries far enough away not to pass mid-test).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { freeClusterRedisPort, RawConnection, startRedis, type Arg } from './resp-raw.ts';

// ---------------------------------------------------------------------------------------------
// The one table of permitted differences.

interface Difference {
  /** The commands it applies to. */
  applies(name: string, args: Arg[]): boolean;
  why: string;
  /** True when the two replies count as the same here. */
  same(redis: string, shoal: string): boolean;
}

const integerOf = (reply: string): number | null => (/^:(-?\d+)\r\n$/.exec(reply) ? Number(reply.slice(1, -2)) : null);

/**
 * Equal, or both non-negative integers within `tolerance` of each other. The scripts use expiries
 * of 100 s and more, so a tolerance of 2 s still catches a wrong unit or a lost TTL (-1, -2).
 */
function closeIntegers(tolerance: number) {
  return (redis: string, shoal: string): boolean => {
    if (redis === shoal) return true;
    const a = integerOf(redis);
    const b = integerOf(shoal);
    return a !== null && b !== null && a >= 0 && b >= 0 && Math.abs(a - b) <= tolerance;
  };
}

const named = (...names: string[]) => (name: string): boolean => names.includes(name);

const DIFFERENCES: Difference[] = [
  {
    applies: named('PTTL'),
    why: 'remaining time depends on when each server received the command: ms apart, more on a loaded machine',
    same: closeIntegers(2000),
  },
  {
    applies: named('PEXPIRETIME'),
    why: 'a relative expiry (EX/PX/EXPIRE) becomes absolute at each server\'s own "now"',
    same: closeIntegers(2000),
  },
  {
    applies: named('EXPIRETIME', 'TTL'),
    why: 'as PTTL/PEXPIRETIME, in seconds: the ms apart can cross a rounding boundary',
    same: closeIntegers(2),
  },
  {
    applies: (name, args) => name === 'MEMORY' && typeof args[1] === 'string' && args[1].toUpperCase() === 'USAGE',
    why: "MEMORY USAGE of an existing key answers what its record costs a Shoal store (--max-memory's accounting), not Redis's structures",
    // `SET mk abc` is charged 216 bytes: 160 overhead + 24 for the key string + a 32-byte chunk for 25 + 3 bytes.
    same: (redis, shoal) => redis === shoal || ((integerOf(redis) ?? 0) > 0 && shoal === ':216\r\n'),
  },
  {
    applies: (name, args) => name === 'OBJECT' && typeof args[1] === 'string' && args[1].toUpperCase() === 'FREQ',
    why: "OBJECT FREQ answers how often the node's store saw the key used (W-TinyLFU's estimate, LFU's count), not Redis's logarithmic counter",
    same: (redis, shoal) => redis === shoal || ((integerOf(redis) ?? -1) >= 0 && (integerOf(shoal) ?? -1) >= 0),
  },
  {
    applies: (name, args) => name === 'OBJECT' && typeof args[1] === 'string' && args[1].toUpperCase() === 'IDLETIME',
    why: "Shoal's store keeps no access times: under allkeys-lru and noeviction, where Redis answers seconds, OBJECT IDLETIME answers an error that says so",
    same: (redis, shoal) => redis === shoal || ((integerOf(redis) ?? -1) >= 0 && shoal.startsWith("-ERR Shoal's store keeps no access times")),
  },
  {
    applies: (name, args) => name === 'OBJECT' && typeof args[1] === 'string' && args[1].toUpperCase() === 'REFCOUNT',
    why: 'Shoal shares no values: REFCOUNT is 1 where Redis answers INT_MAX for its shared integers 0..9999 (under noeviction, or without maxmemory)',
    same: (redis, shoal) => redis === shoal || (redis === ':2147483647\r\n' && shoal === ':1\r\n'),
  },
  {
    applies: (_name, args) => args[1] !== undefined && args[1].length === 0,
    why: "Shoal's keyspace refuses an empty key (ERR the key is empty); Redis accepts it",
    same: (redis, shoal) => redis === shoal || shoal === '-ERR the key is empty\r\n',
  },
];

function differenceFor(name: string, args: Arg[]): Difference | undefined {
  return DIFFERENCES.find((d) => d.applies(name, args));
}

// ---------------------------------------------------------------------------------------------
// The scripts.

const LONG_MAX = '9223372036854775807';
const LONG_MIN = '-9223372036854775808';

const SCRIPTS: Record<string, Arg[][]> = {
  'get/set/options': [
    ['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'missing'], ['get'], ['GET', 'a', 'b'], ['SET', 'k'],
    ['SET', 'k', 'v', 'NX'], ['SET', 'k', 'v2', 'XX'], ['SET', 'k', 'v3', 'nx', 'xx'], ['SET', 'k', 'v', 'xx', 'nx'],
    ['SET', 'k', 'v', 'NX', 'NX'], ['SET', 'k', 'v', 'GET', 'GET'], ['SET', 'k', 'v4', 'GET'], ['SET', 'nk', 'x', 'XX', 'GET'],
    ['SET', 'nk', 'x', 'NX', 'GET'], ['SET', 'k', 'v', 'EX', '100', 'PX', '100'], ['SET', 'k', 'v', 'EX', '100', 'EX', '200'],
    ['TTL', 'k'], ['SET', 'k', 'v', 'KEEPTTL'], ['TTL', 'k'], ['SET', 'k', 'v', 'KEEPTTL', 'EX', '5'], ['SET', 'k', 'v', 'EX', '5', 'KEEPTTL'],
    ['SET', 'k', 'v', 'EX'], ['SET', 'k', 'v', 'EX', '0'], ['SET', 'k', 'v', 'EX', '-1'], ['SET', 'k', 'v', 'PX', '0'],
    ['SET', 'k', 'v', 'EX', '-0'], ['SET', 'k', 'v', 'EX', ' 10'], ['SET', 'k', 'v', 'EX', '10 '], ['SET', 'k', 'v', 'EX', '+10'],
    ['SET', 'k', 'v', 'EX', '1.5'], ['SET', 'k', 'v', 'EX', '9223372036854776'], ['SET', 'k', 'v', 'EX', '9223372036854775'],
    ['SET', 'k', 'v', 'PX', LONG_MAX], ['SET', 'k', 'v', 'PXAT', LONG_MAX], ['SET', 'k', 'v', 'EXAT', '99999999999999999999'],
    ['SET', 'k', 'v', 'EXAT', '1'], ['GET', 'k'], ['SET', 'k', 'v', 'PXAT', '1', 'GET'], ['SET', 'k', 'v', 'PERSIST'],
    ['SET', 'k', 'v', 'foo'], ['SET', 'k', 'v', 'exat', '4000000000'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'],
    ['SET', 'k', 'v', 'px', '100000', 'nx'], ['SET', 'k', ''], ['GET', 'k'], ['STRLEN', 'k'],
  ],
  'setnx/setex/psetex/getset/getdel/getex': [
    ['SETNX', 'a', '1'], ['SETNX', 'a', '2'], ['GET', 'a'], ['SETNX', 'a'],
    ['SETEX', 'b', '100', 'v'], ['TTL', 'b'], ['SETEX', 'b', '0', 'v'], ['SETEX', 'b', '-5', 'v'], ['SETEX', 'b', 'x', 'v'],
    ['SETEX', 'b', '9223372036854776', 'v'], ['PSETEX', 'b', '100000', 'v'], ['PTTL', 'b'], ['PSETEX', 'b', '0', 'v'],
    ['PSETEX', 'b', LONG_MAX, 'v'], ['GETSET', 'b', 'w'], ['TTL', 'b'], ['GETSET', 'nob', 'w'], ['GET', 'nob'],
    ['GETDEL', 'b'], ['GETDEL', 'b'], ['GETDEL', 'b', 'c'],
    ['SET', 'g', 'v'], ['GETEX', 'g'], ['GETEX', 'g', 'EX', '100'], ['TTL', 'g'], ['GETEX', 'g', 'PERSIST'], ['TTL', 'g'],
    ['GETEX', 'g', 'PERSIST', 'EX', '10'], ['GETEX', 'g', 'EX', '10', 'PERSIST'], ['GETEX', 'g', 'EX', '10', 'PX', '10'],
    ['GETEX', 'g', 'KEEPTTL'], ['GETEX', 'g', 'NX'], ['GETEX', 'g', 'EX'], ['GETEX', 'g', 'EX', '0'], ['GETEX', 'g', 'EX', 'abc'],
    ['GETEX', 'nog', 'EX', '0'], ['GETEX', 'nog', 'EX', 'abc'], ['GETEX', 'nog', 'FOO'], ['GETEX', 'g', 'PXAT', '200000000000000'],
    ['PEXPIRETIME', 'g'], ['GETEX', 'g', 'EXAT', '1'], ['GET', 'g'], ['GETEX'],
  ],
  'mget/mset/msetnx/append/strlen/getrange/setrange': [
    ['MSET', 'a', '1', 'b', '2', 'a', '3'], ['MGET', 'a', 'b', 'nope'], ['MSET', 'a'], ['MSET', 'a', '1', 'b'], ['MGET'],
    ['MSETNX', '{t}x', '1', '{t}y', '2'], ['MSETNX', '{t}x', '1', '{t}z', '2'], ['MGET', '{t}x', '{t}y', '{t}z'],
    ['MSETNX', '{t}q', '1', '{t}q', '2'], ['GET', '{t}q'], ['MSETNX', '{t}x', '1', '{t}y'],
    ['APPEND', 'ap', 'Hello'], ['APPEND', 'ap', ' World'], ['GET', 'ap'], ['APPEND', 'ap', ''], ['APPEND', 'ap'], ['STRLEN', 'ap'], ['STRLEN', 'nope'],
    ['GETRANGE', 'ap', '0', '4'], ['GETRANGE', 'ap', '-5', '-1'], ['GETRANGE', 'ap', '-1', '-5'], ['GETRANGE', 'ap', '5', '1'],
    ['GETRANGE', 'ap', '0', '100'], ['GETRANGE', 'ap', '-100', '-100'], ['GETRANGE', 'ap', '-100', '100'], ['GETRANGE', 'nope', '0', '-1'],
    ['GETRANGE', 'ap', 'a', '1'], ['GETRANGE', 'ap', '0', LONG_MAX], ['GETRANGE', 'ap', LONG_MIN, LONG_MAX], ['GETRANGE', 'ap', '0'],
    ['SETRANGE', 'ap', '-1', 'x'], ['SETRANGE', 'ap', '6', 'Redis'], ['GET', 'ap'], ['SETRANGE', 'pad', '3', 'x'], ['GET', 'pad'],
    ['SETRANGE', 'pad', '9999999999', ''], ['SETRANGE', 'nopad', '9999999999', ''], ['EXISTS', 'nopad'], ['SETRANGE', 'ap', 'x', 'y'],
    ['SETRANGE', 'ap', '536870912', 'x'], ['SETRANGE', 'ap', LONG_MAX, 'x'], ['SETRANGE', 'ap', '0', ''],
    ['SET', 'ttlkeep', 'abc', 'EX', '100'], ['APPEND', 'ttlkeep', 'd'], ['TTL', 'ttlkeep'], ['SETRANGE', 'ttlkeep', '1', 'X'], ['TTL', 'ttlkeep'],
  ],
  'incr family': [
    ['INCR', 'n'], ['INCR', 'n'], ['DECR', 'n'], ['INCRBY', 'n', '10'], ['DECRBY', 'n', '3'], ['INCRBY', 'n', '-0'], ['INCRBY', 'n', ' 1'],
    ['INCRBY', 'n', '1 '], ['INCRBY', 'n', '+1'], ['INCRBY', 'n', '01'], ['INCRBY', 'n', ''], ['INCRBY', 'n', '1.0'], ['INCRBY', 'n', '99999999999999999999'],
    ['DECRBY', 'n', LONG_MIN], ['DECRBY', 'n', LONG_MAX], ['INCRBY', 'n', LONG_MIN], ['SET', 'n', LONG_MAX], ['INCR', 'n'], ['INCRBY', 'n', '0'],
    ['SET', 'n', LONG_MIN], ['DECR', 'n'], ['INCRBY', 'n', LONG_MAX], ['SET', 'n', '-0'], ['INCR', 'n'], ['SET', 'n', ' 5'], ['INCR', 'n'],
    ['SET', 'n', '5 '], ['INCR', 'n'], ['SET', 'n', '007'], ['INCR', 'n'], ['SET', 'n', 'abc'], ['DECR', 'n'], ['SET', 'n', ''], ['INCR', 'n'],
    ['SET', 'n', '10', 'EX', '100'], ['INCR', 'n'], ['TTL', 'n'], ['INCR'], ['INCR', 'n', 'x'], ['INCRBY', 'n'],
    ['SET', 'f', '10.50'], ['INCRBYFLOAT', 'f', '0.1'], ['INCRBYFLOAT', 'f', '-5.0e3'], ['INCRBYFLOAT', 'f', '0x10'], ['INCRBYFLOAT', 'f', 'nan'],
    ['INCRBYFLOAT', 'f', 'inf'], ['INCRBYFLOAT', 'f', '-inf'], ['INCRBYFLOAT', 'f', ' 1'], ['INCRBYFLOAT', 'f', '1 '], ['INCRBYFLOAT', 'f', '1e'],
    ['INCRBYFLOAT', 'f', '1e400'], ['INCRBYFLOAT', 'f', '1e5000'], ['INCRBYFLOAT', 'f', '1e-5000'], ['INCRBYFLOAT', 'f', '3.0e3'],
    ['INCRBYFLOAT', 'f', '.5'], ['INCRBYFLOAT', 'f', '5.'], ['INCRBYFLOAT', 'f', '.'], ['INCRBYFLOAT', 'f', '1e+2'], ['INCRBYFLOAT', 'f', '1e-'],
    ['INCRBYFLOAT', 'f', '0x'], ['INCRBYFLOAT', 'f', '0x1p3'], ['INCRBYFLOAT', 'f', '0x.8p1'], ['INCRBYFLOAT', 'f', '0x1p'], ['INCRBYFLOAT', 'f', '0x1e2'],
    ['INCRBYFLOAT', 'f', '0X1P-2'], ['INCRBYFLOAT', 'f', '1E1'], ['INCRBYFLOAT', 'f', '0x1p+0x'], ['INCRBYFLOAT', 'f', '1e0001'], ['INCRBYFLOAT', 'f', '1p3'],
    ['INCRBYFLOAT', 'nf', '0.1'], ['INCRBYFLOAT', 'nf', '0.2'], ['INCRBYFLOAT', 'nf', '-0.3'], ['INCRBYFLOAT', 'nf', '1.18973149535723176502e+4932'],
    ['SET', 'f', 'abc'], ['INCRBYFLOAT', 'f', '1'], ['SET', 'f', '1e10'], ['INCRBYFLOAT', 'f', '1'], ['INCRBYFLOAT', 'f', '-0'],
    ['SET', 'f', '5', 'PX', '100000'], ['INCRBYFLOAT', 'f', '1.5'], ['PTTL', 'f'], ['INCRBYFLOAT', 'f'],
  ],
  'del/unlink/exists/type/touch': [
    ['MSET', 'a', '1', 'b', '2', 'c', '3'], ['EXISTS', 'a', 'a', 'zz', 'b'], ['EXISTS'], ['TOUCH', 'a', 'zz'], ['TOUCH'],
    ['TYPE', 'a'], ['TYPE', 'zz'], ['TYPE'], ['DEL', 'a', 'a', 'b', 'zz'], ['UNLINK', 'c', 'c'], ['DEL'], ['UNLINK'], ['EXISTS', 'a', 'b', 'c'],
  ],
  'expire/ttl/persist': [
    ['SET', 'k', 'v'], ['TTL', 'k'], ['PTTL', 'k'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'], ['TTL', 'nokey'], ['PEXPIRETIME', 'nokey'],
    ['EXPIRE', 'k', '100', 'foo'], ['EXPIRE', 'k', '100', 'nx', 'xx'], ['EXPIRE', 'k', '100', 'gt', 'lt'], ['EXPIRE', 'k', '100', 'nx', 'gt'],
    ['EXPIRE', 'k', 'abc', 'foo'], ['EXPIRE', 'k', 'abc'], ['EXPIRE', 'k', ' 1'], ['EXPIRE', 'k', '1.5'],
    ['EXPIRE', 'k', '9223372036854776'], ['EXPIRE', 'k', '-9223372036854776'], ['PEXPIRE', 'k', LONG_MAX],
    ['EXPIRE', 'k', '100', 'GT'], ['EXPIRE', 'k', '100', 'XX'], ['EXPIRE', 'k', '100', 'XX', 'LT'], ['EXPIRE', 'k', '100', 'LT'], ['TTL', 'k'],
    ['EXPIRE', 'k', '200', 'NX'], ['EXPIRE', 'k', '200', 'XX', 'GT'], ['TTL', 'k'], ['EXPIRE', 'k', '150', 'GT'], ['EXPIRE', 'k', '150', 'LT'],
    ['TTL', 'k'], ['EXPIRE', 'k', '150', 'nx', 'nx'], ['PEXPIRE', 'k', '300000'], ['PTTL', 'k'], ['EXPIREAT', 'k', '4000000000'], ['EXPIRETIME', 'k'],
    ['PEXPIREAT', 'k', '4000000000123'], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k'], ['PERSIST', 'k'], ['PERSIST', 'k'], ['PERSIST', 'nokey'],
    ['EXPIRE', 'nokey', '100'], ['EXPIRE', 'k', '0'], ['EXISTS', 'k'], ['SET', 'k', 'v'], ['EXPIRE', 'k', '-5'], ['EXISTS', 'k'],
    ['SET', 'k', 'v'], ['EXPIREAT', 'k', '1'], ['EXISTS', 'k'], ['SET', 'k', 'v'], ['PEXPIREAT', 'k', LONG_MIN], ['EXISTS', 'k'],
    ['SET', 'k', 'v', 'EX', '100'], ['EXPIRE', 'k', '-1', 'LT'], ['EXISTS', 'k'], ['EXPIRE', 'k'], ['TTL'], ['PERSIST'],
  ],
  'rename': [
    ['RENAME', '{r}a', '{r}b'], ['RENAME', '{r}a', '{r}a'], ['RENAMENX', '{r}a', '{r}a'], ['SET', '{r}a', '1', 'EX', '100'],
    ['RENAME', '{r}a', '{r}a'], ['RENAMENX', '{r}a', '{r}a'], ['RENAME', '{r}a', '{r}b'], ['TTL', '{r}b'], ['EXISTS', '{r}a'],
    ['SET', '{r}c', '2'], ['RENAMENX', '{r}b', '{r}c'], ['RENAMENX', '{r}b', '{r}d'], ['MGET', '{r}a', '{r}b', '{r}c', '{r}d'],
    ['RENAME', '{r}d', '{r}c'], ['GET', '{r}c'], ['TTL', '{r}c'], ['RENAME', '{r}c'], ['RENAMENX', '{r}c', '{r}d', '{r}e'],
  ],
  // COPY with keys of one slot (the plain server has no slots, so DB n goes to the cluster script).
  'copy': [
    ['COPY'], ['COPY', '{c}a'], ['COPY', '{c}a', '{c}b'], ['SET', '{c}a', 'v', 'EX', '100'], ['COPY', '{c}a', '{c}a'],
    ['COPY', '{c}a', '{c}a', 'DB', '0'], ['COPY', '{c}a', '{c}b'], ['GET', '{c}b'], ['TTL', '{c}b'], ['TTL', '{c}a'],
    ['SET', '{c}a', 'w'], ['COPY', '{c}a', '{c}b'], ['GET', '{c}b'], ['COPY', '{c}a', '{c}b', 'REPLACE'], ['GET', '{c}b'],
    ['TTL', '{c}b'], ['COPY', '{c}a', '{c}b', 'replace', 'REPLACE', 'db', '0'], ['COPY', '{c}a', '{c}b', 'FOO'],
    ['COPY', '{c}a', '{c}b', 'DB'], ['COPY', '{c}a', '{c}b', 'DB', 'x'], ['COPY', '{c}a', '{c}b', 'DB', '99999999999'],
    ['COPY', '{c}a', '{c}b', 'DB', '-0'], ['COPY', '{c}a', '{c}b', 'DB', 'x', 'FOO'], ['COPY', '{c}a', '{c}b', 'FOO', 'DB', 'x'],
    ['COPY', '{c}a', '{c}b', 'REPLACE', 'DB'], ['COPY', '{c}a', '{c}a', 'FOO'], ['COPY', '{c}none', '{c}a'], ['COPY', '{c}none', '{c}a', 'REPLACE'],
    ['GET', '{c}a'], ['SET', '{c}e', '1', 'EX', '200'], ['COPY', '{c}a', '{c}e', 'REPLACE'], ['TTL', '{c}e'], ['GET', '{c}e'],
  ],
  // CONFIG SET maxmemory resizes the node's store (a budget it can take: at least 1mb, not 0, which
  // Shoal refuses; test/integration/resp-maxmemory.test.ts): every name is checked before any
  // value (an unknown one, then a repeated one), a value's error names the parameter as Redis
  // spells it; the test puts Shoal back on the budget --max-memory gave it after.
  'config set maxmemory': [
    ['CONFIG', 'SET', 'maxmemory', '300mb'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'MaxMemory', '2GB'], ['CONFIG', 'GET', 'MAXMEMORY'],
    ['CONFIG', 'SET', 'MAXMEMORY', 'abc'], ['CONFIG', 'SET', 'maxmemory', 'abc', 'nosuch', '1'], ['CONFIG', 'SET', 'maxmemory', '1', 'NoSuch', '2'],
    ['CONFIG', 'SET', 'maxmemory', '1mb', 'MAXMEMORY', '2mb'], ['CONFIG', 'SET', 'MAXMEMORY', 'abc', 'maxmemory', '1'],
    ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory', 'abc'], ['CONFIG', 'SET', 'Slowlog-Max-Len', 'x'], ['CONFIG', 'GET', 'maxmemory'],
  ],
  // MEMORY USAGE: options, errors and a missing key as Redis; an existing key's figure is Shoal's (DIFFERENCES).
  'memory usage': [
    ['MEMORY'], ['MEMORY', 'USAGE'], ['MEMORY', 'USAGE', 'mk'], ['SET', 'mk', 'abc'], ['MEMORY', 'USAGE', 'mk'],
    ['MEMORY', 'usage', 'mk', 'SAMPLES', '0'], ['MEMORY', 'USAGE', 'mk', 'samples', '5', 'SAMPLES', '7'], ['MEMORY', 'USAGE', 'mk', 'SAMPLES'],
    ['MEMORY', 'USAGE', 'mk', 'SAMPLES', 'x'], ['MEMORY', 'USAGE', 'mk', 'SAMPLES', '-1'], ['MEMORY', 'USAGE', 'mk', 'FOO'],
    ['MEMORY', 'USAGE', 'nokey', 'FOO'], ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', '1'], ['MEMORY', 'NOSUCH'], ['MEMORY', 'HELP', 'x'],
    ['MEMORY', 'DOCTOR', 'x'], ['memory', 'doctor', 'x', 'y'],
  ],
  'binary keys and values': [
    ['SET', new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x20]), new Uint8Array([0xc3, 0x28, 0, 0x80])],
    ['GET', new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x20])], ['APPEND', new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x20]), new Uint8Array([0])],
    ['STRLEN', new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x20])], ['SET', '', 'empty key'], ['GET', ''], ['SET', 'é€', '💡'], ['GET', 'é€'],
    ['EXPIRE', 'k', '100', new Uint8Array([0x6e, 0x78, 0, 0x41])],
  ],
  // Redis echoes the client's bytes in these errors as they are (up to a NUL), cut at 128 bytes,
  // inside a UTF-8 character if that is where 128 falls. ('é' here is the one byte 0xe9.)
  'errors that quote the command': [
    ['NOSUCH', 'a', 'b'], [new Uint8Array([0x46, 0x4f, 0xff]), new Uint8Array([0x61, 0xfe])], ['é'.repeat(200)], ['NOPE', 'x'.repeat(100), 'é'.repeat(40)],
    [new TextEncoder().encode('é'.repeat(100))], ['NOPE', new TextEncoder().encode('€'.repeat(50)), 'y'], ['NOPE', 'a\r\nb'],
    [new Uint8Array([0x41, 0, 0x42]), new Uint8Array([0x61, 0, 0x62])], ['CLIENT', new Uint8Array([0x78, 0xff])], ['CONFIG', new TextEncoder().encode('é'.repeat(100))],
    ['HELLO', '2', new Uint8Array([0x78, 0xff])], ['HELLO', '2', 'é'.repeat(200)], ['CLIENT', 'KILL', 'TYPE', new Uint8Array([0x78, 0xff])],
    ['ACL', 'CAT', new Uint8Array([0x78, 0xff])], ['ACL', 'CAT', 'é'.repeat(200)], ['EXPIRE', 'k', '100', new Uint8Array([0x78, 0xff])], ['EXPIRE', 'k', '100', 'é'.repeat(200)],
    ['CONFIG', 'SET', new Uint8Array([0x46, 0x6f, 0xff]), '1'], ['CONFIG', 'SET', 'maxmemory', '1', 'NoSuch', '2'],
  ],
};

/**
 * Keys in different slots, compared with a cluster-enabled redis-server that owns every slot
 * (the scripts above go to a plain one, which has no slots): RENAME, RENAMENX, MSETNX and COPY refuse
 * them with CROSSSLOT, before even the arity of MSETNX's pairs is checked.
 */
const CROSS_SLOT_SCRIPT: Arg[][] = [
  ['SET', 'a', '1'], ['RENAME', 'a', 'b'], ['RENAMENX', 'a', 'b'], ['RENAME', 'nokey', 'b'], ['MSETNX', 'a', '1', 'b', '2'],
  ['MSETNX', 'a', '1', 'b'], ['MSETNX', '{s}a', '1', '{s}b'], ['MSETNX', '{s}a', '1', '{s}b', '2'], ['RENAME', '{s}a', '{s}c'],
  ['RENAME', '{s}c', 'c'], ['GET', '{s}c'], ['GET', 'a'],
  // COPY: CROSSSLOT before its options are read; DB n other than 0 is Redis Cluster's refusal,
  // or out of range (a Redis Cluster node keeps its 16 databases: 0..15 parse as indexes).
  ['COPY', 'a', 'b'], ['COPY', 'a', 'b', 'FOO'], ['COPY', 'a', 'b', 'DB', '1'], ['COPY', 'nokey', 'b'], ['SET', '{s}a', '1'],
  ['COPY', '{s}a', '{s}b', 'DB', '1'], ['COPY', '{s}a', '{s}b', 'DB', '15'], ['COPY', '{s}a', '{s}b', 'DB', '16'], ['COPY', '{s}a', '{s}b', 'DB', '-1'],
  ['COPY', '{s}a', '{s}a', 'DB', '1'], ['COPY', '{s}a', '{s}a', 'DB', '0'], ['COPY', '{s}a', '{s}b', 'DB', '1', 'FOO'], ['COPY', '{s}a', '{s}b', 'DB', '0'],
  ['GET', '{s}b'], ['COPY', 'a', 'a'],
  // SELECT as a Redis Cluster node answers it (Shoal says it is one: HELLO's mode, INFO's
  // cluster_enabled, CLUSTER, MOVED): 0 only, any other integer refused as cluster mode.
  ['SELECT', '0'], ['SELECT', '1'], ['SELECT', '15'], ['SELECT', '16'], ['SELECT', '-1'], ['SELECT', 'x'], ['SELECT', '01'],
  ['SELECT', '-0'], ['SELECT', '2147483648'], ['SELECT', '-2147483649'], ['SELECT', ''], ['SELECT'], ['SELECT', '1', '2'], ['GET', '{s}b'],
];

/**
 * OBJECT, under each maxmemory-policy Shoal's store has a Redis name for (with a maxmemory, so
 * Redis shares no integers under the LRU and LFU policies). ENCODING is compared for values SET
 * wrote (and INCR), whose encoding follows from their bytes, and for values APPEND and SETRANGE
 * built in place, which Redis keeps `raw` however short (through EXPIRE, PERSIST, GETEX, RENAME
 * and COPY, until a write replaces the value), and for INCRBYFLOAT's text, which Redis keeps a
 * string, never `int`. The script leaves both on noeviction; the test puts
 * each back on its own default after it.
 */
const OBJECT_SCRIPT: Arg[][] = [
  ['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'ENCODING', 'oi', 'x'], ['OBJECT', 'NOSUCH'], ['OBJECT', 'nosuch', 'oi'],
  ['OBJECT', 'HELP'], ['object', 'help', 'x'], ['OBJECT', 'FREQ'], ['OBJECT', 'IDLETIME', 'a', 'b'], ['OBJECT', 'REFCOUNT'],
  ['CONFIG', 'SET', 'maxmemory', '1gb'], ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
  ['SET', 'oi', '123'], ['SET', 'on', '-5'], ['SET', 'oz', '0123'], ['SET', 'o-0', '-0'], ['SET', 'oe', 'hello'], ['SET', 'o+', '+1'],
  ['SET', 'o44', 'x'.repeat(44)], ['SET', 'o45', 'x'.repeat(45)], ['SET', 'o20', '99999999999999999999'], ['SET', 'o21', '100000000000000000000'],
  ['SET', 'omax', LONG_MAX], ['SET', 'omin', LONG_MIN], ['SET', 'oempty', ''], ['SET', 'o1e3', '1e3'], ['INCR', 'ocount'], ['SET', 'o10k', '10000'],
  ...['oi', 'on', 'oz', 'o-0', 'oe', 'o+', 'o44', 'o45', 'o20', 'o21', 'omax', 'omin', 'oempty', 'o1e3', 'ocount', 'o10k', 'nokey'].map((k): Arg[] => ['OBJECT', 'ENCODING', k]),
  // Built in place: APPEND to a held key (an empty one too, an integer too), SETRANGE (of a missing
  // key too); APPEND to a missing key stores its argument as SET does; SETRANGE of nothing changes nothing.
  ['SET', '{oa}a', 'abc'], ['APPEND', '{oa}a', 'd'], ['OBJECT', 'ENCODING', '{oa}a'], ['SET', 'oae', 'abc'], ['APPEND', 'oae', ''], ['OBJECT', 'ENCODING', 'oae'],
  ['SET', 'oai', '12'], ['APPEND', 'oai', '3'], ['OBJECT', 'ENCODING', 'oai'], ['APPEND', 'oan', 'xy'], ['OBJECT', 'ENCODING', 'oan'],
  ['APPEND', 'oani', '12'], ['OBJECT', 'ENCODING', 'oani'], ['SETRANGE', 'osn', '0', 'xy'], ['OBJECT', 'ENCODING', 'osn'],
  ['SET', 'os', 'abc'], ['SETRANGE', 'os', '1', 'X'], ['OBJECT', 'ENCODING', 'os'], ['SET', 'os0', 'abc'], ['SETRANGE', 'os0', '1', ''], ['OBJECT', 'ENCODING', 'os0'],
  ['SET', 'os45', 'x'.repeat(45)], ['SETRANGE', 'os45', '0', 'y'], ['OBJECT', 'ENCODING', 'os45'],
  // Kept by writes that keep the value, gone with those that replace it.
  ['EXPIRE', '{oa}a', '1000'], ['OBJECT', 'ENCODING', '{oa}a'], ['PERSIST', '{oa}a'], ['OBJECT', 'ENCODING', '{oa}a'],
  ['GETEX', '{oa}a', 'EX', '500'], ['OBJECT', 'ENCODING', '{oa}a'], ['RENAME', '{oa}a', '{oa}b'], ['OBJECT', 'ENCODING', '{oa}b'],
  ['COPY', '{oa}b', '{oa}c'], ['OBJECT', 'ENCODING', '{oa}c'], ['SET', '{oa}b', 'abc', 'KEEPTTL'], ['OBJECT', 'ENCODING', '{oa}b'],
  ['INCR', 'oai'], ['OBJECT', 'ENCODING', 'oai'], ['GETSET', 'os', 'abc'], ['OBJECT', 'ENCODING', 'os'],
  // INCRBYFLOAT's text is a string object (embstr up to 44 bytes, else raw), never int, until a write replaces it.
  ['SET', 'of', '1'], ['INCRBYFLOAT', 'of', '2'], ['OBJECT', 'ENCODING', 'of'], ['INCRBYFLOAT', 'ofn', '1.5'], ['OBJECT', 'ENCODING', 'ofn'],
  ['INCRBYFLOAT', 'of40', '1e40'], ['OBJECT', 'ENCODING', 'of40'], ['INCRBYFLOAT', 'of50', '1e50'], ['OBJECT', 'ENCODING', 'of50'],
  ['EXPIRE', 'of', '1000'], ['OBJECT', 'ENCODING', 'of'], ['RENAME', 'of', '{of}b'], ['OBJECT', 'ENCODING', '{of}b'],
  ['INCR', '{of}b'], ['OBJECT', 'ENCODING', '{of}b'], ['APPEND', 'ofn', '5'], ['OBJECT', 'ENCODING', 'ofn'], ['INCRBYFLOAT', 'ofn', '0'], ['OBJECT', 'ENCODING', 'ofn'],
  ['object', 'encoding', 'oi'], ['OBJECT', 'REFCOUNT', 'oi'], ['OBJECT', 'REFCOUNT', 'oe'], ['OBJECT', 'REFCOUNT', 'nokey'],
  ['OBJECT', 'FREQ', 'nokey'], ['OBJECT', 'IDLETIME', 'nokey'], ['OBJECT', 'IDLETIME', 'oi'], ['OBJECT', 'FREQ', 'oi'],
  ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'],
  ['OBJECT', 'FREQ', 'oi'], ['OBJECT', 'FREQ', 'nokey'], ['OBJECT', 'IDLETIME', 'oi'], ['OBJECT', 'IDLETIME', 'nokey'], ['OBJECT', 'REFCOUNT', 'oi'],
  ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
  ['OBJECT', 'FREQ', 'oi'], ['OBJECT', 'IDLETIME', 'oi'], ['OBJECT', 'REFCOUNT', 'oi'], ['OBJECT', 'REFCOUNT', 'o10k'], ['OBJECT', 'ENCODING', 'oi'],
];

/** After HELLO 3 (whose reply describes the server, so it is not compared): RESP3's null and types. */
const RESP3_SCRIPT: Arg[][] = [
  ['SET', 'r3', 'v'], ['GET', 'r3'], ['GET', 'r3missing'], ['SET', 'r3', 'w', 'NX'], ['SET', 'r3', 'w', 'NX', 'GET'],
  ['MGET', 'r3', 'r3missing'], ['GETDEL', 'r3missing'], ['GETEX', 'r3missing', 'EX', '0'], ['INCRBYFLOAT', 'r3f', '1.5'],
  ['TYPE', 'r3'], ['TYPE', 'r3missing'], ['TTL', 'r3'], ['INCR', 'r3'], ['RENAME', 'r3missing', 'r3missing'], ['EXISTS', 'r3', 'r3missing'],
  ['DEL', 'r3', 'r3f'], ['SETNX', 'r3', '1'],
  // probe-redis (s19): GETUSER's flags are a set (`~`); CACHING's error texts with tracking on in default mode.
  ['ACL', 'GETUSER', 'default'],
  ['CLIENT', 'TRACKING', 'ON'], ['CLIENT', 'CACHING', 'YES'], ['CLIENT', 'CACHING', 'NO'], ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'CACHING', 'YES'],
];

// ---------------------------------------------------------------------------------------------
// The random sequences: a seeded generator of commands over a small key space, so commands meet.

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Five seeds in CI; RESP_DIFF_SEEDS=N runs seeds 1..N for a deeper look on a quiet machine. */
const SEEDS = Array.from({ length: Number(process.env['RESP_DIFF_SEEDS'] ?? 5) }, (_, i) => i + 1);

function generator(seed: number): () => Arg[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  // RENAME and MSETNX take keys of one hash tag (one slot); the other commands also meet keys of
  // other partitions, so the per-partition fan-out of DEL/EXISTS/MGET/MSET is exercised.
  const tagged = (): string => pick(['{g}a', '{g}b', '{g}c', '{g}d']);
  const key = (): string => pick(['{g}a', '{g}b', '{g}c', '{g}d', 'p', 'q']);
  const int = (): string => pick(['0', '1', '-1', '7', '-0', ' 3', '+2', '100', '2.5', LONG_MAX, LONG_MIN, '9223372036854775806', 'x', '']);
  const float = (): string => pick(['0.1', '-0.2', '1e3', '3', '-3.75', '0x1p-2', '1e-20', 'inf', 'nan', ' 1', '1.5e300', '123456789.123456789']);
  const value = (): string => pick(['', 'v', '10', '-5', '3.14', 'hello world', '9223372036854775807', '1e3']);
  const seconds = (): string => pick(['100', '200', '0', '-1', '1000000', 'abc']);
  const setOptions = (): string[] => {
    const options: string[][] = [['NX'], ['XX'], ['GET'], ['KEEPTTL'], ['EX', seconds()], ['PX', '300000'], ['EXAT', '4000000000'], ['PXAT', '1'], ['FOO']];
    const n = Math.floor(random() * 3);
    return Array.from({ length: n }, () => pick(options)).flat();
  };
  const makers: (() => Arg[])[] = [
    () => ['GET', key()],
    () => ['SET', key(), value(), ...setOptions()],
    () => ['SETNX', key(), value()],
    () => ['SETEX', key(), seconds(), value()],
    () => ['GETSET', key(), value()],
    () => ['GETDEL', key()],
    () => ['GETEX', key(), ...pick([[], ['PERSIST'], ['EX', seconds()], ['PXAT', '1'], ['EXAT', '4000000000'], ['PERSIST', 'EX', '1']])],
    () => ['MGET', key(), key(), key()],
    () => ['MSET', key(), value(), key(), value()],
    () => ['MSETNX', tagged(), value(), tagged(), value()],
    () => ['APPEND', key(), value()],
    () => ['STRLEN', key()],
    () => ['GETRANGE', key(), int(), int()],
    () => ['SETRANGE', key(), pick(['0', '1', '5', '-1', 'x']), value()],
    () => ['INCR', key()],
    () => ['DECR', key()],
    () => ['INCRBY', key(), int()],
    () => ['DECRBY', key(), int()],
    () => ['INCRBYFLOAT', key(), float()],
    () => ['DEL', key(), key(), key()],
    () => ['UNLINK', key()],
    () => ['EXISTS', key(), key()],
    () => ['TYPE', key()],
    () => ['TOUCH', key()],
    () => [pick(['EXPIRE', 'PEXPIRE']), key(), pick(['100', '100000', '-1', '0', 'x']), ...pick([[], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'GT'], ['NX', 'LT']])],
    () => [pick(['EXPIREAT', 'PEXPIREAT']), key(), pick(['4000000000', '4000000000000', '1', '-5']), ...pick([[], ['GT'], ['LT']])],
    () => [pick(['TTL', 'EXPIRETIME']), key()],
    () => ['PERSIST', key()],
    () => [pick(['RENAME', 'RENAMENX']), tagged(), tagged()],
    () => ['COPY', tagged(), tagged(), ...pick([[], ['REPLACE'], ['DB', '0'], ['REPLACE', 'DB', '0'], ['DB', '0', 'REPLACE']])],
  ];
  return () => pick(makers)();
}

// ---------------------------------------------------------------------------------------------

const show = (args: Arg[]): string => args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : `<${Buffer.from(a).toString('hex')}>`)).join(' ');

test('Shoal answers the string and expiry commands byte for byte as redis-server 7.0', { timeout: 120_000 }, async (t) => {
  // The cluster-enabled server first: its port has a rule of its own, and once it listens (bus port
  // too) the other ports cannot be drawn on top of it.
  const clusterRedisPort = await freeClusterRedisPort();
  const clusterDir = mkdtempSync(join(tmpdir(), 'shoal-diff-'));
  const clusterRedis = await startRedis(clusterRedisPort, ['--cluster-enabled', 'yes', '--cluster-config-file', join(clusterDir, 'nodes.conf'), '--dir', clusterDir]);
  t.after(() => {
    clusterRedis.kill('SIGKILL');
    rmSync(clusterDir, { recursive: true, force: true });
  });
  const [redisPort, clientPort, peerPort, respPort] = await freePorts(4);
  const redis = await startRedis(redisPort!);
  t.after(() => redis.kill('SIGKILL'));
  const shoal = new DaemonProcess({ name: 'diff', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  t.after(() => shoal.stop());
  await shoal.start();
  const toRedis = await RawConnection.open(redisPort!);
  const toClusterRedis = await RawConnection.open(clusterRedisPort);
  const toShoal = await until('the RESP port', () => RawConnection.open(respPort!), 20_000);
  t.after(() => {
    toRedis.close();
    toClusterRedis.close();
    toShoal.close();
  });

  // The store budget --max-memory gave, which the scripts change and the test restores.
  const startBudget = /\r\n(\d+)\r\n$/.exec(await toShoal.command(['CONFIG', 'GET', 'maxmemory']))![1]!;
  const mismatches: string[] = [];
  const both = async (args: Arg[], where: string, reference = toRedis): Promise<void> => {
    const [fromRedis, fromShoal] = [await reference.command(args), await toShoal.command(args)];
    if (fromRedis === fromShoal) return;
    const name = typeof args[0] === 'string' ? args[0].toUpperCase() : '';
    if (differenceFor(name, args)?.same(fromRedis, fromShoal)) return;
    mismatches.push(`${where}: ${show(args)}\n    redis: ${JSON.stringify(fromRedis)}\n    shoal: ${JSON.stringify(fromShoal)}`);
  };

  let commands = 0;
  for (const [name, script] of Object.entries(SCRIPTS)) {
    for (const args of script) {
      await both(args, name);
      commands++;
    }
  }
  for (const args of OBJECT_SCRIPT) {
    await both(args, 'object');
    commands++;
  }
  // OBJECT looks its key up without using it (Redis's LOOKUP_NOTOUCH): under an LFU policy, FREQ
  // asked again, with the other subcommands between, answers the same each time on both (Redis
  // LFU_INIT_VAL, 5; Shoal its store's count); the lookups still count in keyspace_hits/misses.
  const keyspaceStats = async (to: RawConnection): Promise<string> => (await to.command(['INFO', 'stats'])).split('\r\n').filter((line) => line.startsWith('keyspace_')).join(' ');
  const untouched: Record<string, { freq: string[]; stats: string[] }> = {};
  for (const [name, to] of [['redis', toRedis], ['shoal', toShoal]] as const) {
    assert.equal(await to.command(['CONFIG', 'SET', 'maxmemory', '1gb', 'maxmemory-policy', 'allkeys-lfu']), '+OK\r\n');
    await to.command(['SET', 'ofreq', 'v']);
    const freq: string[] = [];
    const stats = [await keyspaceStats(to)];
    for (let i = 0; i < 5; i++) {
      freq.push(await to.command(['OBJECT', 'FREQ', 'ofreq']));
      for (const sub of ['ENCODING', 'REFCOUNT', 'IDLETIME']) await to.command(['OBJECT', sub, 'ofreq']);
      await to.command(['OBJECT', 'FREQ', 'ofreqmissing']);
    }
    stats.push(await keyspaceStats(to));
    assert.equal(await to.command(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']), '+OK\r\n');
    untouched[name] = { freq, stats };
  }
  const same = (answers: string[]): boolean => answers.every((a) => a === answers[0] && integerOf(a) !== null);
  if (!same(untouched['redis']!.freq) || !same(untouched['shoal']!.freq)) mismatches.push(`object: OBJECT FREQ asked 5 times answers ${JSON.stringify(untouched)}`);
  const counted = ({ stats }: { stats: string[] }): string => JSON.stringify(stats.map((line) => line.split(' ').map((f) => Number(f.split(':')[1]))).reduce((a, b) => b.map((n, i) => n - a[i]!)));
  if (counted(untouched['shoal']!) !== counted(untouched['redis']!)) mismatches.push(`object: keyspace_hits/misses counted by 20 OBJECT lookups of a key and 5 of a missing one: ${JSON.stringify(untouched)}`);
  // Each back on its own default, which they name differently (Shoal's W-TinyLFU has no Redis name),
  // and its own budget: none for Redis, --max-memory's default for Shoal (which refuses 0).
  assert.equal(await toRedis.command(['CONFIG', 'SET', 'maxmemory', '0']), '+OK\r\n');
  assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory', startBudget, 'maxmemory-policy', 'allkeys-wtinylfu']), '+OK\r\n');
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory']), `*2\r\n$9\r\nmaxmemory\r\n$${startBudget.length}\r\n${startBudget}\r\n`);
  // Under Shoal's default policy, OBJECT FREQ answers the store's estimate, which reads raise
  // (Redis has no such policy to compare with), and IDLETIME answers Redis's LFU error.
  const frequencyOf = async (key: string): Promise<number> => integerOf(await toShoal.command(['OBJECT', 'FREQ', key])) ?? -1;
  const before = await frequencyOf('oi');
  for (let i = 0; i < 8; i++) await toShoal.command(['GET', 'oi']);
  const after = await frequencyOf('oi');
  assert.ok(before >= 0 && after > before, `OBJECT FREQ oi: ${before} before 8 GETs, ${after} after`);
  assert.match(await toShoal.command(['OBJECT', 'IDLETIME', 'oi']), /^-ERR An LFU maxmemory policy is selected, idle time not tracked/);
  // MEMORY DOCTOR reports on the node's store (Redis's report is about its allocator): a bulk string, as Redis's in RESP2.
  assert.match(await toShoal.command(['MEMORY', 'DOCTOR']), /^\$\d+\r\nHi Sam, I can't find any memory issue in your instance\. .*This node's store: [\d.]+[BKMGT] of its [\d.]+[BKMGT] budget/);
  assert.equal(await toClusterRedis.command(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']), '+OK\r\n');
  await until('the cluster-enabled redis-server to own its slots', async () => ((await toClusterRedis.command(['CLUSTER', 'INFO'])).includes('cluster_state:ok') ? true : undefined), 20_000);
  await both(['DEL', 'a', 'b', 'c', '{s}a', '{s}b', '{s}c'], 'cross-slot');
  await toClusterRedis.command(['FLUSHALL']);
  for (const args of CROSS_SLOT_SCRIPT) {
    await both(args, 'cross-slot', toClusterRedis);
    commands++;
  }
  for (const seed of SEEDS) {
    const next = generator(seed);
    await both(['DEL', '{g}a', '{g}b', '{g}c', '{g}d', 'p', 'q'], `seed ${seed}`);
    for (let i = 0; i < 200; i++) {
      await both(next(), `seed ${seed} step ${i}`);
      commands++;
    }
  }
  await toRedis.command(['HELLO', '3']);
  await toShoal.command(['HELLO', '3']);
  // Both now speak RESP3: a missing key is `_`, not `$-1`.
  assert.equal(await toRedis.command(['GET', 'r3missing']), '_\r\n');
  assert.equal(await toShoal.command(['GET', 'r3missing']), '_\r\n');
  for (const args of RESP3_SCRIPT) {
    await both(args, 'resp3');
    commands++;
  }
  assert.ok(commands > 1000, `${commands} commands compared`);
  assert.deepEqual(mismatches, [], `${mismatches.length} replies differ:\n${mismatches.slice(0, 30).join('\n')}`);
});
