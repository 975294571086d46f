/**
 * A rolling restart of real processes under load: `shoal dev` runs 3 nodes; SDK clients write and
 * read their keys at QUORUM without pause while a `restart` line on dev's stdin restarts every node
 * in turn (graceful leave, start again, wait for convergence). Not one request may fail, every read
 * returns the latest acknowledged value of its key, and afterwards every key reads back as its
 * latest acknowledged write.
 *
 * And the two client rules that make it so, each alone: a write refused `not-ready` (a restarted
 * node still joining) goes to another node; a write unanswered when its node closes drained (it
 * answered all it accepted) is resent, and one unanswered when the grace ran out is not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionError, connect } from '../../src/client/index.ts';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLIENT_ENDPOINT_PATH, DEFAULT_WIRE_LIMITS, decodeClientFrame, encodeServerFrame } from '../../src/protocol/index.ts';
import { DRAINED_CLOSE_REASON, IDLE_CLOSE_REASON } from '../../src/protocol/frames.ts';
import type { Callback, KvService, SetOptions, TopologySnapshot, WriteResult } from '../../src/replication/api.ts';
import { MemoryStore, type MemoryKv } from '../../src/server/index.ts';
import { startNode, type TestNode } from './client-helpers.ts';
import { until } from './daemon-harness.ts';
import { devUnderLoad, KEYS_PER_WORKER, lostWrites } from './quorum-load.ts';

const NODES = 3;
const WORKERS = 4;
/** Requests each worker makes before the restart starts, and after it is done (bounded counts, not time). */
const OPS_BEFORE = 40;
const OPS_AFTER = 40;
/**
 * The nodes' replica timeout: generous, so that a replica stalled by a busy shared machine (a
 * restarted node's catch-up runs on the same 2 cores) is not taken for an unavailable one. For
 * 3 s after a node rejoins, a write needs both nodes of the 2-node ring before it (the joint
 * quorum, docs/REPLICATION.md), so one slow answer past the default 500 ms would fail it.
 */
const REPLICA_TIMEOUT = '5s';
/** Bounds a hang only: 3 nodes leaving, starting and catching up on a loaded 2-core machine. */
const HANG_BOUND = { timeout: 600_000 };

test('shoal dev rolling restart: 3 nodes restarted one by one under QUORUM load, 0 failed requests, no acknowledged write lost', HANG_BOUND, async (t) => {
  const cluster = await devUnderLoad(t, { nodes: NODES, workers: WORKERS, replicaTimeout: REPLICA_TIMEOUT, hangMs: HANG_BOUND.timeout });
  const { client, workers, opsNow } = cluster;

  await cluster.runFor('the workload to run', OPS_BEFORE);
  const beforeRestart = opsNow();
  cluster.dev.stdin.write('restart\n');
  await cluster.said(/rolling restart done/, 'the rolling restart to finish');
  const duringRestart = opsNow() - beforeRestart;
  await cluster.runFor('the workload to run on the restarted cluster', OPS_AFTER);
  await cluster.stopLoad();

  for (let i = 1; i <= NODES; i++) assert.match(cluster.output(), new RegExp(`rolling restart: node${i} back \\(${i}/${NODES}\\)`), `node${i} was restarted`);
  assert.ok(duringRestart > 0, 'requests ran during the restart');
  assert.deepEqual(workers.flatMap((w) => w.failures), [], 'failed requests');
  assert.deepEqual(workers.flatMap((w) => w.stale), [], 'reads that missed the latest acknowledged write');

  // Every acknowledged write, read back at QUORUM from the restarted cluster.
  assert.deepEqual(await lostWrites(client, workers), [], 'acknowledged writes not read back');
  assert.equal(workers.reduce((s, w) => s + w.acked.size, 0), WORKERS * KEYS_PER_WORKER);

  assert.equal(await cluster.close(), 0, cluster.output());
  assert.match(cluster.output(), /all nodes stopped/);
  process.stdout.write(`rolling-restart: ${opsNow()} requests, ${duringRestart} during the rolling restart, 0 failed\n`);
});

