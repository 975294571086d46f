// The SDK on a WHATWG-only WebSocket, as in browsers, Deno and Bun: `ws` wrapped so that only the
// standard API shows (no ping, pong or terminate). The pack-install test also runs the installed
// browser entry on Node's own WebSocket; these cover what that cannot: routing with a real node,
// and the keepalive that cannot ping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ConnectionError, connect } from '../../src/index.ts';
import { FakeNode, StandardWebSocket, startNode, until } from './client-helpers.ts';

/** `ws` showing only the WHATWG API; starts in 'blob' mode like a browser's WebSocket. */
class StandardOnly extends StandardWebSocket {
  static created = 0;

  constructor(url: string) {
    super(new WebSocket(url));
    StandardOnly.created++;
    this.socket.binaryType = 'blob' as WebSocket['binaryType']; // ws supports it; @types/ws does not list it
  }
}

const LIVENESS = { timeout: 20_000 };
const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20 };

test('set and get through a WHATWG-only WebSocket', LIVENESS, async () => {
  const node = await startNode();
  const before = StandardOnly.created;
  const client = await connect({ seeds: node.address, webSocket: StandardOnly });
  try {
    await client.set('k', { n: 1 });
    assert.deepEqual(await client.get('k'), { n: 1 });
    assert.ok(StandardOnly.created > before, 'the client dialed with the given class');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('without pings, a connection that holds a call and stays silent is cut, and the client redials', LIVENESS, async () => {
  const silent = await FakeNode.start({ autoPong: false });
  // No command timeout: only the keepalive can end the write.
  const client = await connect({ seeds: silent.address, routing: false, commandTimeoutMs: 0, keepaliveIntervalMs: 20, keepaliveTimeoutMs: 50, reconnect: fastReconnect, webSocket: StandardOnly });
  try {
    const error = await client.set('k', 'v').catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.sent, true);
    assert.match((error.cause as Error).message, /did not answer its outstanding calls \(keepalive\)/);
    assert.equal(silent.pings, 0, 'a WHATWG socket cannot ping');
    await until(() => silent.dials >= 2, 'a redial');
  } finally {
    await client.close();
    await silent.close();
  }
});
