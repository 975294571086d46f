/**
 * A rolling restart of real processes under load: `shoal dev` runs 3 nodes; SDK clients write and
 * read their keys at QUORUM without pause while a `restart` line on dev's stdin restarts every node
 * in turn (graceful leave, start again, wait for convergence). Not one request may fail, every read
 * returns the latest acknowledged value of its key, and afterwards every key reads back as its
 * latest acknowledged write.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { connect, type ShoalClient } from '../../src/client/index.ts';
import { SHOAL_BIN, until } from './daemon-harness.ts';

const NODES = 3;
const WORKERS = 4;
const KEYS_PER_WORKER = 8;
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

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A base port whose dev ports (base + 10i and base + 10i + 1) are all free. */
async function freeDevBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 3000);
    const ports = Array.from({ length: NODES }, (_, i) => [base + 10 * i, base + 10 * i + 1]).flat();
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no free range of dev ports found');
}

interface Worker {
  ops: number;
  /** Latest acknowledged value per key: each key has one writer, which waits for each write. */
  acked: Map<string, string>;
  failures: string[];
  stale: string[];
}

/** One client loop: write a key, read a key it wrote, until told to stop. */
async function work(client: ShoalClient<string>, id: number, w: Worker, stop: () => boolean): Promise<void> {
  for (let seq = 1; !stop(); seq++) {
    const key = `w${id}:k${seq % KEYS_PER_WORKER}`;
    const value = `w${id}:${seq}`;
    try {
      await client.set(key, value, { consistency: 'quorum' });
      w.acked.set(key, value);
      const probe = `w${id}:k${(seq * 5) % KEYS_PER_WORKER}`;
      const read = await client.get(probe, { consistency: 'quorum' });
      const expected = w.acked.get(probe) ?? null;
      if (read !== expected) w.stale.push(`${probe}: read ${String(read)}, latest acknowledged ${String(expected)}`);
    } catch (error) {
      w.failures.push(`${key}: ${(error as Error).name}: ${(error as Error).message}`);
    }
    w.ops++;
  }
}

test('shoal dev rolling restart: 3 nodes restarted one by one under QUORUM load, 0 failed requests, no acknowledged write lost', HANG_BOUND, async (t) => {
  const base = await freeDevBase();
  const dev = spawn(process.execPath, [SHOAL_BIN, 'dev', '--nodes', String(NODES), '--base-port', String(base), '--replica-timeout', REPLICA_TIMEOUT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  dev.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const devExit = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
  let client: ShoalClient<string> | null = null;
  t.after(async () => {
    await client?.close();
    // SIGKILL reaches dev only; its exit handler kills its nodes (they are in their own group).
    if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGKILL');
  });
  const said = (pattern: RegExp, what: string) =>
    until(what, () => {
      if (/rolling restart failed|exited \(/.test(output)) throw new Error(`shoal dev failed:\n${output}`);
      return pattern.test(output) ? true : undefined;
    }, HANG_BOUND.timeout, 100);

  await said(/cluster ready/, 'shoal dev to say its cluster is ready');
  client = await connect<string>({ seeds: Array.from({ length: NODES }, (_, i) => `127.0.0.1:${base + 10 * i}`) });

  const workers: Worker[] = Array.from({ length: WORKERS }, () => ({ ops: 0, acked: new Map(), failures: [], stale: [] }));
  let stopping = false;
  const running = workers.map((w, i) => work(client!, i, w, () => stopping));
  const opsNow = () => workers.reduce((s, w) => s + w.ops, 0);

  await until('the workload to run', () => (opsNow() >= WORKERS * OPS_BEFORE ? true : undefined), HANG_BOUND.timeout, 50);
  const beforeRestart = opsNow();
  dev.stdin.write('restart\n');
  await said(/rolling restart done/, 'the rolling restart to finish');
  const duringRestart = opsNow() - beforeRestart;
  const afterRestart = opsNow();
  await until('the workload to run on the restarted cluster', () => (opsNow() >= afterRestart + WORKERS * OPS_AFTER ? true : undefined), HANG_BOUND.timeout, 50);
  stopping = true;
  await Promise.all(running);

  for (let i = 1; i <= NODES; i++) assert.match(output, new RegExp(`rolling restart: node${i} back \\(${i}/${NODES}\\)`), `node${i} was restarted`);
  assert.ok(duringRestart > 0, 'requests ran during the restart');
  assert.deepEqual(workers.flatMap((w) => w.failures), [], 'failed requests');
  assert.deepEqual(workers.flatMap((w) => w.stale), [], 'reads that missed the latest acknowledged write');

  // Every acknowledged write, read back at QUORUM from the restarted cluster.
  const lost: string[] = [];
  for (const w of workers) {
    for (const [key, value] of w.acked) {
      const read = await client.get(key, { consistency: 'quorum' });
      if (read !== value) lost.push(`${key}: read ${String(read)}, acknowledged ${value}`);
    }
  }
  assert.deepEqual(lost, [], 'acknowledged writes not read back');
  assert.equal(workers.reduce((s, w) => s + w.acked.size, 0), WORKERS * KEYS_PER_WORKER);

  await client.close();
  client = null;
  dev.kill('SIGINT');
  assert.equal(await devExit, 0, output);
  assert.match(output, /all nodes stopped/);
  process.stdout.write(`rolling-restart: ${opsNow()} requests, ${duringRestart} during the rolling restart, 0 failed\n`);
});
