/**
 * SDK near-cache invalidation subscriptions under ACLs, against a real daemon, on the SDK wire
 * (the client's own codec over a WebSocket: the near cache does not show the names it is told
 * of, only the entries it drops). Invalidations name keys, so a subscribed user must be told only
 * keys it may read: a prefix that its pattern matches as a key (`user:{u}:profile` for
 * `~user:*:profile`) must not stream `user:{u}:profile:ssn`, and a subscription to every key
 * streams a restricted user its own keys only.
 *
 * Every wait is for a message: the user's own key, written last in the same partition (one hash
 * tag: one partition, whose changes arrive in order), ends each read.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { freePorts } from '../../src/daemon/ports.ts';
import { CLIENT_ENDPOINT_PATH, decodeServerFrame, encodeClientFrame, type ServerFrame } from '../../src/protocol/index.ts';
import { connect, stringCodec } from '../../src/index.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

let shoal: DaemonProcess;
let admin: RawConnection;
const ports = { client: 0, resp: 0 };

before(async () => {
  const [clientPort, peerPort, respPort] = await freePorts(3);
  Object.assign(ports, { client: clientPort!, resp: respPort! });
  shoal = new DaemonProcess({ name: 'near-acl', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  await shoal.start();
  admin = await until('the RESP port', () => RawConnection.open(ports.resp), 20_000);
  assert.equal(await admin.command(['ACL', 'SETUSER', 'prof', 'on', '>profpw', 'resetkeys', '~user:*:profile', '-@all', '+get', '+set']), '+OK\r\n');
  assert.equal(await admin.command(['ACL', 'SETUSER', 'cachey', 'on', '>cachepw', 'resetkeys', '~cache:*', '-@all', '+get']), '+OK\r\n');
});

after(() => {
  admin?.close();
  return shoal?.stop();
});

/** A raw SDK connection: frames in order, each awaited. */
class SdkWire {
  private readonly frames: ServerFrame[] = [];
  private wake: (() => void) | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeServerFrame(new Uint8Array(data)));
      this.wake?.();
    });
  }

  static async open(username: string, password: string): Promise<SdkWire> {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.client}${CLIENT_ENDPOINT_PATH}`);
    await once(ws, 'open');
    const wire = new SdkWire(ws);
    ws.send(encodeClientFrame({ type: 'hello', minVersion: 1, maxVersion: 1, client: 'near-cache-acl-test', credentials: { username, password } }));
    assert.equal((await wire.next()).type, 'welcome');
    return wire;
  }

  async next(): Promise<ServerFrame> {
    for (let i = 0; this.frames.length === 0; i++) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame from the node within 10 s')), 10_000);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
      });
    }
    return this.frames.shift()!;
  }

  /** The reply to an `invalidations` request (pushes before it are dropped: none name keys yet). */
  async subscribe(prefixes: string[]): Promise<ServerFrame> {
    this.ws.send(encodeClientFrame({ type: 'requests', requests: [{ op: 'invalidations', id: 1, partitions: new Uint8Array(2048).fill(0xff), prefixes }] }));
    for (;;) {
      const frame = await this.next();
      if (frame.type === 'replies') return frame;
    }
  }

  /** Every key the invalidation pushes name, until one names `last`. */
  async keysUntil(last: string): Promise<string[]> {
    const named: string[] = [];
    for (let frames = 0; frames < 1000; frames++) {
      const frame = await this.next();
      if (frame.type !== 'push' || frame.push.kind !== 'invalidations') continue;
      const keys = frame.push.batch.partitions.flatMap((p) => p.keys.map((k) => k.key));
      named.push(...keys);
      if (keys.includes(last)) return named;
    }
    throw new Error(`1000 frames without ${last}: ${named.join(' ')}`);
  }

  close(): void {
    this.ws.close();
  }
}

test('a prefix that a `~user:*:profile` pattern matches as a key streams the profile key only, not the keys that extend it', async (t) => {
  const wire = await SdkWire.open('prof', 'profpw');
  t.after(() => wire.close());
  const reply = await wire.subscribe(['user:{u1}:profile']);
  assert.deepEqual(reply.type === 'replies' && reply.replies[0]!.ok, true, JSON.stringify(reply));
  assert.equal(await admin.command(['SET', 'user:{u1}:profile:ssn', '123-45-6789']), '+OK\r\n');
  assert.equal(await admin.command(['SET', 'user:{u1}:profile_private', 'x']), '+OK\r\n');
  assert.equal(await admin.command(['SET', 'user:{u1}:profile', 'v']), '+OK\r\n');
  assert.deepEqual(await wire.keysUntil('user:{u1}:profile'), ['user:{u1}:profile']);
});

test('a restricted user subscribed to every key is streamed only the keys its patterns allow', async (t) => {
  const wire = await SdkWire.open('cachey', 'cachepw');
  t.after(() => wire.close());
  const reply = await wire.subscribe([]);
  assert.deepEqual(reply.type === 'replies' && reply.replies[0]!.ok, true, JSON.stringify(reply));
  for (let i = 0; i < 10; i++) assert.equal(await admin.command(['SET', `secret:{c}${i}`, 'v']), '+OK\r\n');
  assert.equal(await admin.command(['SET', 'cache:{c}', 'v']), '+OK\r\n');
  assert.deepEqual(await wire.keysUntil('cache:{c}'), ['cache:{c}']);
});

test('the SDK near cache of a restricted user without prefixes is kept fresh (its subscription was refused before)', async (t) => {
  const client = await connect({ seeds: [`127.0.0.1:${ports.client}`], codec: stringCodec, username: 'cachey', password: 'cachepw', nearCache: { maxEntries: 100 } });
  const errors: Error[] = [];
  client.on('error', (error) => errors.push(error));
  t.after(() => client.close());
  assert.equal(await admin.command(['SET', 'cache:near', 'v1']), '+OK\r\n');
  // Installed once the stream's first heartbeat is in: read until a read is served near.
  await until('a near-cache hit', async () => {
    assert.equal(await client.get('cache:near'), 'v1');
    return (client.nearCacheStats()?.hits ?? 0) > 0 ? true : undefined;
  }, 20_000);
  const invalidated = new Promise<void>((resolve) => client.on('invalidate', () => resolve()));
  assert.equal(await admin.command(['SET', 'cache:near', 'v2']), '+OK\r\n');
  await invalidated;
  assert.equal(await client.get('cache:near'), 'v2');
  assert.deepEqual(errors, []);
});
