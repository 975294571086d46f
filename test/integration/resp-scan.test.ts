/**
 * Iterating the keyspace of a real 3-node cluster over RESP (src/resp/keyspace-commands.ts):
 * 2,000 keys written through the SDK (one keyspace with RESP), then SCAN through two different
 * nodes returns each exactly once and ends at 0, KEYS with a pattern, DBSIZE, RANDOMKEY, and
 * FLUSHALL leaving nothing for RESP or the SDK; then the same keyspace commands (edge cases and
 * errors) sent to a real redis-server and to the cluster answer alike.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
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
  // freePorts releases what it found: a second call may hand out a port of the first, so retry until distinct.
  const taken = new Set(cluster.nodes.flatMap((n) => [n.spec.port, n.spec.peerPort]));
  let respPorts = await freePorts(3);
  while (respPorts.some((p) => taken.has(p))) respPorts = await freePorts(3);
  cluster.nodes.forEach((node, i) => (node.spec.respPort = respPorts[i]!));
  await cluster.startAll();
  await cluster.untilConverged();
  client = await connect({ seeds: cluster.clientAddresses[0]!, codec: bytesCodec });
  redis = respPorts.map((port) => new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 }));
  await Promise.all(redis.map((r) => r.connect()));
  const value = new TextEncoder().encode('v');
  // In chunks, each retried: right after start-up (partitions still catching up) or on a loaded
  // machine a quorum write can time out; the test is about scanning, not about that.
  for (let i = 0; i < KEYS; i += 100) {
    const chunk = Array.from({ length: 100 }, (_, j) => [`key:${i + j}`, value] as const);
    await until(`keys ${i}.. written`, async () => (await client.mset(chunk).then(() => true)), 60_000, 200);
  }
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

/** A redis-server on a free port; resolves once it accepts connections. */
async function startRedis(): Promise<{ server: ChildProcess; client: Redis }> {
  const [port] = await freePorts(1);
  const server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (/ready to accept connections/i.test(log)) resolve();
    });
    server.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
  });
  const client = new Redis({ port: port!, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  return { server, client };
}

/** The reply, or the error's text, so that both can be compared. */
async function answer(r: Redis, args: string[]): Promise<unknown> {
  try {
    const reply = await r.call(args[0]!, ...args.slice(1));
    return Array.isArray(reply) && args[0] === 'KEYS' ? [...(reply as string[])].sort() : reply;
  } catch (error) {
    return { error: (error as Error).message };
  }
}

test('keyspace commands answer as redis-server does, errors included', async (t) => {
  const { server, client: reference } = await startRedis();
  t.after(() => {
    reference.disconnect();
    server.kill();
  });
  const shoal = redis[0]!;
  const keys = ['user:1', 'user:2', 'user:10', 'hello', 'hallo', 'h[a]llo', 'a*b', 'x'];
  // Written through the SDK on Shoal: a SET on this node would be redirected (MOVED) for keys it
  // does not own, and redirects are not what this test is about.
  await reference.call('FLUSHALL');
  for (const k of keys) await reference.call('SET', k, 'v');
  await shoal.call('FLUSHALL');
  const value = new TextEncoder().encode('v');
  await until('the keys written', async () => (await client.mset(keys.map((k) => [k, value] as const)).then(() => true)), 60_000, 200);
  for (const r of redis) await until('every replica holds every key', async () => ((await r.call('DBSIZE')) === keys.length ? true : undefined), 60_000, 200);
  const cases: string[][] = [
    ['KEYS', '*'], ['KEYS', 'user:?'], ['KEYS', 'user:[0-9]*'], ['KEYS', 'h?llo'], ['KEYS', 'h\\[a\\]llo'], ['KEYS', 'a\\*b'], ['KEYS', 'nothing*'], ['KEYS', '['],
    ['KEYS'], ['KEYS', 'a', 'b'], ['DBSIZE'], ['DBSIZE', 'x'], ['RANDOMKEY', 'x'],
    ['SCAN'], ['SCAN', ' 1'], ['SCAN', 'abc'], ['SCAN', '18446744073709551616'], ['SCAN', '0x1'],
    ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '-5'], ['SCAN', '0', 'COUNT', 'ten'], ['SCAN', '0', 'COUNT', '9223372036854775808'],
    ['SCAN', '0', 'COUNT'], ['SCAN', '0', 'MATCH'], ['SCAN', '0', 'TYPE'], ['SCAN', '0', 'BOGUS', '1'], ['SCAN', 'nope', 'COUNT', '0'],
    ['FLUSHALL', 'x'], ['FLUSHALL', 'ASYNC', 'x'], ['FLUSHDB', 'nope'],
  ];
  const differences: string[] = [];
  for (const args of cases) {
    const [theirs, ours] = [await answer(reference, args), await answer(shoal, args)];
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) differences.push(`${args.join(' ')}: redis ${JSON.stringify(theirs)}, shoal ${JSON.stringify(ours)}`);
  }
  // Whole iterations: cursors differ by design, the keys they return do not.
  for (const options of [[], ['MATCH', 'user:*'], ['MATCH', 'h*', 'COUNT', '1'], ['TYPE', 'string'], ['TYPE', 'STRING'], ['TYPE', 'hash']]) {
    const [theirs, ours] = [(await scanAll(reference, ...options)).sort(), (await scanAll(shoal, ...options)).sort()];
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) differences.push(`SCAN ${options.join(' ')}: redis ${JSON.stringify(theirs)}, shoal ${JSON.stringify(ours)}`);
  }
  assert.deepEqual(differences, []);
  for (const r of [reference, shoal]) assert.equal(await r.call('FLUSHDB', 'SYNC'), 'OK');
  assert.equal(await answer(shoal, ['RANDOMKEY']), await answer(reference, ['RANDOMKEY']));
});
