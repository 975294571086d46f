// The string and expiry commands in-process over a MemoryKv with a fake clock, their replies
// written as RESP2 text. Expected texts are what redis-server 7.0.15 answers to the same input
// (the differential test, test/integration/resp-differential.test.ts, checks them against a real
// one end to end); here the clock is ours, so TTL arithmetic is checked exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandSpec, ConnectionState, ReplyWriter, RespServerContext } from '../../src/resp/command.ts';
import { kvErrorText } from '../../src/resp/args.ts';
import { CommandTable } from '../../src/resp/commands.ts';
import { expireCommands } from '../../src/resp/expire-commands.ts';
import { stringCommands } from '../../src/resp/string-commands.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';
import type { KeyspaceService } from '../../src/replication/api.ts';

/** A ReplyWriter that writes RESP2 into a string. */
function textWriter(): ReplyWriter & { text: string } {
  const w = {
    protocol: 2 as const,
    text: '',
    simple: (t: string) => void (w.text += `+${t}\r\n`),
    ok: () => void (w.text += '+OK\r\n'),
    error: (t: string) => void (w.text += `-${t}\r\n`),
    integer: (v: number | bigint) => void (w.text += `:${v}\r\n`),
    bulk: (v: Uint8Array | string | null) => {
      if (v === null) w.text += '$-1\r\n';
      else {
        const b = typeof v === 'string' ? Buffer.from(v) : Buffer.from(v);
        w.text += `$${b.length}\r\n${b.toString('latin1')}\r\n`;
      }
    },
    nullArray: () => void (w.text += '*-1\r\n'),
    array: (n: number) => void (w.text += `*${n}\r\n`),
    map: (n: number) => void (w.text += `*${2 * n}\r\n`),
    set: (n: number) => void (w.text += `*${n}\r\n`),
    double: (v: number) => w.bulk(String(v)),
    boolean: (v: boolean) => w.integer(v ? 1 : 0),
    verbatim: (_f: string, t: string) => w.bulk(t),
    push: (n: number) => void (w.text += `*${n}\r\n`),
  };
  return w;
}

const commandTable = new CommandTable();
const table = new Map<string, CommandSpec>([...stringCommands, ...expireCommands].map((s) => [s.name, s]));

function server(start = 1_700_000_000_000) {
  let now = start;
  const kv = new MemoryKv({ wallMs: () => now });
  const context: RespServerContext = {
    keyspace: kv as unknown as KeyspaceService,
    nowMs: () => now,
    topology: () => kv.topology(),
    route: () => null,
    stats: { keyspaceHits: 0, keyspaceMisses: 0 },
  };
  const connection = { id: 1, name: '', protocol: 2, address: '127.0.0.1:1', readonly: false, closeAfterReply: false } as ConnectionState;
  /** Runs one command (arity checked as the command table does) and returns its RESP2 reply. */
  const run = (...args: (string | Uint8Array)[]): string => {
    const argv = args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a));
    const w = textWriter();
    let calls = 0;
    commandTable.dispatch({ server: context, connection }, argv, w, () => calls++);
    assert.equal(calls, 1, `${String(args[0])} calls done once`);
    return w.text;
  };
  return { run, advance: (ms: number) => (now += ms), now: () => now, stats: context.stats };
}

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const NIL = '$-1\r\n';
const OK = '+OK\r\n';
const int = (n: number | string) => `:${n}\r\n`;
const err = (t: string) => `-${t}\r\n`;

test('specs: arity, flags, keys and categories as COMMAND INFO of Redis 7.0.15', () => {
  const s = (name: string) => {
    const c = table.get(name)!;
    return `${c.arity} ${c.flags.join(',')} ${c.keys.join(',')} ${c.categories.map((x) => '@' + x).sort().join(',')}`;
  };
  assert.equal(s('get'), '2 readonly,fast 1,1,1 @fast,@read,@string');
  assert.equal(s('set'), '-3 write,denyoom 1,1,1 @slow,@string,@write');
  assert.equal(s('mset'), '-3 write,denyoom 1,-1,2 @slow,@string,@write');
  assert.equal(s('getrange'), '4 readonly 1,1,1 @read,@slow,@string');
  assert.equal(s('del'), '-2 write 1,-1,1 @keyspace,@slow,@write');
  assert.equal(s('unlink'), '-2 write,fast 1,-1,1 @fast,@keyspace,@write');
  assert.equal(s('rename'), '3 write 1,2,1 @keyspace,@slow,@write');
  assert.equal(s('renamenx'), '3 write,fast 1,2,1 @fast,@keyspace,@write');
  assert.equal(s('copy'), '-3 write,denyoom 1,2,1 @keyspace,@slow,@write');
  assert.equal(s('ttl'), '2 readonly,fast 1,1,1 @fast,@keyspace,@read');
  assert.equal(table.size, 37);
});

