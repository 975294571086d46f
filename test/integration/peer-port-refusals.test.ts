/**
 * The peer port of a real daemon against what is not a node: a browser (a web page can make one
 * open a WebSocket to any loopback port, and sends Origin with it; a node never does) is closed
 * before anything it sends is read, and a flood of bad node handshakes is logged once a minute per
 * address, not once per connection. The node keeps serving its clients meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { freePorts } from '../../src/daemon/ports.ts';
import { NODE_ENDPOINT_PATH } from '../../src/protocol/limits.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

/** Opens a WebSocket to the peer port, sends `bytes` once open, and resolves with how the node closed it. */
function closeOf(peerPort: number, bytes: Uint8Array, origin?: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${peerPort}${NODE_ENDPOINT_PATH}`, origin === undefined ? {} : { origin });
    socket.on('open', () => socket.send(bytes));
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('error', reject);
  });
}

const BAD_HANDSHAKES = 20;

test('the peer port closes browsers at once and logs bad handshakes once a minute per address', async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'pr1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const client = await RawConnection.open(respPort!);
  t.after(() => client.close());
  const refusals = () => node.logs.filter((l) => String(l.msg).startsWith('refused a node connection'));

  for (let i = 0; i < BAD_HANDSHAKES; i++) {
    assert.deepEqual(await closeOf(peerPort!, new TextEncoder().encode('not a handshake')), { code: 1008, reason: 'bad handshake' });
  }
  assert.equal(await client.command(['PING']), '+PONG\r\n', 'a client is served while the peer port is flooded');

  // A handshake a node would send, from a browser: refused for the Origin, never read.
  const fromBrowser = await closeOf(peerPort!, new TextEncoder().encode('not read'), 'https://evil.example');
  assert.deepEqual(fromBrowser, { code: 1008, reason: 'browsers may not connect to the peer port' });
  // Logged after every handshake line (one process writes them in order), so all are in by now.
  const browserLine = await until('the browser refusal line', () => refusals().find((l) => String(l.msg).includes('Origin https://evil.example')), 10_000);
  assert.equal(browserLine.remote, '127.0.0.1');
  const handshakeLines = refusals().filter((l) => String(l.msg).includes('handshake'));
  assert.equal(handshakeLines.length, 1, `${BAD_HANDSHAKES} bad handshakes from one address make one line a minute: ${JSON.stringify(handshakeLines)}`);
  assert.match(String(handshakeLines[0]!.msg), /^refused a node connection from 127\.0\.0\.1: its node handshake is not valid/);
  assert.equal(await client.command(['PING']), '+PONG\r\n');
});
