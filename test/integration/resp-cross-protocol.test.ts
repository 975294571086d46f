/**
 * Cross-protocol scripting: a web page can make a browser send an HTTP request to any port on
 * loopback, and a POST's body, line by line, reads as inline RESP commands. redis-server (since
 * 3.2.7) closes a connection whose command is named `POST` or `Host:` at once, without a reply,
 * and logs "Possible SECURITY ATTACK detected". A Shoal daemon closes it there too, so nothing
 * after runs, but first answers what came before and a protocol error saying why (docs/REDIS.md,
 * "Known differences"); it goes on serving its other clients. The same bytes go to a real
 * redis-server and to a real daemon's RESP port.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { HTTP_REQUEST_ERROR } from '../../src/resp/cross-protocol.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection, startRedis } from './resp-raw.ts';

/** Sends `text` on a new connection and resolves with everything received once the server closes it. */
function sendUntilClosed(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(text));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    // Half-closed by us (end): a server that does not close at the POST answers the rest and then ends.
    socket.on('close', () => resolve(received));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

const CLOSING = `-${HTTP_REQUEST_ERROR}\r\n`;

// What a browser sends for fetch('http://127.0.0.1:PORT/', { method: 'POST', body }) (trimmed), and
// variants, with what Shoal answers before it closes (redis-server answers nothing).
const ATTACKS: [string, string][] = [
  ['POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\nSET xproto:1 owned\r\n', CLOSING],
  ['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nSET xproto:2 owned\r\n', `-ERR wrong number of arguments for 'get' command\r\n${CLOSING}`],
  ['PING\r\nhOsT: 127.0.0.1\r\nSET xproto:3 owned\r\n', `+PONG\r\n${CLOSING}`],
  ['*1\r\n$4\r\npost\r\n*3\r\n$3\r\nSET\r\n$8\r\nxproto:4\r\n$5\r\nowned\r\n', CLOSING],
];

test('a command named POST or Host: closes the connection before anything after it runs, as redis-server does', async (t) => {
  const [port, peerPort, respPort, redisPort] = await freePorts(4);
  const node = new DaemonProcess({ name: 'xp1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  const redis = await startRedis(redisPort!);
  t.after(() => redis.kill('SIGKILL'));
  await node.start();
  const redisClient = await RawConnection.open(redisPort!);
  const shoalClient = await RawConnection.open(respPort!);
  t.after(() => {
    redisClient.close();
    shoalClient.close();
  });

  for (const [i, [attack, answer]] of ATTACKS.entries()) {
    assert.equal(await sendUntilClosed(redisPort!, attack), '', `redis-server's replies to ${JSON.stringify(attack)}`);
    assert.equal(await sendUntilClosed(respPort!, attack), answer, `Shoal's replies to ${JSON.stringify(attack)}`);
    // Nothing after the request line or header ran; another client is answered meanwhile.
    assert.equal(await redisClient.command(['GET', `xproto:${i + 1}`]), '$-1\r\n');
    assert.equal(await shoalClient.command(['GET', `xproto:${i + 1}`]), '$-1\r\n');
  }
  const line = await until('the cross-protocol warning', () => node.logs.find((l) => String(l.msg).includes('cross-protocol')), 10_000);
  assert.equal(line.level, 40, 'logged as a warning');
  assert.match(String(line.msg), /127\.0\.0\.1/, 'the line names the remote address');
  assert.equal(node.logs.filter((l) => String(l.msg).includes('cross-protocol')).length, 1, 'at most one line a minute per address');
});