/** Answers every set `not-ready`, as a node still joining its cluster does; the rest is served. */
class JoiningKv implements KvService {
  sets = 0;
  constructor(private readonly inner: MemoryKv) {}
  get: KvService['get'] = (key, options, done) => this.inner.get(key, options, done);
  delete: KvService['delete'] = (key, options, done) => this.inner.delete(key, options, done);
  set(_key: Uint8Array, _value: Uint8Array, _options: SetOptions, done: Callback<WriteResult>): void {
    this.sets++;
    done({ code: 'not-ready', message: 'this node is still joining its cluster' });
  }
  topology(): TopologySnapshot {
    return this.inner.topology();
  }
}

/** n1 and n2 over one data set, both saying n1 owns every key (so every call goes to n1 first). */
async function twoNodes(wrapFirst: (kv: MemoryKv) => KvService): Promise<[TestNode, TestNode]> {
  const store = new MemoryStore(Date.now);
  const a = await startNode({ store, name: 'n1', wrap: wrapFirst });
  const b = await startNode({ store, name: 'n2' });
  const topology: TopologySnapshot = {
    version: 'v1',
    partitions: 16,
    replicas: 1,
    nodes: [{ name: 'n1', clientAddress: a.address, zone: 'z' }, { name: 'n2', clientAddress: b.address, zone: 'z' }],
    owners: Array.from({ length: 16 }, () => ['n1']),
  };
  for (const n of [a, b]) n.kv.setTopology(topology);
  return [a, b];
}

test('a write refused not-ready by a node still joining is resent to another node, and applied once', async () => {
  let joining: JoiningKv | undefined;
  const [a, b] = await twoNodes((kv) => (joining = new JoiningKv(kv)));
  const client = await connect<string>({ seeds: [a.address, b.address] });
  try {
    await client.topology();
    await client.set('k', 'v');
    assert.equal(joining!.sets, 1, 'n1 refused it once');
    assert.equal(await client.get('k'), 'v', 'n2 applied it');
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
  }
});

/** A node that welcomes a client and closes the connection with (code, reason) on its first request, unanswered. */
async function closingNode(code: number, reason: string): Promise<{ address: string; requests: () => number; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: CLIENT_ENDPOINT_PATH });
  await new Promise((resolve) => wss.once('listening', resolve));
  let requests = 0;
  wss.on('connection', (socket: WebSocket) => {
    socket.on('message', (data: Buffer) => {
      if (decodeClientFrame(new Uint8Array(data)).type === 'hello') {
        socket.send(encodeServerFrame({ type: 'welcome', version: 1, node: 'closing', topologyVersion: 'closing', limits: DEFAULT_WIRE_LIMITS }));
      } else {
        requests++;
        socket.close(code, reason);
      }
    });
  });
  return {
    address: `127.0.0.1:${(wss.address() as { port: number }).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => wss.close(() => resolve())),
  };
}

const CLOSES = [
  { how: 'drained', code: 1001, reason: DRAINED_CLOSE_REASON, resent: true },
  { how: 'idle (--idle-timeout)', code: 1000, reason: IDLE_CLOSE_REASON, resent: true },
  { how: 'with requests abandoned', code: 1001, reason: 'server shutting down; requests still in flight were abandoned', resent: false },
  // An older build's idle close, which promised nothing about what it read after deciding to close.
  { how: "idle by an older build ('idle timeout')", code: 1000, reason: 'idle timeout', resent: false },
];
for (const { how, code, reason, resent: drained } of CLOSES) {
  test(`a write unanswered when its node closes ${how} ${drained ? 'is resent to another node' : 'fails: its fate is unknown'}`, async () => {
    const closing = await closingNode(code, reason);
    const b = await startNode({ name: 'n2' });
    const client = await connect<string>({ seeds: [closing.address, b.address], routing: false, reconnect: false });
    try {
      await until('both connections to be ready', () => (client.nodes().every((n) => n.state === 'ready') ? true : undefined), 30_000, 1);
      if (drained) {
        await client.set('k', 'v');
        assert.equal(await client.get('k'), 'v', 'applied by n2');
      } else {
        await assert.rejects(client.set('k', 'v'), ConnectionError);
        assert.equal(await client.get('k'), null, 'not resent');
      }
      assert.equal(closing.requests(), 1, 'the closing node got the write first');
    } finally {
      await client.close();
      await closing.close();
      await b.server.close();
    }
  });
}
