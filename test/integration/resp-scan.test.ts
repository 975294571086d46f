/**
 * Iterating the keyspace of a real 3-node cluster over RESP (src/resp/keyspace-commands.ts):
 * 2,000 keys written through the SDK (one keyspace with RESP), then SCAN through two different
 * nodes returns each exactly once and ends at 0, KEYS with a pattern, DBSIZE, RANDOMKEY, and
 * FLUSHALL leaving nothing for RESP or the SDK.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { bytesCodec, connect, type ShoalClient } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { TestCluster, until } from './daemon-harness.ts';

const KEYS = 2000;
let cluster: TestCluster;
let client: ShoalClient<Uint8Array>;
let redis: Redis[] = [];

before(async () => {
  cluster = await TestCluster.create(3);
  const respPorts = await freePorts(3);
  cluster.nodes.forEach((node, i) => (node.spec.respPort = respPorts[i]!));
  await cluster.startAll();
  await cluster.untilConverged();
  client = await connect({ seeds: cluster.clientAddresses[0]!, codec: bytesCodec });
  redis = respPorts.map((port) => new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 }));
  await Promise.all(redis.map((r) => r.connect()));
  const value = new TextEncoder().encode('v');
  for (let i = 0; i < KEYS; i += 250) await client.mset(Array.from({ length: 250 }, (_, j) => [`key:${i + j}`, value] as const));
  // A quorum write may reach the third replica later (hints, anti-entropy): each node scans its own
  // replicas first, so wait until every node counts every key.
  for (const r of redis) await until('every replica holds every key', async () => ((await r.call('DBSIZE')) === KEYS ? true : undefined), 60_000, 200);
});

after(async () => {
  for (const r of redis) r.disconnect();
  await client?.close();
  await cluster?.cleanup();
});

async function scanAll(r: Redis, ...options: (string | number)[]): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, page] = (await r.call('SCAN', cursor, ...options)) as [string, string[]];
    keys.push(...page);
    cursor = next;
    assert.ok(++calls < KEYS, 'SCAN ended');
  } while (cursor !== '0');
  return keys;
}

test('SCAN through any node returns each of 2,000 keys exactly once', async () => {
  for (const r of [redis[0]!, redis[2]!]) {
    const keys = await scanAll(r, 'COUNT', 100);
    assert.equal(keys.length, KEYS, 'no key twice');
    assert.equal(new Set(keys).size, KEYS);
    assert.ok(keys.every((k) => /^key:\d+$/.test(k)));
  }
  const matched = await scanAll(redis[1]!, 'MATCH', 'key:1?', 'COUNT', 500);
  assert.deepEqual(matched.sort(), Array.from({ length: 10 }, (_, i) => `key:1${i}`).sort());
});

test('KEYS, DBSIZE and RANDOMKEY', async () => {
  const keys = (await redis[1]!.call('KEYS', 'key:19??')) as string[];
  assert.deepEqual(keys.sort(), Array.from({ length: 100 }, (_, i) => `key:${1900 + i}`).sort());
  assert.equal(await redis[2]!.call('DBSIZE'), KEYS);
  assert.match((await redis[0]!.call('RANDOMKEY')) as string, /^key:\d+$/);
  await assert.rejects(redis[0]!.call('SCAN', 'nope'), /ERR invalid cursor/);
});

test('FLUSHALL deletes every key for RESP and the SDK alike', async () => {
  assert.equal(await redis[0]!.call('FLUSHALL'), 'OK');
  assert.equal(await redis[1]!.call('DBSIZE'), 0);
  assert.equal(await redis[2]!.call('RANDOMKEY'), null);
  assert.deepEqual(await scanAll(redis[1]!), []);
  assert.equal(await client.get('key:7', { consistency: 'all' }), null);
});
