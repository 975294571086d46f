/**
 * Client-side caching and expiry, against one real daemon: a tracked key set with a short expiry
 * gets an `invalidate` push once it has expired (Redis sends one when it expires the key), in the
 * default mode and in BCAST, and node-redis's clientSideCache drops the value instead of serving
 * it forever. Every wait is for a message (bounded by RawConnection's and the test's timeouts),
 * never for an amount of time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { BasicClientSideCache, createClient } from 'redis';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

let shoal: DaemonProcess;
let respPort: number;

before(async () => {
  const [clientPort, peerPort, port] = await freePorts(3);
  respPort = port!;
  shoal = new DaemonProcess({ name: 'expiry', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  await shoal.start();
  await until('the RESP port', async () => {
    const probe = await RawConnection.open(respPort);
    probe.close();
    return true;
  }, 20_000);
});

after(() => shoal?.stop());

const push = (key: string): string => `>2\r\n$10\r\ninvalidate\r\n*1\r\n$${key.length}\r\n${key}\r\n`;

/** A RESP3 connection with tracking on (`options` after CLIENT TRACKING ON). */
async function tracking(t: { after: (fn: () => void) => void }, ...options: string[]): Promise<RawConnection> {
  const c = await RawConnection.open(respPort);
  t.after(() => c.close());
  assert.match(await c.command(['HELLO', '3']), /^%7\r\n/);
  assert.equal(await c.command(['CLIENT', 'TRACKING', 'ON', ...options]), '+OK\r\n');
  return c;
}

test('default mode: a tracked GET of a key set with PX 500 gets `invalidate [key]` once the key has expired', async (t) => {
  const writer = await RawConnection.open(respPort);
  t.after(() => writer.close());
  const reader = await tracking(t);
  assert.equal(await writer.command(['SET', 'ttl:default', 'v', 'PX', '500']), '+OK\r\n');
  assert.equal(await reader.command(['GET', 'ttl:default']), '$1\r\nv\r\n');
  // Nothing else changes that key, so the next message is its expiry; after it the key is gone.
  assert.equal(await reader.read('the invalidation of the expired key'), push('ttl:default'));
  assert.equal(await reader.command(['GET', 'ttl:default']), '_\r\n');
});

test('BCAST: a key under a tracked prefix is invalidated when it is written, and again when it expires', async (t) => {
  const writer = await RawConnection.open(respPort);
  t.after(() => writer.close());
  const reader = await tracking(t, 'BCAST', 'PREFIX', 'bc:');
  assert.equal(await writer.command(['SET', 'bc:1', 'v', 'PX', '500']), '+OK\r\n');
  assert.equal(await reader.read('the invalidation of the write'), push('bc:1'));
  assert.equal(await reader.read('the invalidation of the expired key'), push('bc:1'));
  assert.equal(await reader.command(['GET', 'bc:1']), '_\r\n');
});

test('node-redis clientSideCache stops serving a cached value once its key has expired', async (t) => {
  const cache = new BasicClientSideCache({ maxEntries: 100 });
  const reader = createClient({ socket: { host: '127.0.0.1', port: respPort }, RESP: 3, clientSideCache: cache });
  const writer = createClient({ socket: { host: '127.0.0.1', port: respPort } });
  for (const c of [reader, writer]) c.on('error', () => {});
  await Promise.all([reader.connect(), writer.connect()]);
  t.after(() => Promise.all([reader.destroy(), writer.destroy()]));

  await writer.set('nr:ttl', 'v', { PX: 500 });
  const invalidated = once(cache, 'invalidate', { signal: AbortSignal.timeout(10_000) });
  assert.equal(await reader.get('nr:ttl'), 'v');
  assert.equal(await reader.get('nr:ttl'), 'v');
  assert.equal(cache.stats().hitCount, 1, 'the second GET was served from the client cache');
  const [key] = (await invalidated) as [Buffer | null];
  assert.equal(key?.toString(), 'nr:ttl');
  assert.equal(await reader.get('nr:ttl'), null);
  assert.equal(cache.stats().hitCount, 1, 'the expired value was not served from the cache');
});
