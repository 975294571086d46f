/**
 * Expiries past what a record holds (docs/REDIS.md, "Known differences"): Redis takes expiries up
 * to 2^63 - 1 ms, a record holds them to 2^53 - 1 ms (MAX_EXPIRY_MS). A key given a later expiry,
 * through RESP or the SDK, on a real daemon, is held with MAX_EXPIRY_MS: the SDK reads it (before,
 * its reply was a malformed frame to the client, which dropped the connection and failed every
 * write in flight on it) and PEXPIRETIME answers that time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { MAX_EXPIRY_MS } from '../../src/replication/record.ts';
import { DaemonProcess } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

const LLONG_MAX = '9223372036854775807';

test('an expiry past 2^53 - 1 ms is held as that: the SDK reads the key, PEXPIRETIME answers it', async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'far', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const redis = await RawConnection.open(respPort!);
  t.after(() => redis.close());
  const client = await connect({ seeds: [node.clientAddress], codec: stringCodec });
  t.after(() => client.close());

  // Each of these asks for an expiry after MAX_EXPIRY_MS; Redis takes every one.
  assert.equal(await redis.command(['SET', 'far:pxat', 'v', 'PXAT', LLONG_MAX]), '+OK\r\n');
  assert.equal(await redis.command(['SET', 'far:px', 'v', 'PX', '9007199254740000']), '+OK\r\n');
  assert.equal(await redis.command(['PSETEX', 'far:psetex', '9007199254740991', 'v']), '+OK\r\n');
  assert.equal(await redis.command(['SET', 'far:expire', 'v']), '+OK\r\n');
  assert.equal(await redis.command(['EXPIRE', 'far:expire', '9007199254740']), ':1\r\n');
  assert.equal(await redis.command(['SET', 'far:getex', 'v']), '+OK\r\n');
  assert.equal(await redis.command(['GETEX', 'far:getex', 'EXAT', '9223372036854775']), '$1\r\nv\r\n');
  await client.set('far:sdk', 'v', { ttlMs: Number.MAX_SAFE_INTEGER });
  const keys = ['far:pxat', 'far:px', 'far:psetex', 'far:expire', 'far:getex', 'far:sdk'];

  for (const key of keys) {
    // Writes in flight on the same connection while the key is read: none may fail with it.
    const writes = Array.from({ length: 20 }, (_, i) => client.set(`other:${key}:${i}`, 'x'));
    const read = await client.get(key, { detail: true });
    assert.equal(read.value, 'v', key);
    assert.equal(read.expiresAtMs, MAX_EXPIRY_MS, key);
    await Promise.all(writes);
    assert.equal(await redis.command(['PEXPIRETIME', key]), `:${MAX_EXPIRY_MS}\r\n`, key);
  }
  assert.equal(client.status, 'ready');
  // GT compares with the held time: a later one is no later once held, an earlier one is earlier.
  assert.equal(await redis.command(['PEXPIREAT', 'far:px', LLONG_MAX, 'GT']), ':1\r\n');
  assert.equal(await redis.command(['PEXPIREAT', 'far:px', '9007199254740000', 'GT']), ':0\r\n');
  assert.equal(await redis.command(['PEXPIREAT', 'far:px', '9007199254740000', 'LT']), ':1\r\n');
  assert.equal(await redis.command(['PEXPIRETIME', 'far:px']), ':9007199254740000\r\n');
});