test('SET options, their conflicts and expire errors', () => {
  const { run } = server();
  assert.equal(run('SET', 'k', 'v', 'ex', '10', 'px', '10'), err('ERR syntax error'));
  assert.equal(run('SET', 'k', 'v', 'nx', 'xx'), err('ERR syntax error'));
  assert.equal(run('SET', 'k', 'v', 'ex'), err('ERR syntax error'));
  assert.equal(run('SET', 'k', 'v', 'keepttl', 'ex', '1'), err('ERR syntax error'));
  assert.equal(run('SET', 'k', 'v', 'persist'), err('ERR syntax error'));
  assert.equal(run('SET', 'k', 'v', 'ex', '0'), err("ERR invalid expire time in 'set' command"));
  assert.equal(run('SET', 'k', 'v', 'ex', '-1'), err("ERR invalid expire time in 'set' command"));
  assert.equal(run('SET', 'k', 'v', 'ex', '9223372036854776'), err("ERR invalid expire time in 'set' command"));
  assert.equal(run('SET', 'k', 'v', 'px', '9223372036854775807'), err("ERR invalid expire time in 'set' command"));
  assert.equal(run('SET', 'k', 'v', 'ex', ' 1'), err('ERR value is not an integer or out of range'));
  assert.equal(run('SET', 'k', 'v', 'EX', '5', 'ex', '7'), OK, 'the same option twice: the last counts');
  assert.equal(run('TTL', 'k'), int(7));
  assert.equal(run('SET', 'k', 'v2', 'NX', 'GET'), bulk('v'));
  assert.equal(run('SET', 'k', 'v2', 'XX', 'GET', 'KEEPTTL'), bulk('v'));
  assert.equal(run('TTL', 'k'), int(7));
  assert.equal(run('SET', 'k', 'v3'), OK);
  assert.equal(run('TTL', 'k'), int(-1));
  assert.equal(run('SET', 'new', 'x', 'XX'), NIL);
  assert.equal(run('SET', 'new', 'x', 'NX'), OK);
  assert.equal(run('SET', 'new', 'y', 'NX'), NIL);
  assert.equal(run('SET', 'gone', 'x', 'PXAT', '1'), OK);
  assert.equal(run('EXISTS', 'gone'), int(0));
});

test('SETNX, SETEX, PSETEX, GETSET, GETDEL', () => {
  const { run } = server();
  assert.equal(run('SETNX', 'a', '1'), int(1));
  assert.equal(run('SETNX', 'a', '2'), int(0));
  assert.equal(run('SETEX', 'b', '0', 'v'), err("ERR invalid expire time in 'setex' command"));
  assert.equal(run('PSETEX', 'b', '1500', 'v'), OK);
  assert.equal(run('PTTL', 'b'), int(1500));
  assert.equal(run('TTL', 'b'), int(2), 'seconds round to nearest');
  assert.equal(run('GETSET', 'b', 'w'), bulk('v'));
  assert.equal(run('TTL', 'b'), int(-1), 'GETSET drops the TTL');
  assert.equal(run('GETDEL', 'b'), bulk('w'));
  assert.equal(run('GETDEL', 'b'), NIL);
});

test('GETEX: missing key answers nil before the time is checked', () => {
  const { run, advance } = server();
  assert.equal(run('GETEX', 'nokey', 'EX', '-1'), NIL);
  assert.equal(run('GETEX', 'nokey', 'EX', 'abc'), NIL);
  assert.equal(run('GETEX', 'nokey', 'PERSIST', 'EX', '1'), err('ERR syntax error'));
  run('SET', 'k', 'v');
  assert.equal(run('GETEX', 'k', 'EX', '-1'), err("ERR invalid expire time in 'getex' command"));
  assert.equal(run('GETEX', 'k', 'PX', '2000'), bulk('v'));
  assert.equal(run('PTTL', 'k'), int(2000));
  assert.equal(run('GETEX', 'k', 'PERSIST'), bulk('v'));
  assert.equal(run('PTTL', 'k'), int(-1));
  assert.equal(run('GETEX', 'k', 'PXAT', '5'), bulk('v'));
  assert.equal(run('GET', 'k'), NIL);
  run('SET', 'k', 'v', 'PX', '10');
  advance(10);
  assert.equal(run('GET', 'k'), NIL, 'expired at its time');
});

