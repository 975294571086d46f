/**
 * /metrics on a real daemon's admin port: after SDK and RESP traffic, Debian's promtool accepts
 * the output (`promtool check metrics`, no lint problem at all), and the request counters and
 * latency histograms moved.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { createClient } from 'redis';
import { connect, TimeoutError } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, TestCluster, until } from './daemon-harness.ts';
import { keysLedBy } from './ring-keys.ts';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

/** Runs `promtool check metrics` on `text` (stdin); resolves with its exit code and everything it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics passes promtool check metrics and counts SDK and RESP traffic', async (t) => {
  const [port, peerPort, respPort, adminPort] = await freePorts(4);
  const node = new DaemonProcess({ name: 'm1', port: port!, peerPort: peerPort!, respPort: respPort!, adminPort: adminPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();

  const client = await connect({ seeds: node.clientAddress });
  t.after(() => client.close());
  for (let i = 0; i < 20; i++) await client.set(`sdk:${i}`, i);
  for (let i = 0; i < 25; i++) await client.get(`sdk:${i}`); // 20 hits, 5 misses
  const redis = createClient({ socket: { host: '127.0.0.1', port: respPort! } });
  redis.on('error', () => {});
  await redis.connect();
  t.after(() => redis.destroy());
  for (let i = 0; i < 10; i++) await redis.set(`resp:${i}`, 'v');
  await redis.get('resp:1');
  await redis.incr('counter');

  const response = await fetch(`${node.adminUrl!}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();

  const { code, output } = await promtoolCheck(text);
  assert.equal(output.trim(), '', `promtool printed problems:\n${output}`);
  assert.equal(code, 0);

  assert.ok((sample(text, 'shoal_requests_total{op="set",outcome="ok"}') ?? 0) >= 30, 'sets from both protocols are counted');
  assert.ok((sample(text, 'shoal_requests_total{op="get",outcome="hit"}') ?? 0) >= 21);
  assert.ok((sample(text, 'shoal_requests_total{op="get",outcome="miss"}') ?? 0) >= 5);
  assert.ok((sample(text, 'shoal_requests_total{op="rmw",outcome="ok"}') ?? 0) >= 1);
  assert.ok((sample(text, 'shoal_request_duration_seconds_count{op="set",consistency="quorum"}') ?? 0) >= 30, 'the coordinator latency histogram counted the sets');
  assert.ok((sample(text, 'shoal_replica_duration_seconds_count{op="write"}') ?? 0) >= 30, 'the replica latency histogram counted the writes');
  assert.ok((sample(text, 'shoal_client_commands_total{protocol="sdk"}') ?? 0) >= 45);
  assert.ok((sample(text, 'shoal_client_commands_total{protocol="resp"}') ?? 0) >= 12);
  assert.ok((sample(text, 'shoal_store_entries') ?? 0) >= 31);
  assert.equal(sample(text, 'shoal_members{state="alive"}'), 1);
  assert.equal(sample(text, 'shoal_ring_partitions'), 1024);
  assert.ok((sample(text, 'shoal_admission_limit') ?? 0) >= 64, 'the admission limit (at least its minimum)');
  assert.equal(sample(text, 'shoal_admission_in_flight'), 0, 'every SDK and RESP call was answered');
  assert.equal(sample(text, 'shoal_admission_abandoned_total'), 0, 'no call waited past its deadline');
  assert.ok((sample(text, 'shoal_process_resident_memory_bytes') ?? 0) > 0);
  assert.match(text, /^shoal_ring_info\{version="[0-9a-f]+"\} 1$/m, 'the ring version the node routes by');
  assert.equal(sample(text, 'shoal_store_admission_rejections_total{reason="too-large"}'), 0);
  assert.equal(sample(text, 'shoal_store_evictions_total{reason="handoff"}'), 0, 'partitions handed off are a reason of their own, not deletes');
  for (const direction of ['sent', 'received']) assert.notEqual(sample(text, `shoal_sync_bytes_total{direction="${direction}"}`), undefined);
  assert.notEqual(sample(text, 'shoal_gossip_received_bytes_total'), undefined);
  assert.ok(!text.includes('sdk:1'), 'no key name appears in the metrics');
});

/**
 * Requests refused unapplied because their client's deadline passed are counted on /metrics: n2 is
 * frozen (SIGSTOP) while a set sent to it directly and an INCR coordinated by n1 with n2 as its
 * primary both time out; when n2 resumes, its session refuses the set and its primary refuses the
 * INCR, and n2's /metrics counts each.
 */
