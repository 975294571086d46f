// CLIENT REPLY ON|OFF|SKIP (probe-redis finding 11): a client that turns replies off must get none
// until it turns them on again, or its reply stream is shifted by one. One pipelined script goes to
// a real redis-server 7.0 and to a Shoal node's RESP port over raw sockets, and everything each
// sends back is compared byte for byte. A final PING marks the end of the stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess } from './daemon-harness.ts';
import { RawConnection, startRedis, type Arg } from './resp-raw.ts';

const SCRIPT: Arg[][] = [
  ['SET', 'r:a', '1'],
  ['CLIENT', 'REPLY', 'OFF'],
  ['SET', 'r:b', '2'],
  ['GET', 'r:a'],
  ['INCR', 'r:a'],
  ['NOSUCHCOMMAND'],
  ['CLIENT', 'REPLY', 'SKIP'],
  ['CLIENT', 'REPLY', 'ON'],
  ['GET', 'r:a'],
  ['CLIENT', 'REPLY', 'SKIP'],
  ['GET', 'r:b'],
  ['GET', 'r:a'],
  ['CLIENT', 'REPLY', 'SKIP'],
  ['CLIENT', 'REPLY', 'SKIP'],
  ['GET', 'r:b'],
  ['CLIENT', 'REPLY', 'MAYBE'],
  ['CLIENT', 'REPLY'],
  ['PING', 'end'],
];

/** Sends the whole script in one go and reads every reply up to the final PING's. */
async function run(port: number): Promise<string[]> {
  const conn = await RawConnection.open(port);
  try {
    for (const command of SCRIPT) conn.send(command);
    const replies: string[] = [];
    for (;;) {
      const reply = await conn.read('the script');
      replies.push(reply);
      if (reply === '$3\r\nend\r\n') return replies;
    }
  } finally {
    conn.close();
  }
}

test('CLIENT REPLY OFF, SKIP and ON leave out exactly the replies redis-server leaves out', { timeout: 120_000 }, async (t) => {
  const [redisPort, clientPort, peerPort, respPort] = await freePorts(4);
  const redis = await startRedis(redisPort!);
  t.after(() => redis.kill('SIGKILL'));
  const shoal = new DaemonProcess({ name: 'reply', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  t.after(() => shoal.stop());
  await shoal.start();

  const fromRedis = await run(redisPort!);
  const fromShoal = await run(respPort!);
  assert.deepEqual(fromShoal, fromRedis);
  // What Redis sends: the first SET, ON's OK, the GET after ON, the GET after a skipped one, the two errors, the PING.
  assert.equal(fromRedis.length, 7, JSON.stringify(fromRedis));
});
