/**
 * One client must not be able to flood a real daemon's log: a pipeline of failed AUTHs past the
 * address's limit made one warn line per attempt, and a client reconnecting to send a malformed
 * SDK frame one info line per connection. Each is now logged once a minute per address (and, for
 * the SDK's closes, per error code), with `suppressed` counting the rest on the next line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { freePorts } from '../../src/daemon/ports.ts';
import { CLIENT_ENDPOINT_PATH, NODE_ENDPOINT_PATH } from '../../src/protocol/limits.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

const AUTH_ATTEMPTS = 200;
const MALFORMED_CONNECTIONS = 30;

/** Opens a WebSocket, sends `bytes`, and resolves once the node closed it. */
function sendAndClosed(url: string, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('open', () => socket.send(bytes));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

test('failed AUTHs past the limit and malformed SDK frames are logged once a minute per address', async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'lf1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const client = await RawConnection.open(respPort!);
  t.after(() => client.close());

  for (let i = 0; i < AUTH_ATTEMPTS; i++) client.send(['AUTH', 'nobody', 'wrong']);
  const replies = [];
  for (let i = 0; i < AUTH_ATTEMPTS; i++) replies.push(await client.read());
  assert.ok(replies.some((r) => r.startsWith('-ERR too many failed authentication attempts')), 'the address reached its limit');

  const notMsgpack = new Uint8Array([0xc1]);
  for (let i = 0; i < MALFORMED_CONNECTIONS; i++) await sendAndClosed(`ws://127.0.0.1:${port}${CLIENT_ENDPOINT_PATH}`, notMsgpack);
  assert.equal(await client.command(['PING']), '+PONG\r\n');

  // The node writes its log in order: once this later line is in, every line before it is too.
  await sendAndClosed(`ws://127.0.0.1:${peerPort}${NODE_ENDPOINT_PATH}`, notMsgpack);
  await until('the peer port refusal line', () => node.logs.find((l) => String(l.msg).startsWith('refused a node connection')), 10_000);
  const lines = (msg: string) => node.logs.filter((l) => l.msg === msg);
  assert.equal(lines('AUTH refused: too many failures from this address').length, 1, 'refused AUTHs: one line');
  assert.equal(lines('closing client connection').filter((l) => l.code === 'malformed-frame').length, 1, 'malformed frames: one line');
});