test('/metrics counts requests refused because their deadline passed: at the SDK session and at the read-modify-write primary', async (t) => {
  const cluster = await TestCluster.create(2, [], { admin: true });
  const [n1, n2] = cluster.nodes as [DaemonProcess, DaemonProcess];
  t.after(async () => {
    n2.kill('SIGCONT');
    await cluster.cleanup();
  });
  await cluster.startAll();
  await cluster.untilConverged();

  // Straight to n2 (it coordinates), and to n1 only (n1 coordinates, n2 is the INCR's primary).
  const toN2 = await connect({ seeds: [n2.clientAddress], routing: false, keepaliveIntervalMs: 0 });
  t.after(() => toN2.close());
  const toN1 = await connect({ seeds: [n1.clientAddress], routing: false, keepaliveIntervalMs: 0 });
  t.after(() => toN1.close());
  const [counter] = (await keysLedBy(toN1, 'n2', 'expired:', 1)) as [string];
  await toN2.set('expired:warm', 1);
  await toN1.incr(counter);
  const before = await metricsOf(n2);
  assert.equal(sample(before, 'shoal_sdk_requests_expired_total'), 0);
  assert.equal(sample(before, 'shoal_rmw_expired_total'), 0);

  n2.kill('SIGSTOP');
  await Promise.all([
    assert.rejects(toN2.set('expired:set', 1, { timeoutMs: 1_000 }), TimeoutError),
    assert.rejects(toN1.incr(counter, { timeoutMs: 1_000 }), TimeoutError),
  ]);
  n2.kill('SIGCONT');

  const after = await until('n2 to count both refusals', async () => {
    const text = await metricsOf(n2);
    return (sample(text, 'shoal_sdk_requests_expired_total') ?? 0) >= 1 && (sample(text, 'shoal_rmw_expired_total') ?? 0) >= 1 ? text : undefined;
  }, 60_000);
  assert.equal(sample(after, 'shoal_sdk_requests_expired_total'), 1, 'the one set sent to n2 while it was frozen');
  assert.equal(sample(await metricsOf(n1), 'shoal_sdk_requests_expired_total'), 0, 'n1 took the INCR up in time');
  assert.equal(await toN2.get('expired:set'), null, 'the refused set was not applied');
});

async function metricsOf(node: DaemonProcess): Promise<string> {
  const response = await fetch(`${node.adminUrl!}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/**
 * Group commit shows on /metrics: INCRs of one key from 8 RESP connections at once queue on its
 * primary, which sends fewer fenced results than operations. Every node's counters are summed, since
 * which node is the key's primary depends on the ring. Counts only.
 */
test('/metrics counts read-modify-writes carried in group-committed batches', async (t) => {
  const cluster = await TestCluster.create(2, [], { resp: true, admin: true });
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const clients = Array.from({ length: 8 }, () => createClient({ socket: { host: '127.0.0.1', port: cluster.nodes[0]!.spec.respPort! } }));
  for (const c of clients) {
    c.on('error', () => {});
    await c.connect();
    t.after(() => c.destroy());
  }
  await Promise.all(clients.map((c) => Promise.all(Array.from({ length: 25 }, () => c.incr('hot')))));
  assert.equal(await clients[0]!.get('hot'), '200');

  const total = { resultWrites: 0, batches: 0, batchedOps: 0 };
  for (const node of cluster.nodes) {
    const text = await (await fetch(`${node.adminUrl!}/metrics`)).text();
    total.resultWrites += sample(text, 'shoal_rmw_result_writes_total') ?? 0;
    total.batches += sample(text, 'shoal_rmw_batches_total') ?? 0;
    total.batchedOps += sample(text, 'shoal_rmw_batched_operations_total') ?? 0;
  }
  assert.ok(total.batches >= 1 && total.batchedOps >= 2, `the queued INCRs left in batches: ${JSON.stringify(total)}`);
  assert.ok(total.resultWrites >= 1 && total.resultWrites < 200, `fewer fenced results than INCRs: ${JSON.stringify(total)}`);
});
