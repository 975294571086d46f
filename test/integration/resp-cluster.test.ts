/**
 * Redis Cluster mode on a real 3-node cluster (src/resp/cluster-*.ts, redirect.ts): every node
 * answers CLUSTER SLOTS with the whole slot space and the same primaries, a key sent to a node
 * that is not its primary gets MOVED there, and `redis-cli -c` follows it for SET and GET.
 * (resp-clients runs the big client workloads; this stays small.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { keySlot } from '../../src/ring/slots.ts';
import { TestCluster, until } from './daemon-harness.ts';

const run = promisify(execFile);
let cluster: TestCluster;
let respPorts: number[] = [];

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 });
  return stdout.trim();
}

/** CLUSTER SLOTS through redis-cli's CSV output: [start, end, primary port] per range. */
async function slotRanges(port: number): Promise<[number, number, number][]> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--json', 'CLUSTER', 'SLOTS'], { timeout: 30_000 });
  const ranges = JSON.parse(stdout) as [number, number, [string, number, string, unknown], ...unknown[]][];
  return ranges.map(([start, end, primary]) => [start, end, primary[1]]);
}

before(async () => {
  cluster = await TestCluster.create(3);
  respPorts = await freePorts(3);
  cluster.nodes.forEach((node, i) => Object.assign(node.spec, { extra: ['--resp-port', String(respPorts[i]!)] }));
  await cluster.startAll();
  await cluster.untilConverged();
});

after(async () => {
  await cluster?.cleanup();
});

test('every node lists all 16384 slots under the same primaries, each a node of the cluster', async () => {
  const views = await until(
    'every node reports cluster_state:ok and the same slot map',
    async () => {
      const infos = await Promise.all(respPorts.map((port) => redisCli(port, 'CLUSTER', 'INFO')));
      if (!infos.every((info) => info.startsWith('cluster_state:ok'))) return undefined;
      const maps = await Promise.all(respPorts.map(slotRanges));
      return maps.every((m) => JSON.stringify(m) === JSON.stringify(maps[0])) ? maps : undefined;
    },
    60_000,
    200,
  );
  const ranges = views[0]!;
  assert.equal(ranges[0]![0], 0);
  assert.equal(ranges[ranges.length - 1]![1], 16383);
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]![0], ranges[i - 1]![1] + 1, 'contiguous');
  assert.deepEqual([...new Set(ranges.map((r) => r[2]))].sort(), [...respPorts].sort());
  const ids = await Promise.all(respPorts.map((port) => redisCli(port, 'CLUSTER', 'MYID')));
  assert.equal(new Set(ids).size, 3);
  assert.ok(ids.every((id) => /^[0-9a-f]{40}$/.test(id)));
});

test('a key sent to another node is MOVED to its primary, and redis-cli -c follows it', async () => {
  const ranges = await slotRanges(respPorts[0]!);
  const primaryPort = (key: string): number => ranges.find(([start, end]) => keySlot(key) >= start && keySlot(key) <= end)![2];
  // A key whose primary is not the first node: asking the first node must redirect.
  let key = '';
  for (let i = 0; key === ''; i++) if (primaryPort(`moved:${i}`) !== respPorts[0]) key = `moved:${i}`;
  const target = primaryPort(key);

  // Once the ring has been stable for a few gossip rounds (it has: the slot maps agree).
  const moved = await until('MOVED', async () => {
    const reply = await redisCli(respPorts[0]!, 'GET', key);
    return reply.startsWith('MOVED') ? reply : undefined;
  }, 30_000, 200);
  assert.equal(moved, `MOVED ${keySlot(key)} 127.0.0.1:${target}`);

  assert.equal(await redisCli(respPorts[0]!, '-c', 'SET', key, 'v1'), 'OK');
  assert.equal(await redisCli(respPorts[0]!, '-c', 'GET', key), 'v1');
  // The primary itself serves it without a redirect.
  assert.equal(await redisCli(target, 'GET', key), 'v1');
  // CROSSSLOT for MSETNX over two slots, as Redis Cluster.
  assert.equal(await redisCli(target, 'MSETNX', '{a}1', 'x', '{b}1', 'y'), "CROSSSLOT Keys in request don't hash to the same slot");
});