test('MGET, MSET, MSETNX, APPEND, STRLEN, GETRANGE, SETRANGE', () => {
  const { run } = server();
  assert.equal(run('MSET', 'a', '1', 'b'), err("ERR wrong number of arguments for 'mset' command"));
  assert.equal(run('MSET', 'a', '1', 'b', '2', 'a', '3'), OK);
  assert.equal(run('MGET', 'a', 'b', 'c'), `*3\r\n${bulk('3')}${bulk('2')}${NIL}`);
  assert.equal(run('MSETNX', '{t}x', '1', '{t}y', '2'), int(1));
  assert.equal(run('MSETNX', '{t}x', '1', '{t}z', '2'), int(0));
  assert.equal(run('APPEND', 'a', 'bc'), int(3));
  assert.equal(run('STRLEN', 'a'), int(3));
  assert.equal(run('STRLEN', 'none'), int(0));
  assert.equal(run('SET', 's', 'Hello World'), OK);
  assert.equal(run('GETRANGE', 's', '0', '4'), bulk('Hello'));
  assert.equal(run('GETRANGE', 's', '-5', '-1'), bulk('World'));
  assert.equal(run('GETRANGE', 's', '-1', '-5'), bulk(''));
  assert.equal(run('GETRANGE', 's', '5', '1'), bulk(''));
  assert.equal(run('GETRANGE', 's', '0', '100'), bulk('Hello World'));
  assert.equal(run('GETRANGE', 's', '-100', '-100'), bulk('H'));
  assert.equal(run('GETRANGE', 'none', '0', '-1'), bulk(''));
  assert.equal(run('GETRANGE', 's', 'a', '1'), err('ERR value is not an integer or out of range'));
  assert.equal(run('SETRANGE', 's', '-1', 'x'), err('ERR offset is out of range'));
  assert.equal(run('SETRANGE', 's', '6', 'Redis'), int(11));
  assert.equal(run('GET', 's'), bulk('Hello Redis'));
  assert.equal(run('SETRANGE', 'pad', '3', 'x'), int(4));
  assert.equal(run('GET', 'pad'), bulk('\0\0\0x'));
  assert.equal(run('SETRANGE', 'pad', '9999999999', ''), int(4));
  assert.equal(run('SETRANGE', 'pad', '536870912', 'x'), err('ERR string exceeds maximum allowed size (proto-max-bulk-len)'));
});

test('INCR family', () => {
  const { run } = server();
  assert.equal(run('INCR', 'n'), int(1));
  assert.equal(run('DECRBY', 'n', '5'), int(-4));
  assert.equal(run('INCRBY', 'n', '-0'), err('ERR value is not an integer or out of range'));
  assert.equal(run('INCRBY', 'n', ' 1'), err('ERR value is not an integer or out of range'));
  assert.equal(run('DECRBY', 'n', '-9223372036854775808'), err('ERR decrement would overflow'));
  run('SET', 'n', '9223372036854775807');
  assert.equal(run('INCR', 'n'), err('ERR increment or decrement would overflow'));
  run('SET', 'n', '-9223372036854775808');
  assert.equal(run('DECR', 'n'), err('ERR increment or decrement would overflow'));
  run('SET', 'n', '10', 'EX', '100');
  assert.equal(run('INCRBYFLOAT', 'n', '0.1'), bulk('10.1'));
  assert.equal(run('TTL', 'n'), int(100), 'INCRBYFLOAT keeps the TTL');
  assert.equal(run('INCRBYFLOAT', 'n', 'nan'), err('ERR value is not a valid float'));
  assert.equal(run('INCRBYFLOAT', 'n', 'inf'), err('ERR increment would produce NaN or Infinity'));
  assert.equal(run('INCR', 'n'), err('ERR value is not an integer or out of range'));
});

