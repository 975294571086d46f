/**
 * probe-sdk F3 (/work/notes/s19): a frozen node (SIGSTOP) keeps its SDK connection "ready" until the
 * keepalive cuts it, and every read of the keys it is primary of waited for it: with keepalive off,
 * until the call's timeout. A read whose node stays silent for READ_HEDGE_AFTER_MS now also goes to
 * another replica, and the first answer wins. Events and counts only: the read must succeed while
 * its primary is frozen, well inside its timeout; no duration is asserted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { PlatformTimers } from '../../src/client/timers.ts';
import { HoldingKv, startNode } from './client-helpers.ts';
import { keysLedBy, untilConnected } from './ring-keys.ts';
import { TestCluster, until } from './daemon-harness.ts';

test('a read whose primary is frozen is answered by another replica', async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const n2 = cluster.nodes[1]!;
  t.after(() => n2.kill('SIGCONT'));

  // Keepalive off: the connection to n2 stays "ready" through the freeze, as it does for up to
  // 15 s with the default keepalive.
  const client = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 60_000, keepaliveIntervalMs: 0 });
  t.after(() => client.close());
  const keys = await keysLedBy(client, 'n2', 'hedge:', 5);
  await untilConnected(client, n2);
  for (const key of keys) await client.set(key, `v:${key}`, { consistency: 'all' });

  n2.kill('SIGSTOP');
  // Before: each read waited for n2 until its 60 s timeout. QUORUM: n1 and n3 hold every key.
  const values = await Promise.all(keys.map((key) => client.get(key, { consistency: 'quorum' })));
  assert.deepEqual(values, keys.map((key) => `v:${key}`));
});

/**
 * The hedge costs no timer per read: 50 routed gets held by their node arm their 50 timeouts and
 * one shared hedge sweep. Before, each also armed a hedge timer of its own (100 in all). Timers are
 * counted, not timed.
 */
test('routed reads awaiting their hedge share one timer', async (t) => {
  let holding: HoldingKv | null = null;
  const node = await startNode({ wrap: (kv) => (holding = new HoldingKv(kv)) });
  t.after(() => node.server.close());
  const held = holding! as HoldingKv;
  const platform = new PlatformTimers();
  let armed = 0;
  const timers = {
    setTimer: (delayMs: number, fn: () => void) => {
      armed++;
      return platform.setTimer(delayMs, fn);
    },
    cancelTimer: (id: number) => platform.cancelTimer(id),
  };
  const client = await connect({ seeds: [node.address], timers, keepaliveIntervalMs: 0 });
  t.after(() => client.close());
  await client.topology();
  await until('the client to route by the ring', () => (client.topologyVersion !== null ? true : undefined), 10_000);

  const before = armed;
  const reads = Array.from({ length: 50 }, (_, i) => client.get(`hold:${i}`));
  await held.untilHeld(50);
  assert.equal(armed - before, 50 + 1, 'one timeout per read and one hedge sweep for all of them');
  held.release();
  assert.deepEqual(await Promise.all(reads), Array.from({ length: 50 }, () => null));
});
