/**
 * A write sent to a frozen node (SIGSTOP) fails promptly instead of waiting for the idle keepalive
 * or its own timeout, and new writes go to another replica. The client pings a connection that
 * holds calls and has received nothing for a second; a frozen node cannot answer, so the
 * connection is cut: the sent write fails with ConnectionError (`sent: true`: it is not resent, it
 * could apply twice) and the next write of a key the frozen node leads is coordinated by another
 * replica. Here the idle keepalive (60 s) and the call timeout (120 s) are far off, so before the
 * change the write hung until the test's bound. Events and outcomes only: no duration is asserted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionError, connect, stringCodec } from '../../src/client/index.ts';
import { TestCluster } from './daemon-harness.ts';
import { keysLedBy, untilConnected } from './ring-keys.ts';

/** Only bounds a hang: far beyond what the ping takes, far below the keepalive and the timeout. */
const HANG_BOUND_MS = 40_000;

test('a write to a frozen node fails with ConnectionError (sent) once its ping goes unanswered, and the next write is rerouted', { timeout: 180_000 }, async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const n2 = cluster.nodes[1]!;
  t.after(() => n2.kill('SIGCONT'));

  const client = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 120_000, keepaliveIntervalMs: 60_000, keepaliveTimeoutMs: 5_000 });
  t.after(() => client.close());
  const [stuck, next] = (await keysLedBy(client, 'n2', 'frozen:', 2)) as [string, string];
  await untilConnected(client, n2);
  await client.set(stuck, 'v1', { consistency: 'all' });

  n2.kill('SIGSTOP');
  let hangTimer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hung'>((resolve) => (hangTimer = setTimeout(() => resolve('hung'), HANG_BOUND_MS)));
  const outcome = await Promise.race([client.set(stuck, 'v2').then(() => 'applied', (error: unknown) => error), hang]);
  clearTimeout(hangTimer);
  assert.ok(outcome instanceof ConnectionError, `the write to the frozen node: ${String(outcome)}`);
  assert.equal(outcome.sent, true, 'a sent write is reported as possibly applied, and not resent');
  assert.match((outcome.cause as Error).message, /did not answer a ping/);

  // n2 is still frozen: the next write of a key it leads goes to another replica and is acknowledged
  // (sent to n2, it could only fail as the first did).
  assert.notEqual(client.nodes().find((c) => c.address === n2.clientAddress)?.state, 'ready');
  await client.set(next, 'v', { consistency: 'quorum' });
});
