/**
 * Every SDK call through a real 3-node cluster (daemons as child processes), TTL expiry, bad
 * frames that close only their own connection, and a client that reconnects to a restarted node.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bytesCodec, connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import { CLIENT_ENDPOINT_PATH, DEFAULT_MAX_FRAME_BYTES, encodeClientFrame } from '../../src/protocol/index.ts';
import { RawSocket } from './client-helpers.ts';
import { TestCluster, until } from './daemon-harness.ts';

let cluster: TestCluster;
let client: ShoalClient;

before(async () => {
  cluster = await TestCluster.create(3);
  await cluster.startAll();
  await cluster.untilConverged();
  client = await connect({ seeds: cluster.clientAddresses[0]! });
});

after(async () => {
  await client?.close();
  await cluster?.cleanup();
});

test('the client learns the whole ring through one seed', async () => {
  const topology = await client.topology();
  assert.deepEqual(topology.nodes.map((n) => n.name).sort(), ['n1', 'n2', 'n3']);
  assert.deepEqual(topology.nodes.map((n) => n.clientAddress).sort(), [...cluster.clientAddresses].sort());
  assert.equal(topology.replicas, 3);
  assert.ok(topology.owners.every((owners) => owners.length === 3));
});

test('set, get and delete, at every consistency, read back through every node', async () => {
  for (const consistency of ['one', 'quorum', 'all'] as const) {
    const key = `greeting-${consistency}`;
    await client.set(key, { hello: 'world', n: 1 }, { consistency: 'all' });
    assert.deepEqual(await client.get(key, { consistency }), { hello: 'world', n: 1 });
    for (const address of cluster.clientAddresses) {
      // Routing off: the node the client talks to coordinates, so each node's path is exercised.
      const direct = await connect({ seeds: address, routing: false });
      try {
        assert.deepEqual(await direct.get(key, { consistency }), { hello: 'world', n: 1 }, `through ${address}`);
      } finally {
        await direct.close();
      }
    }
    await client.delete(key, { consistency });
    assert.equal(await client.get(key, { consistency: 'all' }), null);
  }
});

test('mset and mget, string and byte keys, and keyPrefix', async () => {
  const entries = Array.from({ length: 200 }, (_, i) => [`k${i}`, i] as const);
  await client.mset(entries);
  const values = await client.mget([...entries.map(([k]) => k), 'missing']);
  assert.deepEqual(values, [...entries.map(([, v]) => v), null]);

  const raw = await connect({ seeds: cluster.clientAddresses[1]!, codec: bytesCodec });
  const prefixed = await connect({ seeds: cluster.clientAddresses[2]!, codec: stringCodec, keyPrefix: 'app:' });
  try {
    const key = new Uint8Array([0, 255, 1, 254]);
    await raw.set(key, new Uint8Array([9, 8, 7]));
    assert.deepEqual(await raw.get(key), new Uint8Array([9, 8, 7]));
    await prefixed.set('user', 'ada');
    assert.deepEqual(await raw.get(new TextEncoder().encode('app:user')), new TextEncoder().encode('ada'));
    assert.equal(await prefixed.get('user'), 'ada');
  } finally {
    await raw.close();
    await prefixed.close();
  }
});

test('a value with a TTL expires on every replica', async () => {
  await client.set('short-lived', 'soon gone', { ttlMs: 300, consistency: 'all' });
  assert.equal(await client.get('short-lived', { consistency: 'all' }), 'soon gone');
  await until('the value to expire', async () => ((await client.get('short-lived', { consistency: 'all' })) === null ? true : undefined), 60_000, 100);
  await client.set('long-lived', 'stays', { ttlMs: 600_000 });
  assert.equal(await client.get('long-lived'), 'stays');
});

test('a malformed frame and an oversized frame each close only their own connection', async () => {
  const url = `ws://${cluster.clientAddresses[0]}${CLIENT_ENDPOINT_PATH}`;
  const malformed = await RawSocket.open(url);
  malformed.send(new Uint8Array([0xc1, 0xc1, 0xc1])); // 0xc1 is never valid msgpack
  const error = await malformed.nextFrame(1);
  assert.equal(error.type === 'error' && error.code, 'malformed-frame');
  assert.equal((await malformed.closed).code, 1002);

  const oversized = await RawSocket.open(url);
  oversized.send(new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1));
  const tooLarge = await oversized.nextFrame(1);
  assert.equal(tooLarge.type === 'error' && tooLarge.code, 'frame-too-large');
  assert.equal((await oversized.closed).code, 1009);

  // A well-behaved raw connection and the SDK client on the same node carry on.
  const good = await RawSocket.open(url);
  good.send(encodeClientFrame({ type: 'requests', requests: [{ op: 'topology', id: 7 }] }));
  const reply = await good.nextFrame(1);
  assert.equal(reply.type, 'replies');
  good.close();
  await client.set('after-bad-frames', 'fine');
  assert.equal(await client.get('after-bad-frames'), 'fine');
});

test('a client reconnects when its node is killed and restarted', async () => {
  const node = cluster.nodes[1]!;
  const single = await connect({ seeds: node.clientAddress, routing: false, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, codec: stringCodec });
  try {
    await single.set('before-restart', 'x', { consistency: 'all' });
    const statuses: string[] = [];
    single.on('status', (s) => statuses.push(s));
    node.kill('SIGKILL');
    await node.exited();
    await until('the client to notice', () => (single.status === 'reconnecting' ? true : undefined), 60_000, 20);
    await node.start();
    await until('the restarted node to rejoin', async () => ((await node.status()).joined ? true : undefined), 120_000, 100);
    await until('the client to be ready again', () => (single.status === 'ready' ? true : undefined), 60_000, 50);
    assert.deepEqual(statuses.slice(0, 2), ['reconnecting', 'ready']);
    // The restarted node coordinates reads from the replicas that kept the data.
    assert.equal(await single.get('before-restart', { consistency: 'quorum' }), 'x');
  } finally {
    await single.close();
  }
});
