// CONFIG SET/GET maxmemory-policy and noeviction's OOM reply, against a real redis-server 7.0: the
// policy names and the OOM error bytes (of plain writes and of read-modify-write commands) must be
// Redis's. The refusal travels from the replica's store through the coordinator to the RESP reply
// (replica-host.ts `wo`, rmw-primary.ts for read-modify-write, coordinator.ts
// `out-of-memory`, args.ts). Differences by design: Shoal's default policy (adaptive W-TinyLFU)
// answers as `allkeys-wtinylfu`, and Redis's volatile-* and allkeys-random policies are refused;
// once full, Redis refuses every write command, Shoal only a write that does not fit (an INCR of a
// held key that keeps its size still runs).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection, startRedis } from './resp-raw.ts';

const OOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
/** Writes of this size fill either budget within MAX_WRITES. */
const VALUE = 'v'.repeat(10_000);
const MAX_WRITES = 2000;

/** SETs distinct keys until the first error reply; returns it and how many writes succeeded. */
async function fillUntilError(connection: RawConnection): Promise<{ error: string; written: number }> {
  for (let i = 0; i < MAX_WRITES; i++) {
    const reply = await connection.command(['SET', `fill:${i}`, VALUE]);
    if (reply.startsWith('-')) return { error: reply, written: i };
    assert.equal(reply, '+OK\r\n');
  }
  throw new Error(`no error after ${MAX_WRITES} writes`);
}

/** A redis-server started with `redisArgs` and a one-node Shoal with `--max-memory maxMemory`, a raw connection to each; all stopped after the test. */
async function redisAndShoal(t: TestContext, redisArgs: string[], maxMemory: string): Promise<{ toRedis: RawConnection; toShoal: RawConnection }> {
  const [redisPort, clientPort, peerPort, respPort] = await freePorts(4);
  const redis = await startRedis(redisPort!, redisArgs);
  t.after(() => redis.kill('SIGKILL'));
  const shoal = new DaemonProcess({ name: 'oom', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort), '--max-memory', maxMemory] });
  t.after(() => shoal.stop());
  await shoal.start();
  const toRedis = await RawConnection.open(redisPort!);
  const toShoal = await until('the RESP port', () => RawConnection.open(respPort!), 20_000);
  t.after(() => {
    toRedis.close();
    toShoal.close();
  });
  return { toRedis, toShoal };
}

