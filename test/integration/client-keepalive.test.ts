import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, connect } from '../../src/index.ts';
import { FakeNode, until } from './client-helpers.ts';

const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20 };
/** Generous bound for tests that wait for something to happen; they assert counts, never timings. */
const LIVENESS = { timeout: 20_000 };

test('a node that stops answering pings is cut off: its sent write fails and the client redials', LIVENESS, async () => {
  const silent = await FakeNode.start({ autoPong: false });
  // No command timeout: only the keepalive can end the write.
  const client = await connect({ seeds: silent.address, routing: false, commandTimeoutMs: 0, keepaliveIntervalMs: 20, keepaliveTimeoutMs: 50, reconnect: fastReconnect });
  try {
    const error = await client.set('k', 'v').catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.sent, true);
    assert.match((error.cause as Error).message, /did not answer a keepalive ping/);
    assert.ok(silent.pings >= 1);
    await until(() => silent.dials >= 2, 'a redial');
  } finally {
    await client.close();
    await silent.close();
  }
});

test('a node that answers pings keeps its connection while idle', LIVENESS, async () => {
  const quiet = await FakeNode.start();
  // A timeout far longer than the interval: each pong must count, or the first ping's timeout ends the connection.
  const client = await connect({ seeds: quiet.address, routing: false, keepaliveIntervalMs: 5, keepaliveTimeoutMs: 5000, reconnect: fastReconnect });
  try {
    await until(() => quiet.pings >= 3, 'three pings');
    assert.equal(quiet.dials, 1);
    assert.equal(client.status, 'ready');
  } finally {
    await client.close();
    await quiet.close();
  }
});