test('DEL, UNLINK, EXISTS, TOUCH, TYPE count keys as Redis does', () => {
  const { run } = server();
  run('MSET', 'a', '1', 'b', '2', 'c', '3');
  assert.equal(run('EXISTS', 'a', 'a', 'zz', 'b'), int(3), 'EXISTS counts a repeated key each time');
  assert.equal(run('TOUCH', 'a', 'zz'), int(1));
  assert.equal(run('TYPE', 'a'), '+string\r\n');
  assert.equal(run('TYPE', 'zz'), '+none\r\n');
  assert.equal(run('DEL', 'a', 'a', 'b', 'zz'), int(2), 'DEL deletes a repeated key once');
  assert.equal(run('UNLINK', 'c'), int(1));
  assert.equal(run('EXISTS', 'a', 'b', 'c'), int(0));
});

test('EXPIRE family, TTL family, PERSIST', () => {
  const { run, now } = server();
  run('SET', 'k', 'v');
  assert.equal(run('EXPIRE', 'k', '10', 'foo'), err('ERR Unsupported option foo'));
  assert.equal(run('EXPIRE', 'k', 'abc', 'nx', 'xx'), err('ERR NX and XX, GT or LT options at the same time are not compatible'));
  assert.equal(run('EXPIRE', 'k', '10', 'gt', 'lt'), err('ERR GT and LT options at the same time are not compatible'));
  assert.equal(run('EXPIRE', 'k', '9223372036854776'), err("ERR invalid expire time in 'expire' command"));
  assert.equal(run('PEXPIREAT', 'k', '9223372036854775807'), int(1), 'absolute: no base time to overflow');
  assert.equal(run('PERSIST', 'k'), int(1));
  assert.equal(run('PEXPIRE', 'k', '9223372036854775807'), err("ERR invalid expire time in 'pexpire' command"));
  assert.equal(run('EXPIRE', 'k', '10', 'GT'), int(0), 'GT against no TTL');
  assert.equal(run('EXPIRE', 'k', '10', 'XX', 'LT'), int(0), 'XX LT needs a TTL');
  assert.equal(run('EXPIRE', 'k', '10', 'LT'), int(1));
  assert.equal(run('EXPIRE', 'k', '20', 'NX'), int(0));
  assert.equal(run('EXPIRE', 'k', '20', 'XX', 'GT'), int(1));
  assert.equal(run('TTL', 'k'), int(20));
  assert.equal(run('EXPIRETIME', 'k'), int(Math.floor((now() + 20_000 + 500) / 1000)));
  assert.equal(run('PEXPIRETIME', 'k'), int(now() + 20_000));
  assert.equal(run('TTL', 'nokey'), int(-2));
  assert.equal(run('EXPIRE', 'nokey', '10'), int(0));
  assert.equal(run('PERSIST', 'k'), int(1));
  assert.equal(run('PERSIST', 'k'), int(0));
  assert.equal(run('EXPIRETIME', 'k'), int(-1));
  assert.equal(run('EXPIRE', 'k', '-5'), int(1), 'a past time deletes');
  assert.equal(run('EXISTS', 'k'), int(0));
});

test('RENAME and RENAMENX', () => {
  const { run } = server();
  assert.equal(run('RENAME', '{r}a', '{r}b'), err('ERR no such key'));
  assert.equal(run('RENAME', '{r}a', '{r}a'), err('ERR no such key'));
  run('SET', '{r}a', '1', 'EX', '50');
  assert.equal(run('RENAME', '{r}a', '{r}a'), OK);
  assert.equal(run('RENAMENX', '{r}a', '{r}a'), int(0));
  assert.equal(run('RENAME', '{r}a', '{r}b'), OK);
  assert.equal(run('TTL', '{r}b'), int(50));
  run('SET', '{r}c', '2');
  assert.equal(run('RENAMENX', '{r}b', '{r}c'), int(0));
  assert.equal(run('RENAMENX', '{r}b', '{r}d'), int(1));
  assert.equal(run('MGET', '{r}a', '{r}b', '{r}d'), `*3\r\n${NIL}${NIL}${bulk('1')}`);
});

