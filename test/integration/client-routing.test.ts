import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ShoalClient } from '../../src/index.ts';
import type { KvService, TopologySnapshot } from '../../src/replication/api.ts';
import { partitionOf } from '../../src/ring/partition.ts';
import { MemoryStore } from '../../src/server/index.ts';
import { HoldingKv, startNode, until, waitFor, type TestNode } from './client-helpers.ts';

const PARTITIONS = 8;

/** A ring over the nodes where partition p belongs to `ownerOf(p)` alone. */
function ring(nodes: TestNode[], version: string, ownerOf: (p: number) => number): TopologySnapshot {
  return {
    version,
    partitions: PARTITIONS,
    replicas: 1,
    nodes: nodes.map((n, i) => ({ name: `n${i + 1}`, clientAddress: n.address, zone: 'z' })),
    owners: Array.from({ length: PARTITIONS }, (_, p) => [`n${ownerOf(p) + 1}`]),
  };
}

/** Two nodes over one data set, named n1 and n2. */
async function twoNodes(options: Parameters<typeof startNode>[0] = {}): Promise<TestNode[]> {
  const store = new MemoryStore(Date.now);
  return [await startNode({ ...options, store, name: 'n1' }), await startNode({ ...options, store, name: 'n2' })];
}

function setRing(nodes: TestNode[], topology: TopologySnapshot): void {
  for (const n of nodes) n.kv.setTopology(topology);
}

/** Waits until the client's connection to every node of its ring is ready. */
async function allReady(client: ShoalClient): Promise<void> {
  while (client.nodes().some((n) => n.state !== 'ready')) await new Promise((resolve) => setTimeout(resolve, 1));
}

const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);
const ownerIndex = (key: string, ownerOf: (p: number) => number): number => ownerOf(partitionOf(key, PARTITIONS));

test('each request goes to the node that owns its key, and follows ring changes', async () => {
  const nodes = await twoNodes();
  const even = (p: number) => p % 2;
  setRing(nodes, ring(nodes, 'v1', even));
  const client = await connect({ seeds: [nodes[0]!.address] });
  const versions: string[] = [];
  client.on('ring-changed', (v) => versions.push(v));
  try {
    await client.topology();
    await allReady(client);
    const before = nodes.map((n) => n.server.stats.requestsReceived);
    await client.mget(keys);
    const expected = [0, 1].map((i) => keys.filter((k) => ownerIndex(k, even) === i).length);
    assert.deepEqual(nodes.map((n, i) => n.server.stats.requestsReceived - before[i]!), expected);

    // The ring changes: the servers push ring-changed, the client re-reads it and reroutes.
    const odd = (p: number) => 1 - (p % 2);
    const changed = waitFor<string>((l) => client.on('ring-changed', l), (v) => v === 'v2');
    setRing(nodes, ring(nodes, 'v2', odd));
    await changed;
    assert.equal(client.topologyVersion, 'v2');
    const middle = nodes.map((n) => n.server.stats.requestsReceived);
    await client.mget(keys);
    assert.deepEqual(nodes.map((n, i) => n.server.stats.requestsReceived - middle[i]!), [expected[1], expected[0]]);
    assert.deepEqual(versions.slice(-1), ['v2']);
  } finally {
    await client.close();
    for (const n of nodes) await n.server.close();
  }
});

test('with routing off, every request goes to a connected node which coordinates it', async () => {
  const nodes = await twoNodes();
  setRing(nodes, ring(nodes, 'v1', (p) => p % 2));
  const client = await connect({ seeds: [nodes[0]!.address], routing: false });
  try {
    await client.mget(keys);
    assert.equal(nodes[1]!.server.stats.requestsReceived, 0);
    assert.equal(client.topologyVersion, null);
  } finally {
    await client.close();
    for (const n of nodes) await n.server.close();
  }
});

test('a not-owner redirect makes the client re-read a stale ring and resend to the owner', async () => {
  // Servers that only poll for ring changes (rarely), so the client's ring goes stale unnoticed.
  const hidePush = (kv: KvService): KvService => ({
    get: (...a) => kv.get(...a),
    set: (...a) => kv.set(...a),
    delete: (...a) => kv.delete(...a),
    topology: () => kv.topology(),
  });
  const nodes = await twoNodes({ ownersOnly: true, topologyPollMs: 600_000, wrap: hidePush });
  setRing(nodes, ring(nodes, 'v1', (p) => p % 2));
  const client = await connect({ seeds: [nodes[0]!.address] });
  try {
    await client.topology();
    await client.mset(keys.map((k) => [k, k] as const));
    setRing(nodes, ring(nodes, 'v2', (p) => 1 - (p % 2)));
    assert.equal(client.topologyVersion, 'v1');
    assert.deepEqual(await client.mget(keys), keys);
    assert.equal(client.topologyVersion, 'v2');
  } finally {
    await client.close();
    for (const n of nodes) await n.server.close();
  }
});

test('a node that is shutting down turns calls away, and they go to another node', async () => {
  const store = new MemoryStore(Date.now);
  let holding: HoldingKv | undefined;
  const a = await startNode({ store, name: 'n1', wrap: (kv) => (holding = new HoldingKv(kv)) });
  const b = await startNode({ store, name: 'n2' });
  setRing([a, b], ring([a, b], 'v1', () => 0)); // n1 owns everything
  const client = await connect({ seeds: [a.address, b.address] });
  try {
    await client.topology();
    await client.get('warm');
    const held = client.get('hold-x');
    await holding!.untilHeld(1);
    const closing = a.server.close({ graceMs: 60_000 }); // waits for the held read
    await client.set('k', 'v');
    assert.equal(await client.get('k'), 'v');
    assert.equal(b.server.stats.requestsReceived >= 2, true, 'the calls were served by n2');
    holding!.release();
    assert.equal(await held, null);
    await closing;
  } finally {
    await client.close();
    await b.server.close();
  }
});

test('a node that leaves the ring is disconnected once its calls are answered, and forgotten', async () => {
  const store = new MemoryStore(Date.now);
  let holding: HoldingKv | undefined;
  const a = await startNode({ store, name: 'n1' });
  const b = await startNode({ store, name: 'n2', wrap: (kv) => (holding = new HoldingKv(kv)) });
  const split = (p: number) => p % 2;
  setRing([a, b], ring([a, b], 'v1', split));
  const client = await connect({ seeds: [a.address] });
  try {
    await client.topology();
    await allReady(client);
    // A write to n2 that n2 holds: acknowledged work in flight when n2 leaves.
    const key = Array.from({ length: 64 }, (_, i) => `hold-${i}`).find((k) => ownerIndex(k, split) === 1)!;
    const write = client.set(key, 'kept');
    await holding!.untilHeld(1);

    const changed = waitFor<string>((l) => client.on('ring-changed', l), (v) => v === 'v2');
    setRing([a, b], ring([a], 'v2', () => 0));
    await changed;
    assert.deepEqual(client.nodes().map((n) => n.address), [a.address], 'n2 is forgotten at once');
    assert.equal(b.server.connectionCount, 1, 'but its connection stays while the write is in flight');

    holding!.release();
    await write; // answered, not failed by the disconnect
    await until(() => b.server.connectionCount === 0, 'the client to close its connection to n2');
    assert.equal(await client.get(key), 'kept');
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
  }
});
