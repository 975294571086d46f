import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Keyring, KeyringError, keyIdHex, parseGossipKey } from '../../src/security/keyring.ts';
import { KIND, SealingTransport, SEALED_OVERHEAD_BYTES, REPLAY_WINDOW, UNKNOWN_KEY_SENDER_TTL_MS } from '../../src/security/sealing-transport.ts';
import type { Datagram, NodeAddress, ReceiveHandler, Transport } from '../../src/runtime/env.ts';
import { joinDatagram } from '../../src/protocol/datagram.ts';

/** A loopback network: every send is captured (to replay or tamper) and delivered at once. */
class Net {
  readonly handlers = new Map<NodeAddress, ReceiveHandler>();
  readonly captured: { from: NodeAddress; to: NodeAddress; bytes: Uint8Array }[] = [];
  transport(address: NodeAddress): Transport {
    return {
      send: (to: NodeAddress, datagram: Datagram) => {
        const bytes = joinDatagram(datagram).slice();
        this.captured.push({ from: address, to, bytes });
        this.handlers.get(to)?.(address, bytes);
      },
      onReceive: (handler) => void this.handlers.set(address, handler),
    };
  }
  deliver(from: NodeAddress, to: NodeAddress, bytes: Uint8Array): void {
    this.handlers.get(to)?.(from, bytes);
  }
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function node(net: Net, address: string, keys: Uint8Array[], cluster = 'c1') {
  const inbox: string[] = [];
  const warnings: string[] = [];
  const log = { ...silent, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
  const t = new SealingTransport(net.transport(address), { cluster, address, keyring: new Keyring(keys), log, nowMs: () => 0 });
  t.onReceive((from, bytes) => inbox.push(`${from}:${Buffer.from(bytes).toString()}`));
  return { t, inbox, warnings };
}

const k1 = new Uint8Array(randomBytes(32));
const k2 = new Uint8Array(randomBytes(32));

test('seal and open: gather lists, empty datagrams, overhead', () => {
  const net = new Net();
  const a = node(net, 'a', [k1]);
  const b = node(net, 'b', [k1]);
  a.t.send('b', [Buffer.from('hel'), Buffer.from('lo')]);
  a.t.send('b', new Uint8Array(0));
  b.t.send('a', Buffer.from('back'));
  assert.deepEqual(b.inbox, ['a:hello', 'a:']);
  assert.deepEqual(a.inbox, ['b:back']);
  assert.equal(net.captured[0]!.bytes.length, 5 + SEALED_OVERHEAD_BYTES);
  assert.ok(!Buffer.from(net.captured[0]!.bytes).includes(Buffer.from('hello')), 'the payload is not in the clear');
  assert.equal(b.t.stats().opened, 2);
});

test('wrong key, wrong cluster, forged sender, tampering and plaintext are rejected and counted', () => {
  const net = new Net();
  const b = node(net, 'b', [k1]);
  const wrongKey = node(net, 'x', [k2]);
  wrongKey.t.send('b', Buffer.from('nope'));
  const otherCluster = node(net, 'y', [k1], 'c2');
  otherCluster.t.send('b', Buffer.from('nope'));
  const a = node(net, 'a', [k1]);
  a.t.send('b', Buffer.from('ok'));
  const good = net.captured.at(-1)!.bytes;
  net.deliver('z', 'b', good); // claims another sender
  const flipped = good.slice();
  flipped[flipped.length - 20]! ^= 1;
  net.deliver('a', 'b', flipped);
  net.deliver('a', 'b', Buffer.from('plain text datagram of some length here, longer than overhead'));
  assert.deepEqual(b.inbox, ['a:ok']);
  const s = b.t.stats();
  assert.equal(s.rejected['unknown-key'], 1);
  assert.equal(s.rejected.unauthentic, 3);
  assert.equal(s.rejected['not-sealed'], 1);
  assert.deepEqual(s.unknownKeySenders, [{ address: 'x', keyId: keyIdHex(k2), count: 1 }]);
  // b answered with a notice under its own key, so x too learns it cannot open b (and does not answer that).
  assert.deepEqual(wrongKey.t.stats().unknownKeySenders, [{ address: 'b', keyId: keyIdHex(k1), count: 1 }]);
  assert.equal(wrongKey.t.stats().sealed, 1);
  assert.ok(b.warnings.some((w) => w.includes('a key this node does not have')));
  assert.ok(!b.warnings.join('\n').includes(Buffer.from(k1).toString('hex')), 'no key in a log line');
});

test('replays are rejected; out-of-order within the window is accepted once', () => {
  const net = new Net();
  const a = node(net, 'a', [k1]);
  const b = node(net, 'b', [k1]);
  a.t.send('c', Buffer.from('m0')); // not delivered (no c): captured only
  a.t.send('c', Buffer.from('m1'));
  a.t.send('b', Buffer.from('m2'));
  const [m0, m1, m2] = net.captured.map((c) => c.bytes);
  net.deliver('a', 'b', m2!); // replay of m2
  net.deliver('a', 'b', m1!); // older, in the window: accepted
  net.deliver('a', 'b', m1!); // replay
  net.deliver('a', 'b', m0!);
  assert.deepEqual(b.inbox, ['a:m2', 'a:m1', 'a:m0']);
  assert.equal(b.t.stats().rejected.replay, 2);
});

test('a counter older than the window is rejected', () => {
  const net = new Net();
  const a = node(net, 'a', [k1]);
  const b = node(net, 'b', [k1]);
  a.t.send('nobody', Buffer.from('old'));
  const old = net.captured[0]!.bytes;
  for (let i = 0; i < REPLAY_WINDOW + 1; i++) a.t.send('b', Buffer.from('x'));
  net.deliver('a', 'b', old);
  assert.equal(b.t.stats().rejected.replay, 1);
  assert.equal(b.inbox.length, REPLAY_WINDOW + 1);
});

test('a sender restart (new boot id) is accepted; the earlier run\'s messages are not', () => {
  const net = new Net();
  const b = node(net, 'b', [k1]);
  const first = node(net, 'a', [k1]);
  first.t.send('b', Buffer.from('run1'));
  const fromFirst = net.captured.at(-1)!.bytes;
  first.t.send('nobody', Buffer.from('run1-late'));
  const lateFromFirst = net.captured.at(-1)!.bytes;
  const second = node(net, 'a', [k1]); // restarted: counter from 0 again
  second.t.send('b', Buffer.from('run2'));
  net.deliver('a', 'b', fromFirst);
  net.deliver('a', 'b', lateFromFirst);
  assert.deepEqual(b.inbox, ['a:run1', 'a:run2']);
  assert.equal(b.t.stats().rejected['retired-boot'], 2);
});

test('rotation: install -> use -> remove keeps every pair talking; a node left on the old key is shut out', () => {
  const net = new Net();
  const a = node(net, 'a', [k1]);
  const b = node(net, 'b', [k1]);
  const down = node(net, 'd', [k1]);
  for (const n of [a, b]) n.t.keyring.install(k2);
  a.t.keyring.use(keyIdHex(k2)); // a switched first: b can already open it
  a.t.send('b', Buffer.from('1'));
  b.t.send('a', Buffer.from('2'));
  b.t.keyring.use(k2);
  for (const n of [a, b]) n.t.keyring.remove(k1);
  a.t.send('b', Buffer.from('3'));
  assert.deepEqual(b.inbox, ['a:1', 'a:3']);
  assert.deepEqual(a.inbox, ['b:2']);
  down.t.send('a', Buffer.from('I am back'));
  a.t.send('d', Buffer.from('hello d'));
  assert.equal(a.t.stats().unknownKeySenders[0]!.keyId, keyIdHex(k1));
  assert.equal(down.t.stats().unknownKeySenders[0]!.keyId, keyIdHex(k2));
  // Recovery: the down node gets the new key and uses it.
  down.t.keyring.install(k2);
  down.t.keyring.use(k2);
  down.t.send('a', Buffer.from('recovered'));
  assert.equal(a.inbox.at(-1), 'd:recovered');
  assert.deepEqual(a.t.stats().unknownKeySenders, []);
});

test('keyring rules: cannot remove the primary, use needs an installed key, list and serialize', () => {
  const ring = new Keyring([k1]);
  assert.throws(() => ring.remove(k1), KeyringError);
  assert.throws(() => ring.use(k2), /not installed/);
  ring.install(k2);
  ring.install(k2);
  assert.equal(ring.list().length, 2);
  ring.use(k2);
  assert.deepEqual(ring.list(), [{ id: keyIdHex(k1), primary: false }, { id: keyIdHex(k2), primary: true }]);
  const copy = Keyring.deserialize(ring.serialize(), 'test');
  assert.equal(copy.primaryId, keyIdHex(k2));
  ring.remove(k1);
  assert.deepEqual(ring.list(), [{ id: keyIdHex(k2), primary: true }]);
  assert.throws(() => parseGossipKey('short', 'test'), /32 bytes/);
  assert.deepEqual(parseGossipKey(Buffer.from(k1).toString('base64'), 't'), k1);
});

test('keyring admin: a fanned-out request reaches every member, reports the silent one after the timeout, never loops', async () => {
  const { serveKeyringAdmin, encodeAdmin, decodeAdmin } = await import('../../src/security/keyring-admin.ts');
  const { KIND } = await import('../../src/security/sealing-transport.ts');
  const net = new Net();
  const pending: (() => void)[] = [];
  const timers = { setTimer: (_ms: number, fn: () => void) => pending.push(fn), cancelTimer: () => {} };
  const members = ['a', 'b', 'gone'];
  const nodes = ['a', 'b'].map((address) => {
    const n = node(net, address, [k1]);
    serveKeyringAdmin({ sealing: n.t, self: address, peers: () => members, timers, log: silent });
    return n;
  });
  const admin = node(net, 'cli', [k1, k2]);
  const replies: unknown[] = [];
  admin.t.onAdmin((_from, kind, bytes) => kind === KIND.adminReply && replies.push(decodeAdmin(bytes)));
  admin.t.sendAdmin('a', KIND.adminRequest, encodeAdmin({ id: 'r1', op: 'install', key: Buffer.from(k2).toString('base64'), fanout: true }));
  assert.equal(replies.length, 0, 'waits for the member that does not answer');
  assert.equal(pending.length, 1);
  pending[0]!();
  const [reply] = replies as { id: string; results: { node: string; ok: boolean; error?: string }[] }[];
  assert.equal(reply!.id, 'r1');
  assert.deepEqual(reply!.results.map((r) => [r.node, r.ok]), [['a', true], ['b', true], ['gone', false]]);
  for (const n of nodes) assert.equal(n.t.keyring.list().length, 2);
  admin.t.sendAdmin('b', KIND.adminRequest, encodeAdmin({ id: 'r2', op: 'remove', keyId: keyIdHex(k1), fanout: false }));
  assert.equal(replies.length, 2, JSON.stringify([admin.warnings, nodes[1]!.warnings, replies]));
  assert.match((replies[1] as { results: { error: string }[] }).results[0]!.error, /primary/);
  admin.t.sendAdmin('b', KIND.adminRequest, encodeAdmin({ id: 'r3', op: 'install', key: Buffer.from(k2).toString('base64'), primary: true, fanout: true }));
  assert.match((replies[2] as { results: { error: string }[] }).results[0]!.error, /--only/);
});

test('rejection logs and notices are bounded in all, however many senders', async () => {
  const { MAX_LOG_LINES_PER_INTERVAL } = await import('../../src/security/sealing-transport.ts');
  const net = new Net();
  const b = node(net, 'b', [k1]);
  const stranger = node(net, 'x', [k2]);
  stranger.t.send('nobody', Buffer.from('x'));
  const sealed = net.captured.at(-1)!.bytes;
  const before = net.captured.length;
  for (let i = 0; i < 500; i++) net.deliver(`spoofed-${i}`, 'b', sealed);
  assert.equal(b.t.stats().rejected['unknown-key'], 500);
  assert.equal(b.warnings.length, MAX_LOG_LINES_PER_INTERVAL);
  assert.equal(net.captured.length - before, MAX_LOG_LINES_PER_INTERVAL, 'notices as few as log lines');
});

test('a sender under a key this node lacks is listed for its node traffic only, and forgotten once it goes quiet', () => {
  const net = new Net();
  let now = 1_000_000;
  const b = new SealingTransport(net.transport('b'), { cluster: 'c1', address: 'b', keyring: new Keyring([k1]), log: silent, nowMs: () => now });
  b.onReceive(() => {});
  // `shoal keyring` with the wrong key file: an admin request from its throwaway listener.
  const probe = node(net, 'probe', [k2]);
  probe.t.sendAdmin('b', KIND.adminRequest, Buffer.from('{"op":"list"}'));
  assert.equal(b.stats().rejected['unknown-key'], 1, 'the request is rejected');
  assert.deepEqual(b.stats().unknownKeySenders, [], 'but its sender is no member under an old key');
  // A node that missed a rotation keeps gossiping: listed while it does.
  const stale = node(net, 'stale', [k2]);
  stale.t.send('b', Buffer.from('ping'));
  assert.deepEqual(b.stats().unknownKeySenders, [{ address: 'stale', keyId: keyIdHex(k2), count: 1 }]);
  now += UNKNOWN_KEY_SENDER_TTL_MS;
  stale.t.send('b', Buffer.from('ping'));
  now += UNKNOWN_KEY_SENDER_TTL_MS;
  assert.deepEqual(b.stats().unknownKeySenders, [{ address: 'stale', keyId: keyIdHex(k2), count: 2 }], 'heard within the TTL');
  now += 1;
  assert.deepEqual(b.stats().unknownKeySenders, [], 'quiet for longer than the TTL: forgotten');
});