test('CONFIG SET maxmemory-policy and noeviction\'s OOM reply are byte for byte redis-server 7.0\'s', { timeout: 120_000 }, async (t) => {
  // Redis's used_memory starts near 1 MB; 4 MB leaves room for a few hundred writes.
  const { toRedis, toShoal } = await redisAndShoal(t, ['--maxmemory', '4mb'], '1mib');
  const both = async (...args: string[]): Promise<string> => {
    const [fromRedis, fromShoal] = [await toRedis.command(args), await toShoal.command(args)];
    assert.equal(fromShoal, fromRedis, args.join(' '));
    return fromShoal;
  };

  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory-policy']), '*2\r\n$16\r\nmaxmemory-policy\r\n$16\r\nallkeys-wtinylfu\r\n');
  for (const policy of ['allkeys-lfu', 'ALLKEYS-LRU', 'noeviction']) {
    await both('CONFIG', 'SET', 'maxmemory-policy', policy);
    await both('CONFIG', 'GET', 'maxmemory-policy');
  }

  const [fromRedis, fromShoal] = [await fillUntilError(toRedis), await fillUntilError(toShoal)];
  assert.equal(fromRedis.error, OOM);
  assert.equal(fromShoal.error, OOM);
  assert.ok(fromShoal.written > 10, `shoal took ${fromShoal.written} writes of ${VALUE.length} bytes before refusing`);
  // The refused write changed nothing: an earlier value is still there, a refused key is absent.
  await both('GET', 'fill:0');
  assert.equal(await toShoal.command(['EXISTS', `fill:${fromShoal.written}`]), ':0\r\n');
  assert.equal(await toShoal.command(['SET', 'fill:1', 'x'.repeat(VALUE.length * 2)]), OOM, 'an overwrite that would not fit is refused too');
  assert.equal(await toShoal.command(['STRLEN', 'fill:1']), `:${VALUE.length}\r\n`, 'and the older value stays');

  // Read-modify-write commands answer the same OOM (rmw-primary.ts). Redis refuses every write
  // once over its limit; Shoal's store refuses a write that would not fit, so first fill its last
  // bytes with small entries costing what each command below writes (keys of 5-8 bytes are
  // charged alike, values of one byte).
  for (let i = 0; i < MAX_WRITES && (await toShoal.command(['SET', `tiny:${String(i).padStart(3, '0')}`, 'x'])) === '+OK\r\n'; i++);
  const bigger = VALUE + VALUE;
  for (const command of [['INCR', 'rmw:1'], ['INCRBY', 'rmw:2', '5'], ['APPEND', 'rmw:3', 'x'], ['SET', 'rmw:4', 'v', 'NX'], ['SETNX', 'rmw:5', 'v'], ['SET', 'fill:1', bigger, 'XX'], ['SET', 'fill:1', bigger, 'GET'], ['GETSET', 'fill:1', bigger], ['APPEND', 'fill:1', VALUE]]) {
    assert.equal(await both(...command), OOM, command[0]);
  }
  await both('EXISTS', 'rmw:1', 'rmw:2', 'rmw:3', 'rmw:4', 'rmw:5');
  assert.equal(await toShoal.command(['STRLEN', 'fill:1']), `:${VALUE.length}\r\n`, 'nothing of a refused command is applied');
  // A delete makes room again.
  await both('DEL', 'fill:0', 'fill:2', 'fill:3');
  assert.equal(await toShoal.command(['SET', 'after', 'small']), '+OK\r\n');

  // Back to evicting: the writes go through again, and INFO counts the evictions (the node's
  // store's count) and the OOM errors above, as Redis does.
  const stats = async (connection: RawConnection): Promise<{ evicted: number; errors: number }> => {
    const text = await connection.command(['INFO', 'stats']);
    return { evicted: Number(/evicted_keys:(\d+)/.exec(text)![1]), errors: Number(/total_error_replies:(\d+)/.exec(text)![1]) };
  };
  assert.equal((await stats(toShoal)).evicted, 0, 'nothing evicted under noeviction');
  await both('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
  for (let i = 0; i < 20; i++) await both('SET', `more:${i}`, VALUE);
  for (const connection of [toRedis, toShoal]) {
    const { evicted, errors } = await stats(connection);
    assert.ok(evicted > 0 && errors >= 10, `evicted_keys ${evicted}, total_error_replies ${errors}`);
  }

  // Redis's other policies have no Shoal store policy: a clear error, nothing changed.
  assert.equal(await toRedis.command(['CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru']), '+OK\r\n');
  assert.equal(
    await toShoal.command(['CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru']),
    "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument must be one of the following: allkeys-wtinylfu, allkeys-lru, allkeys-lfu, noeviction (Shoal's store has no volatile-* or random policy)\r\n",
  );
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory-policy']), '*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n');
  assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-wtinylfu']), '+OK\r\n');
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory-policy']), '*2\r\n$16\r\nmaxmemory-policy\r\n$16\r\nallkeys-wtinylfu\r\n');
});

/** CONFIG GET's reply for one parameter and value, in RESP2. */
const configReply = (name: string, value: string): string => `*2\r\n$${name.length}\r\n${name}\r\n$${value.length}\r\n${value}\r\n`;
/** Shoal's refusal of a budget its store cannot take (server-state.ts, budgetRefusal). */
const refused = (why: string): string => `-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - ${why}\r\n`;

test('CONFIG GET/SET maxmemory and INFO read and resize the node\'s store budget; units and syntax errors are redis-server 7.0\'s', { timeout: 120_000 }, async (t) => {
  const { toRedis, toShoal } = await redisAndShoal(t, [], '8mib');
  const info = async (section: string): Promise<Record<string, string>> => {
    const text = await toShoal.command(['INFO', section]);
    return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]));
  };
  const evicted = async (): Promise<number> => Number((await info('stats'))['evicted_keys']);
  const storeBytes = async (): Promise<number> => Number((await info('shoal'))['store_used_memory']);
  const setAll = async (prefix: string, count: number): Promise<void> => {
    for (let i = 0; i < count; i++) assert.equal(await toShoal.command(['SET', `${prefix}:${i}`, VALUE]), '+OK\r\n');
  };

  // The budget --max-memory gave, as CONFIG GET and INFO memory report it.
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory']), configReply('maxmemory', String(8 * 1024 * 1024)));
  assert.deepEqual([(await info('memory'))['maxmemory'], (await info('memory'))['maxmemory_human']], ['8388608', '8.00M']);

  // Memory values are read as Redis reads them: units (k 1000, kb 1024...) in any case, and the
  // same error for what is not one. Both answer each alike, and report the same bytes after.
  for (const value of ['3mb', '4MB', '5000k', '5000K', '6000kb', '7340032', '7340032b', '1gb', '1G', '8mb']) {
    assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory', value]), await toRedis.command(['CONFIG', 'SET', 'maxmemory', value]), value);
    assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory']), await toRedis.command(['CONFIG', 'GET', 'maxmemory']), value);
  }
  for (const value of ['-1', '1.5mb', ' 1mb', '1mb ', '1tb', '1mib', '+5', '0x10', '1e3', 'abc', '9'.repeat(128)]) {
    const fromRedis = await toRedis.command(['CONFIG', 'SET', 'maxmemory', value]);
    assert.match(fromRedis, /argument must be a memory value/, value);
    assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory', value]), fromRedis, value);
  }
  // What Redis takes but a store cannot: no limit, less than the smallest budget (--max-memory's),
  // more than a budget can be. Refused with why; the budget stays.
  const noLimit = refused("Shoal's store needs a memory budget: 0 (no limit in Redis) would let it grow until the node runs out of memory; give at least 1mb (1048576 bytes)");
  for (const [value, reply] of [
    ['0', noLimit],
    ['', noLimit],
    ['1048575', refused('argument must be at least 1048576 (1mb), the smallest store budget, as for --max-memory')],
    ['18446744073709551615', refused('argument must be at most 9007199254740991 bytes')],
  ] as const) {
    assert.equal(await toRedis.command(['CONFIG', 'SET', 'maxmemory', value]), '+OK\r\n', value);
    assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory', value]), reply, value);
  }
  // All or nothing: a refused budget leaves the policy given with it as it was.
  assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction', 'maxmemory', '0']), noLimit);
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory*']), configReply('maxmemory', '8388608').replace('*2', '*4') + configReply('maxmemory-policy', 'allkeys-wtinylfu').slice(4));
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory']), configReply('maxmemory', '8388608'));

  // Shrinking evicts down to the new budget at once, and writes past it keep the store within it.
  await setAll('a', 600);
  assert.equal(await evicted(), 0, '600 writes of 10 KB fit 8 MiB');
  assert.ok((await storeBytes()) > 4 * 1024 * 1024);
  assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory', '2mb']), '+OK\r\n');
  assert.equal(await toShoal.command(['CONFIG', 'GET', 'maxmemory']), configReply('maxmemory', '2097152'));
  assert.deepEqual([(await info('memory'))['maxmemory'], (await info('memory'))['maxmemory_human']], ['2097152', '2.00M']);
  // The store steps down to it a few MiB of evictions at a time (src/node/memory-budget.ts).
  await until('the store to shrink to 2mb', async () => ((await storeBytes()) <= 2 * 1024 * 1024 ? true : undefined), 20_000);
  const afterShrink = await evicted();
  assert.ok(afterShrink > 350, `${afterShrink} evicted by the shrink`);
  assert.ok((await storeBytes()) <= 2 * 1024 * 1024, `store at ${await storeBytes()} bytes`);
  await setAll('b', 300);
  assert.ok((await evicted()) >= afterShrink + 250, 'writes past the new budget evict');
  assert.ok((await storeBytes()) <= 2 * 1024 * 1024, `store at ${await storeBytes()} bytes`);
  // What is left is what 2 MiB holds of 10 KB values (W-TinyLFU may have turned the newest away).
  const records = Number((await info('shoal'))['store_records']);
  assert.ok(records > 150 && records <= 2 * 1024 * 1024 / VALUE.length, `${records} records held`);

  // Growing evicts nothing and lets more in.
  assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory', '16mb']), '+OK\r\n');
  const beforeGrowth = await evicted();
  await setAll('c', 1000);
  assert.equal(await evicted(), beforeGrowth, '1000 writes of 10 KB more fit 16 MiB');

  // Under noeviction a shrink deletes nothing: writes answer OOM until deletes bring the store under the budget.
  assert.equal(await toShoal.command(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction', 'maxmemory', '4mb']), '+OK\r\n');
  assert.equal(await evicted(), beforeGrowth, 'nothing deleted');
  assert.ok((await storeBytes()) > 4 * 1024 * 1024);
  assert.equal(await toShoal.command(['SET', 'd:0', VALUE]), OOM);
  assert.equal(await toShoal.command(['GET', 'c:0']), `$${VALUE.length}\r\n${VALUE}\r\n`);
  // DEL runs over the budget, as in Redis (its tombstone is smaller than the value it replaces).
  for (let i = 0; i < 1000; i++) assert.equal(await toShoal.command(['DEL', `c:${i}`]), ':1\r\n');
  assert.equal(await toShoal.command(['SET', 'd:0', VALUE]), '+OK\r\n');
});
