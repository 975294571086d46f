import { test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { SEND_ALONE_BYTES, WsTransport } from '../../src/transport/ws-transport.ts';
import type { Lane, NodeAddress } from '../../src/runtime/env.ts';
import { distinctBytes, valueCopies } from '../unit/copy-spy.ts';

interface Received {
  from: NodeAddress;
  text: string;
  bytes: Uint8Array;
}

function collect(t: WsTransport): Received[] {
  const got: Received[] = [];
  t.onReceive((from, bytes) => got.push({ from, text: new TextDecoder().decode(bytes.subarray(0, 32)), bytes }));
  return got;
}

async function until(condition: () => boolean, what: string, limit = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited++) {
    if (waited > limit) assert.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const text = (s: string) => new TextEncoder().encode(s);

test('datagrams cross both ways on both lanes, labelled with the sender listening address', async () => {
  const a = await WsTransport.listen();
  const b = await WsTransport.listen();
  try {
    const atA = collect(a);
    const atB = collect(b);
    const buffer = text('ping');
    a.send(b.address, buffer);
    buffer.fill(0); // the transport copied it: the receiver still sees "ping"
    a.send(b.address, text('chunk'), 'bulk');
    b.send(a.address, text('pong'), 'control');
    await until(() => atB.length === 2 && atA.length === 1, 'three datagrams');
    assert.deepEqual(atB.map((r) => [r.from, r.text]).sort(), [[a.address, 'chunk'], [a.address, 'ping']]);
    assert.deepEqual(atA.map((r) => [r.from, r.text]), [[b.address, 'pong']]);
    assert.equal(Object.getPrototypeOf(atB[0]!.bytes), Uint8Array.prototype);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an unreachable peer is reported, its sends are dropped, and it is redialed once it is back', async () => {
  const probe = await WsTransport.listen();
  const port = Number(probe.address.split(':')[1]);
  await probe.close(); // a free port with nobody on it
  const a = await WsTransport.listen({ redialBackoff: { initialDelayMs: 5, maxDelayMs: 20, factor: 2, jitter: 0.5 } });
  const unreachable: string[] = [];
  a.onUnreachable((address) => unreachable.push(address));
  const peer = `127.0.0.1:${port}`;
  let b: WsTransport | null = null;
  try {
    a.send(peer, text('lost'));
    await until(() => unreachable.length === 1, 'the failed dial');
    assert.deepEqual(unreachable, [peer]);
    assert.equal(a.stats.failedDials, 1);
    assert.equal(a.stats.dropped, 1);

    b = await WsTransport.listen({ port });
    const atB = collect(b);
    // Sends during backoff are dropped; once it ends the next send redials and gets through.
    await until(() => {
      a.send(peer, text('hello again'));
      return atB.length > 0;
    }, 'delivery after the peer came back');
    assert.equal(atB[0]!.text, 'hello again');
    assert.equal(atB[0]!.from, a.address);
  } finally {
    await a.close();
    await b?.close();
  }
});

test('an address no URL can hold (learned from gossip) is a failed dial: reported, dropped, never thrown', async () => {
  const a = await WsTransport.listen({ redialBackoff: { initialDelayMs: 5, maxDelayMs: 20, factor: 2, jitter: 0.5 } });
  const b = await WsTransport.listen();
  const unreachable: [string, string][] = [];
  a.onUnreachable((address, reason) => unreachable.push([address, reason]));
  try {
    const atB = collect(b);
    for (const bad of [`${b.address}:1`, '127.0.0.1:99999', 'bad host!:7401']) {
      a.send(bad, text('lost'));
      a.send(bad, text('lost again'), 'bulk');
    }
    assert.deepEqual(unreachable.map(([address]) => address), [`${b.address}:1`, `${b.address}:1`, '127.0.0.1:99999', '127.0.0.1:99999', 'bad host!:7401', 'bad host!:7401']);
    assert.ok(unreachable.every(([, reason]) => reason.startsWith('not a dialable address')), JSON.stringify(unreachable));
    a.send(b.address, text('still works'));
    await until(() => atB.length === 1, 'a send to a good address');
    assert.equal(atB[0]!.text, 'still works');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a dial answered by a plain HTTP server (a wrong port) is reported as that, not in ws\'s words', async () => {
  const server = createServer((_request, response) => response.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const wrong = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const a = await WsTransport.listen({ redialBackoff: { initialDelayMs: 5, maxDelayMs: 20, factor: 2, jitter: 0.5 } });
  const reasons: string[] = [];
  a.onUnreachable((address, reason) => {
    if (address === wrong) reasons.push(reason);
  });
  try {
    a.send(wrong, text('lost'));
    await until(() => reasons.length > 0, 'the failed dial');
    assert.equal(reasons[0], "an HTTP server answered 404 instead of a Shoal peer port; check the address names a node's peer port (--peer-port), not its client, RESP or admin port");
  } finally {
    await a.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a control message is not held up by a flood of bulk traffic, and bulk is bounded', async () => {
  const a = await WsTransport.listen({ maxBulkBufferedBytes: 256 * 1024 * 1024 });
  const b = await WsTransport.listen({ maxMessageBytes: 4 * 1024 * 1024 });
  try {
    const order: Lane[] = [];
    b.onReceive((_from, bytes) => order.push(bytes[0] === 1 ? 'control' : 'bulk'));
    // Open both connections first, so the race below is between lanes, not between dials.
    a.send(b.address, new Uint8Array([1]), 'control');
    a.send(b.address, new Uint8Array([2]), 'bulk');
    await until(() => order.length === 2, 'both lanes open');
    const chunk = new Uint8Array(1024 * 1024).fill(2);
    const flood = 128;
    for (let i = 0; i < flood; i++) a.send(b.address, chunk, 'bulk');
    a.send(b.address, new Uint8Array([1]), 'control');
    await until(() => order.length === 2 + flood + 1, 'every message', 60_000);
    const controlAt = order.lastIndexOf('control');
    assert.ok(controlAt < order.length - 1, `the probe arrived after all ${flood} bulk chunks`);
  } finally {
    await a.close();
    await b.close();
  }

  // With the default bulk buffer limit, a flood far beyond it is dropped rather than queued.
  const c = await WsTransport.listen();
  const d = await WsTransport.listen();
  try {
    let got = 0;
    d.onReceive(() => got++);
    c.send(d.address, new Uint8Array([2]), 'bulk');
    await until(() => got === 1, 'bulk lane open');
    const chunk = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 64; i++) c.send(d.address, chunk, 'bulk');
    assert.ok(c.stats.dropped > 0, 'some bulk was dropped');
    await until(() => got === 1 + c.stats.sent - 1, 'the bulk that was sent');
  } finally {
    await c.close();
    await d.close();
  }
});

test('a connection that does not start with a node handshake is refused', async () => {
  const a = await WsTransport.listen({ handshakeTimeoutMs: 50 });
  const { default: WebSocket } = await import('ws');
  try {
    const received = collect(a);
    const stranger = new WebSocket(`ws://${a.address}/shoal-node`);
    await new Promise((resolve) => stranger.once('open', resolve));
    stranger.send(text('not a handshake'));
    stranger.send(text('payload'));
    const code = await new Promise((resolve) => stranger.once('close', resolve));
    assert.equal(code, 1008);
    assert.equal(received.length, 0);
    // The client endpoint's path is not served here.
    const wrongPath = new WebSocket(`ws://${a.address}/shoal`);
    const error = await new Promise<Error>((resolve) => wrongPath.once('error', resolve));
    assert.match(error.message, /400/);
  } finally {
    await a.close();
  }
});

test('a peer that dials us ends our redial backoff towards it: its first answer gets through', async () => {
  const probe = await WsTransport.listen();
  const port = Number(probe.address.split(':')[1]);
  await probe.close();
  // A long backoff: without the reset, every answer to the restarted peer would be dropped for it.
  const a = await WsTransport.listen({ redialBackoff: { initialDelayMs: 60_000, maxDelayMs: 60_000, factor: 1, jitter: 0 } });
  let b: WsTransport | null = null;
  try {
    const peer = `127.0.0.1:${port}`;
    a.send(peer, text('while down'));
    await until(() => a.stats.failedDials === 1, 'the failed dial');
    a.send(peer, text('in backoff'));
    assert.equal(a.stats.dropped, 2);

    b = await WsTransport.listen({ port });
    const atA = collect(a);
    const atB = collect(b);
    b.send(a.address, text('back'));
    await until(() => atA.length === 1, 'the restarted peer to reach us');
    a.send(peer, text('answer'));
    await until(() => atB.length === 1, 'the answer');
    assert.equal(atB[0]!.text, 'answer');
  } finally {
    await a.close();
    await b?.close();
  }
});

test('datagrams sent in one turn arrive intact and in order', async () => {
  const a = await WsTransport.listen();
  const b = await WsTransport.listen();
  try {
    const got: string[] = [];
    b.onReceive((_from, bytes) => got.push(new TextDecoder().decode(bytes)));
    a.send(b.address, text('open'));
    await until(() => got.length === 1, 'the connection');
    const sent = ['open', ...Array.from({ length: 500 }, (_, i) => `message ${i} ${'x'.repeat(i % 97)}`)];
    for (const s of sent.slice(1)) a.send(b.address, text(s));
    await until(() => got.length === sent.length, 'every datagram');
    assert.deepEqual(got, sent);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a gather list arrives as one datagram of its parts joined, whether queued while dialing or batched once open', async () => {
  const a = await WsTransport.listen();
  const b = await WsTransport.listen();
  try {
    const atB = collect(b);
    const head = text('head:');
    const body = text('first');
    a.send(b.address, [head, body]); // the link is still dialing: queued
    body.set(text('XXXXX')); // a small datagram is copied at once
    await until(() => atB.length === 1, 'the queued datagram');
    const second = text('second');
    a.send(b.address, [head, second, text('!')]); // the link is open: into this turn's batch
    a.send(b.address, []); // no parts: an empty datagram
    a.send(b.address, text('plain'));
    second.fill(0);
    await until(() => atB.length === 4, 'the batched datagrams');
    assert.deepEqual(
      atB.map((r) => r.text),
      ['head:first', 'head:second!', '', 'plain'],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('a small datagram is copied once, into the batch; a large one leaves from its own parts, uncopied, in order with the rest', async () => {
  const a = await WsTransport.listen();
  const b = await WsTransport.listen();
  try {
    const got: Uint8Array[] = [];
    b.onReceive((_from, bytes) => got.push(bytes.slice()));
    a.send(b.address, text('open'));
    await until(() => got.length === 1, 'the connection');
    const small = distinctBytes(4096, 1);
    const large = distinctBytes(SEND_ALONE_BYTES, 2);
    const header = Uint8Array.of(0x4b);
    assert.equal(valueCopies(small, () => a.send(b.address, small)).length, 1);
    assert.deepEqual(valueCopies(large, () => a.send(b.address, [header, large])), []);
    a.send(b.address, [header, small]);
    await until(() => got.length === 4, 'the three datagrams');
    assert.deepEqual(got.slice(1), [small, Uint8Array.of(0x4b, ...large), Uint8Array.of(0x4b, ...small)]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('what was sent in the turn a transport closes still arrives (a stopping node announces its leave)', async () => {
  const a = await WsTransport.listen();
  const b = await WsTransport.listen();
  try {
    const atB = collect(b);
    a.send(b.address, text('hello'));
    await until(() => atB.length === 1, 'the link to open');
    a.send(b.address, text('left'));
    await a.close();
    await until(() => atB.length === 2, 'the datagram sent just before close');
    assert.deepEqual(atB.map((r) => r.text), ['hello', 'left']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an idle link is closed and forgotten on both sides, and a later send dials afresh', async () => {
  const a = await WsTransport.listen({ idleTimeoutMs: 20 });
  const b = await WsTransport.listen();
  try {
    const atB = collect(b);
    a.send(b.address, text('control'));
    a.send(b.address, text('bulk'), 'bulk');
    await until(() => atB.length === 2, 'both lanes');
    await until(() => a.linkCount() === 0, 'the idle links to be forgotten');
    await until(() => b.inboundCount() === 0, 'the peer to see both connections closed');
    a.send(b.address, text('later'));
    await until(() => atB.length === 3, 'a send after the idle close');
    assert.equal(atB[2]!.text, 'later');
    assert.equal(a.linkCount(), 1);
    assert.equal(a.stats.dropped, 0);
  } finally {
    await a.close();
    await b.close();
  }
  assert.equal(a.linkCount(), 0);
  assert.equal(b.inboundCount(), 0);
});

test('a link in use is not closed as idle; once quiet it is closed with a normal close', async (t) => {
  // The idle sweep is the transport's only setInterval: mocked, it runs only when the test ticks
  // (one sweep per tick of idleTimeoutMs), so a stalled machine cannot slip a sweep between sends.
  t.mock.timers.enable({ apis: ['setInterval'] });
  // A bare ws server stands in for the peer, so we can count the connections it gets.
  const { WebSocketServer } = await import('ws');
  const peer = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/shoal-node' });
  await new Promise((resolve) => peer.once('listening', resolve));
  const closes: number[] = [];
  let connections = 0;
  let messages = 0;
  peer.on('connection', (socket) => {
    connections++;
    socket.on('message', () => messages++);
    socket.on('close', (code) => closes.push(code));
  });
  const idleTimeoutMs = 200;
  const a = await WsTransport.listen({ idleTimeoutMs });
  try {
    const to = `127.0.0.1:${(peer.address() as { port: number }).port}`;
    // Several idle periods, each with a send in it: one connection throughout. Each send is
    // waited for (handshake, then one message per send), so the sweep meets a written-out link.
    const sweeps = 5;
    for (let sweep = 1; sweep <= sweeps; sweep++) {
      a.send(to, text('busy'));
      await until(() => messages === sweep + 1, `send ${sweep} to arrive`);
      t.mock.timers.tick(idleTimeoutMs);
      assert.equal(a.linkCount(), 1, `the link was closed by sweep ${sweep}, after a send in its period`);
    }
    assert.equal(connections, 1);
    assert.equal(closes.length, 0);
    // A period with no send: the next sweep closes it, with a normal close.
    t.mock.timers.tick(idleTimeoutMs);
    assert.equal(a.linkCount(), 0);
    await until(() => closes.length === 1, 'the idle close', 10_000);
    assert.deepEqual([closes[0], connections], [1000, 1]);
  } finally {
    await a.close();
    await new Promise((resolve) => peer.close(resolve));
  }
});

test('a link to a dead address keeps its capped backoff while sends keep coming, and is forgotten once they stop', async () => {
  const probe = await WsTransport.listen();
  const port = Number(probe.address.split(':')[1]);
  await probe.close();
  // Backoff 5, 10, 20 ms, then 20 ms at the cap; links idle for 300 ms are forgotten.
  const a = await WsTransport.listen({ idleTimeoutMs: 300, redialBackoff: { initialDelayMs: 5, maxDelayMs: 20, factor: 2, jitter: 0 } });
  const peer = `127.0.0.1:${port}`;
  try {
    let sends = 0;
    await until(() => {
      a.send(peer, text('lost'));
      sends++;
      return a.stats.failedDials >= 5;
    }, 'five failed dials');
    // Still sent to: the link stays, redialled at the capped backoff.
    assert.equal(a.linkCount(), 1);
    assert.equal(a.stats.sent, 0);
    assert.equal(a.stats.dropped, sends, 'every send to the dead address is counted as dropped');

    // No more sends: the sweep forgets it, and the next send dials at once with a fresh backoff.
    await until(() => a.linkCount() === 0, 'the unused link to be forgotten');
    const dials = a.stats.failedDials;
    a.send(peer, text('again'));
    assert.equal(a.linkCount(), 1);
    await until(() => a.stats.failedDials === dials + 1, 'a new dial');
  } finally {
    await a.close();
  }
  assert.equal(a.linkCount(), 0);
});

test('idleTimeoutMs must be a positive number of milliseconds a timer can hold', async () => {
  for (const idleTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
    const accepted = await WsTransport.listen({ idleTimeoutMs }).catch((error: unknown) => error);
    if (accepted instanceof WsTransport) await accepted.close();
    assert.ok(accepted instanceof RangeError, `idleTimeoutMs ${idleTimeoutMs} was accepted`);
  }
});
