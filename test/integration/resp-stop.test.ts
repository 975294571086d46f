/**
 * Plain Redis clients on a node that stops gracefully (SIGTERM), on a real 3-node cluster (N=3,
 * R=W=2, every node with its RESP port): the node stops reading commands at once, answers those
 * it started, closes each connection and refuses new ones while it still hands its partitions
 * off, so a client meets no error reply (MOVED, CLUSTERDOWN) and never a command that ran without
 * an answer. Each client keeps several SETs in flight (ioredis, no retries, so every failure shows).
 *
 * The leave is held open on purpose: n2 is paused (SIGSTOP) before n3 stops, so n3 cannot finish
 * handing off to it, and everything asserted about n3's connections happens while n3 still runs.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { Redis, ReplyError } from 'ioredis';
import { TestCluster, until, type DaemonProcess } from './daemon-harness.ts';

const CLIENTS = 4;
const IN_FLIGHT_PER_CLIENT = 8;

let cluster: TestCluster;
let respPorts: number[] = [];

before(async () => {
  // n3's stop waits for n2 (paused below) far longer than the test looks at it.
  cluster = await TestCluster.create(3, ['--replicas', '3', '--read-quorum', '2', '--write-quorum', '2', '--shutdown-timeout', '2m'], { resp: true });
  respPorts = cluster.nodes.map((n) => n.spec.respPort!);
  await cluster.startAll();
  await cluster.untilConverged();
});

after(async () => {
  cluster?.nodes[1]?.kill('SIGCONT');
  await cluster?.cleanup();
});

/** A connection attempt's outcome: 'connected' or the error code (ECONNREFUSED). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

test('a stopping node answers the commands it started, then closes its Redis connections and refuses new ones', { timeout: 180_000 }, async (t) => {
  const [, n2, n3] = cluster.nodes as [DaemonProcess, DaemonProcess, DaemonProcess];
  const clients = Array.from({ length: CLIENTS }, () => {
    const client = new Redis({ port: respPorts[2]!, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => {});
    return client;
  });
  const idle = new Redis({ port: respPorts[2]!, retryStrategy: () => null });
  idle.on('error', () => {});
  await until('the clients to connect to n3', () => ([...clients, idle].every((c) => c.status === 'ready') ? true : undefined), 30_000);
  let idleClosed = false;
  idle.once('close', () => (idleClosed = true));

  const answered = new Map<string, string>();
  const unanswered: string[] = [];
  const errorReplies: string[] = [];
  const loops = clients.flatMap((client, c) =>
    Array.from({ length: IN_FLIGHT_PER_CLIENT }, async (_, l) => {
      for (let i = 0; ; i++) {
        const key = `stop:${c}:${l}:${i}`;
        try {
          await client.set(key, `v${i}`);
          answered.set(key, `v${i}`);
        } catch (error) {
          if (error instanceof ReplyError) errorReplies.push((error as Error).message);
          else {
            // The connection is gone: this command, and this loop, end unanswered.
            unanswered.push(key);
            return;
          }
        }
      }
    }),
  );
  await until('the clients to write through n3', () => (answered.size >= 500 ? true : undefined), 60_000);

  n2.kill('SIGSTOP');
  n3.kill('SIGTERM');
  let loopsEnded = false;
  const ended = Promise.all(loops).then(() => (loopsEnded = true));
  await until('n3 to close every Redis connection', () => (loopsEnded && idleClosed ? true : undefined), 30_000);
  await ended;
  // Closed by the stop's drain, not by the process ending: n3 still runs, and refuses newcomers.
  assert.equal(n3.running, true, 'n3 still hands off to the paused n2');
  assert.equal(await tryConnect(respPorts[2]!), 'ECONNREFUSED');
  // Its log comes through another pipe than the closes: on a loaded machine it may be read later.
  await until('n3 to log its stop', () => (n3.logs.some((l) => String(l.msg).startsWith('stopping: leaving the cluster')) ? true : undefined), 30_000);

  n2.kill('SIGCONT');
  assert.equal(await n3.exited(), 0, `n3's graceful stop finished: ${n3.stderr}`);
  assert.deepEqual(errorReplies.slice(0, 5), [], `no error replies (${errorReplies.length} in all)`);
  assert.equal(unanswered.length, CLIENTS * IN_FLIGHT_PER_CLIENT, 'every loop ended on a closed connection');

  // Through n1: every answered write is there, and no unanswered one ran.
  const reader = new Redis({ port: respPorts[0]! });
  try {
    await cluster.untilConverged();
    const keys = [...answered.keys()];
    const values = await reader.mget(...keys);
    assert.equal(values.filter((v, i) => v === answered.get(keys[i]!)).length, keys.length, 'every answered SET is kept');
    assert.deepEqual(await reader.mget(...unanswered), unanswered.map(() => null), 'no unanswered SET ran');
  } finally {
    reader.disconnect();
    for (const client of clients) client.disconnect();
    idle.disconnect();
  }
  t.diagnostic(`${answered.size} SETs answered, ${unanswered.length} not run`);
});