test('COPY: value and TTL, REPLACE, options and errors as Redis Cluster; the source read counts as a hit or miss', () => {
  const { run, stats } = server();
  assert.equal(run('COPY', '{c}a', '{c}b'), int(0));
  assert.equal(`${stats.keyspaceHits}/${stats.keyspaceMisses}`, '0/1');
  run('SET', '{c}a', '1', 'EX', '50');
  assert.equal(run('COPY', '{c}a', '{c}b'), int(1));
  assert.equal(run('TTL', '{c}b'), int(50));
  assert.equal(run('GET', '{c}a'), bulk('1'));
  run('SET', '{c}a', '2');
  assert.equal(run('COPY', '{c}a', '{c}b'), int(0));
  assert.equal(`${stats.keyspaceHits}/${stats.keyspaceMisses}`, '4/1', 'both COPYs read their source (TTL and GET too)');
  assert.equal(run('COPY', '{c}a', '{c}b', 'db', '0', 'replace'), int(1));
  assert.equal(run('TTL', '{c}b'), int(-1));
  assert.equal(run('GET', '{c}b'), bulk('2'));
  assert.equal(run('COPY', '{c}a', '{c}a'), err('ERR source and destination objects are the same'));
  assert.equal(run('COPY', '{c}a', '{c}b', 'DB', '3'), err('ERR Copying to another database is not allowed in cluster mode'));
  assert.equal(run('COPY', '{c}a', '{c}b', 'DB', '16'), err('ERR DB index is out of range'));
  assert.equal(run('COPY', '{c}a', '{c}b', 'DB', 'x'), err('ERR value is not an integer or out of range'));
  assert.equal(run('COPY', '{c}a', '{c}b', 'DB'), err('ERR syntax error'));
  assert.equal(run('COPY', 'a', 'b', 'DB'), err("CROSSSLOT Keys in request don't hash to the same slot"));
  assert.equal(run('COPY', 'a'), err("ERR wrong number of arguments for 'copy' command"));
});

test('binary keys and values pass through untouched', () => {
  const { run } = server();
  const key = new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x20]);
  const value = new Uint8Array([0xc3, 0x28, 0, 0x80]);
  assert.equal(run('SET', key, value), OK);
  assert.equal(run('GET', key), `$4\r\n${Buffer.from(value).toString('latin1')}\r\n`);
  assert.equal(run('APPEND', key, new Uint8Array([1])), int(5));
});

test('arity errors come from the command table with Redis\'s text', () => {
  const { run } = server();
  assert.equal(run('get'), err("ERR wrong number of arguments for 'get' command"));
  assert.equal(run('SETRANGE', 'k', '1'), err("ERR wrong number of arguments for 'setrange' command"));
  assert.equal(run('DEL'), err("ERR wrong number of arguments for 'del' command"));
});

test('reads count keyspace hits and misses (INFO stats), writes do not', () => {
  const { run, stats } = server();
  run('SET', 'a', '1');
  run('INCR', 'a');
  assert.deepEqual(stats, { keyspaceHits: 0, keyspaceMisses: 0 });
  run('GET', 'a');
  run('MGET', 'a', 'b');
  run('EXISTS', 'b');
  run('GETSET', 'c', 'x');
  assert.deepEqual(stats, { keyspaceHits: 2, keyspaceMisses: 3 });
});

test('RENAME, RENAMENX and MSETNX across slots answer CROSSSLOT; MGET, MSET, DEL, EXISTS work across them', () => {
  const { run } = server();
  const crossSlot = err("CROSSSLOT Keys in request don't hash to the same slot");
  assert.equal(run('MSET', 'a', '1', 'b', '2'), OK);
  assert.equal(run('RENAME', 'a', 'b'), crossSlot);
  assert.equal(run('RENAMENX', 'a', 'b'), crossSlot);
  assert.equal(run('MSETNX', 'x', '1', 'y', '2'), crossSlot);
  assert.equal(run('MSETNX', 'x', '1', 'y'), crossSlot, 'the slot check comes before the pairs check, as in Redis Cluster');
  assert.equal(run('MGET', 'a', 'b'), `*2\r\n${bulk('1')}${bulk('2')}`);
  assert.equal(run('EXISTS', 'a', 'b', 'c'), int(2));
  assert.equal(run('DEL', 'a', 'b', 'c'), int(2));
});

test('keyspace failures map to Redis-style errors: values too large as Redis words it, keys as they are', () => {
  assert.equal(kvErrorText({ code: 'too-large', message: 'value of 9 bytes exceeds the 8-byte limit' }), 'ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  assert.equal(kvErrorText({ code: 'too-large', message: 'key of 9 bytes exceeds the 8-byte limit' }), 'ERR key of 9 bytes exceeds the 8-byte limit');
  assert.equal(kvErrorText({ code: 'unavailable', message: 'only 1 of 2 replicas\r\nanswered' }), 'CLUSTERDOWN only 1 of 2 replicas answered');
  assert.equal(kvErrorText({ code: 'timeout', message: 'no answer' }), 'TRYAGAIN no answer');
  assert.equal(kvErrorText({ code: 'bad-request', message: 'the key is empty' }), 'ERR the key is empty');
});
