// CONFIG SET/GET maxmemory-policy and noeviction's OOM reply, against a real redis-server 7.0: the
// policy names and the OOM error bytes (of plain writes and of read-modify-write commands) must be
// Redis's. The refusal travels from the replica's store through the coordinator to the RESP reply
// (replica-host.ts `wo`, rmw-primary.ts for read-modify-write, coordinator.ts
// `out-of-memory`, args.ts). Differences by design: Shoal's default policy (adaptive W-TinyLFU)
// answers as `allkeys-wtinylfu`, and Redis's volatile-* and allkeys-random policies are refused;
// once full, Redis refuses every write command, Shoal only a write that does not fit (an INCR of a
// held key that keeps its size still runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
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

test('CONFIG SET maxmemory-policy and noeviction\'s OOM reply are byte for byte redis-server 7.0\'s', { timeout: 120_000 }, async (t) => {
  const [redisPort, clientPort, peerPort, respPort] = await freePorts(4);
  // Redis's used_memory starts near 1 MB; 4 MB leaves room for a few hundred writes.
  const redis = await startRedis(redisPort!, ['--maxmemory', '4mb']);
  t.after(() => redis.kill('SIGKILL'));
  const shoal = new DaemonProcess({ name: 'oom', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort), '--max-memory', '1mib'] });
  t.after(() => shoal.stop());
  await shoal.start();
  const toRedis = await RawConnection.open(redisPort!);
  const toShoal = await until('the RESP port', () => RawConnection.open(respPort!), 20_000);
  t.after(() => {
    toRedis.close();
    toShoal.close();
  });
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
