/**
 * Client limits (docs/SECURITY.md "Limits"; --max-clients, --max-clients-per-address,
 * --idle-timeout, --max-request-rate, --resp-max-arguments): each bites with its clear error while other clients go on
 * being served. In-process RESP and SDK servers over real sockets, then one real daemon driven
 * with redis-cli. Nothing here waits on a clock except the idle timeout, whose close is awaited
 * as an event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { KeyspaceService } from '../../src/replication/api.ts';
import { startRespServer } from '../../src/resp/server.ts';
import { CommandTable } from '../../src/resp/commands.ts';
import { serverCommands } from '../../src/resp/server-commands.ts';
import type { CommandSpec } from '../../src/resp/command.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';
import { perConnectionRateLimit, TokenBucket } from '../../src/security/limits.ts';
import { connect, OverloadedError } from '../../src/index.ts';
import { CLIENT_ENDPOINT_PATH } from '../../src/protocol/limits.ts';
import { IDLE_CLOSE_REASON } from '../../src/protocol/frames.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { HoldingKv, startNode } from './client-helpers.ts';
import { DaemonProcess } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

function memoryKeyspace(): KeyspaceService {
  const kv = new MemoryKv();
  const no = { code: 'bad-request' as const, message: 'not in this test' };
  return Object.assign(kv, {
    rmw: (_k: unknown, _o: unknown, _p: unknown, done: (e: typeof no) => void) => done(no),
    scanPartition: (_p: unknown, _a: unknown, _o: unknown, done: (e: typeof no) => void) => done(no),
    countPartition: (_p: unknown, done: (e: typeof no) => void) => done(no),
  }) as unknown as KeyspaceService;
}

/** A raw RESP connection: send text, read until `until` says the text so far is complete. */
class Raw {
  private text = '';
  private waiters: (() => void)[] = [];
  closed = false;
  readonly whenClosed: Promise<void>;
  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.text += d;
      for (const w of this.waiters.splice(0)) w();
    });
    this.whenClosed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w();
        resolve();
      }),
    );
    socket.on('error', () => {});
  }
  static open(port: number, localAddress?: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () => resolve(new Raw(socket)));
      socket.once('error', reject);
    });
  }
  /** Reads until `complete(text)` holds or the connection closes; returns the text and clears it. */
  async read(complete: (text: string) => boolean): Promise<string> {
    while (!complete(this.text) && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    const t = this.text;
    this.text = '';
    return t;
  }
  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.read((t) => t.endsWith('\r\n'));
  }
  close(): void {
    this.socket.destroy();
  }
}

test('RESP --max-clients: the extra connection gets Redis\'s error and is closed; the others are served, and a freed place is taken', async () => {
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, connectionLimits: { maxConnections: 2 } });
  try {
    const a = await Raw.open(server.port);
    const b = await Raw.open(server.port);
    assert.equal(await a.command('PING'), '+PONG\r\n');
    assert.equal(await b.command('PING'), '+PONG\r\n');
    const c = await Raw.open(server.port);
    assert.equal(await c.read(() => false), '-ERR max number of clients reached\r\n');
    assert.ok(c.closed);
    assert.equal(await a.command('SET k v'), '+OK\r\n');
    assert.equal(await b.command('GET k'), '$1\r\nv\r\n');
    assert.match(await a.command('INFO clients'), /maxclients:2/);
    b.close();
    await b.whenClosed;
    // The server sees b's close on its own schedule: retry a bounded number of times.
    let d: Raw | null = null;
    for (let i = 0; i < 50 && d === null; i++) {
      const next = await Raw.open(server.port);
      const reply = await next.command('PING');
      if (reply === '+PONG\r\n') d = next;
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(d !== null, 'a connection was admitted after one closed');
    a.close();
    d.close();
  } finally {
    await server.close();
  }
});

test('RESP --max-clients-per-address: a second connection from one address is refused, another address is served', async () => {
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, connectionLimits: { maxPerAddress: 1 } });
  try {
    const a = await Raw.open(server.port, '127.0.0.1');
    assert.equal(await a.command('PING'), '+PONG\r\n');
    const again = await Raw.open(server.port, '127.0.0.1');
    assert.match(await again.read(() => false), /^-ERR max number of clients reached for address 127\.0\.0\.1 \(1, --max-clients-per-address\)\r\n$/);
    const other = await Raw.open(server.port, '127.0.0.2');
    assert.equal(await other.command('PING'), '+PONG\r\n');
    assert.equal(await a.command('PING'), '+PONG\r\n');
    a.close();
    other.close();
  } finally {
    await server.close();
  }
});

test("RESP idle timeout (Redis's timeout): an idle connection is closed without a reply; new ones are served", { timeout: 120_000 }, async () => {
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, idleTimeoutMs: 1000 });
  // A connection's PING must be read before its idle timer fires. A machine that stalls this
  // process for longer than the timeout between connect and command fires the timer first: that
  // connection is closed unanswered, and another is tried (a bounded number of times).
  const served = async (): Promise<Raw> => {
    for (let attempt = 1; ; attempt++) {
      const raw = await Raw.open(server.port);
      const reply = await raw.command('PING');
      if (reply === '+PONG\r\n') return raw;
      assert.ok(raw.closed && reply === '' && attempt < 10, `attempt ${attempt}: ${JSON.stringify(reply)}`);
    }
  };
  try {
    const idle = await served();
    await idle.whenClosed; // closed by the server (the test's timeout bounds a hang)
    assert.equal(await idle.read(() => false), '');
    (await served()).close();
  } finally {
    await server.close();
  }
});

test('RESP idle timeout: a connection waiting on a command is not idle', async () => {
  let finish: (() => void) | null = null;
  const hold: CommandSpec = {
    name: 'hold',
    arity: 1,
    flags: [],
    keys: [0, 0, 0],
    categories: [],
    run(_ctx, _args, reply, done) {
      finish = () => {
        reply.simple('RELEASED');
        done();
      };
    },
  };
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, idleTimeoutMs: 50, commands: new CommandTable([serverCommands, [hold]]) });
  try {
    const waiting = await Raw.open(server.port);
    waiting.socket.write('HOLD\r\n');
    for (let i = 0; i < 200 && finish === null; i++) await new Promise((r) => setImmediate(r));
    assert.ok(finish !== null, 'HOLD started');
    // A connection opened after HOLD started is closed for idleness: the waiting one's timer has fired too.
    const idle = await Raw.open(server.port);
    await idle.whenClosed;
    assert.equal(waiting.closed, false);
    (finish as () => void)();
    assert.equal(await waiting.read((t) => t.endsWith('\r\n')), '+RELEASED\r\n');
    waiting.close();
  } finally {
    await server.close();
  }
});

test('RESP --max-request-rate: commands over the rate fail with a clear error, in order, and the connection and others go on', async () => {
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, rateLimit: perConnectionRateLimit(5) });
  try {
    const a = await Raw.open(server.port);
    a.socket.write('PING\r\n'.repeat(40));
    const lines = (await a.read((t) => t.split('\r\n').length > 40)).split('\r\n').filter((l) => l !== '');
    assert.equal(lines.length, 40);
    assert.equal(lines[0], '+PONG');
    const refused = lines.filter((l) => l.startsWith('-'));
    // A burst of 5; even a slow machine refills at most a few more while 40 are parsed.
    assert.ok(refused.length >= 20, `refused ${refused.length} of 40`);
    assert.equal(refused[0], '-ERR rate limit exceeded: at most 5 requests per second per connection (--max-request-rate)');
    assert.ok(lines.every((l) => l === '+PONG' || l === refused[0]));
    const b = await Raw.open(server.port);
    assert.equal(await b.command('PING'), '+PONG\r\n');
    assert.match(await b.command('INFO stats'), /rate_limited_commands:\d+/);
    a.close();
    b.close();
  } finally {
    await server.close();
  }
});

test('token bucket: a burst, then the rate; time going backwards refills nothing', () => {
  const bucket = new TokenBucket(10, 10, 1000);
  for (let i = 0; i < 10; i++) assert.ok(bucket.take(1000));
  assert.equal(bucket.take(1000), false);
  assert.equal(bucket.take(900), false);
  assert.ok(bucket.take(1100)); // 100 ms at 10/s: one token
  assert.equal(bucket.take(1100), false);
  assert.ok(bucket.take(1_000_000, 10)); // never more than the burst
  assert.equal(bucket.take(1_000_000), false);
});

/** Opens a raw client WebSocket; resolves with it once open, or with the HTTP refusal. */
function openWs(port: number, localAddress?: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${CLIENT_ENDPOINT_PATH}`, localAddress ? { localAddress } : {});
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

test('SDK port --max-clients and --max-clients-per-address: refused with HTTP 503 and the reason; admitted clients are served', async () => {
  const node = await startNode({ maxConnections: 2, maxConnectionsPerAddress: 1 });
  try {
    const client = await connect({ seeds: [node.address] });
    await client.set('k', 'v');
    const same = await openWs(node.server.port, '127.0.0.1');
    assert.ok('status' in same);
    assert.equal(same.status, 503);
    assert.match(same.body, /max number of clients reached for address 127\.0\.0\.1/);
    const other = await openWs(node.server.port, '127.0.0.2');
    assert.ok('ws' in other, 'another address is admitted');
    const third = await openWs(node.server.port, '127.0.0.3');
    assert.ok('status' in third);
    assert.equal(third.body, 'max number of clients reached');
    assert.equal(await client.get('k'), 'v');
    other.ws.close();
    await client.close();
  } finally {
    await node.server.close({ graceMs: 0 });
  }
});

test('SDK port idle timeout: a connection that sends nothing is closed with 1000 and a reason saying nothing was in flight', async () => {
  const node = await startNode({ idleTimeoutMs: 100 });
  try {
    const opened = await openWs(node.server.port);
    assert.ok('ws' in opened);
    const [code, reason] = await new Promise<[number, string]>((resolve) => opened.ws.once('close', (c, r) => resolve([c, r.toString()])));
    assert.equal(code, 1000);
    assert.equal(reason, IDLE_CLOSE_REASON);
    const client = await connect({ seeds: [node.address] });
    await client.set('k', 'v');
    assert.equal(await client.get('k'), 'v');
    await client.close();
  } finally {
    await node.server.close({ graceMs: 0 });
  }
});

test('SDK port idle timeout: a connection waiting on a write is not idle', async () => {
  let holding: HoldingKv | undefined;
  const node = await startNode({ idleTimeoutMs: 50, wrap: (kv) => (holding = new HoldingKv(kv)) });
  const client = await connect({ seeds: [node.address], keepaliveIntervalMs: 0, reconnect: false });
  try {
    const write = client.set('hold-k', 'v');
    await holding!.untilHeld(1);
    // A connection opened after the write was held is closed for idleness: the waiting one's timer has fired too.
    const opened = await openWs(node.server.port);
    assert.ok('ws' in opened);
    await new Promise((resolve) => opened.ws.once('close', resolve));
    assert.equal(client.nodes()[0]!.state, 'ready', 'the connection with a write in flight is still open');
    holding!.release();
    await write;
    assert.notEqual(node.kv.store.get(new TextEncoder().encode('hold-k')), null, 'applied and answered');
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});

test('SDK port --max-request-rate: writes over the rate fail overloaded with the reason; another connection is served', async () => {
  const node = await startNode({ rateLimit: perConnectionRateLimit(5) });
  try {
    const client = await connect({ seeds: [node.address] });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => client.set(`k${i}`, 'v')));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(refused.length >= 20, `refused ${refused.length} of 40`);
    assert.ok(refused[0]!.reason instanceof OverloadedError, String(refused[0]!.reason));
    assert.match((refused[0]!.reason as Error).message, /rate limit exceeded: at most 5 requests per second per connection/);
    const other = await connect({ seeds: [node.address] });
    assert.equal(await other.get('k0'), 'v');
    await Promise.all([client.close(), other.close()]);
  } finally {
    await node.server.close({ graceMs: 0 });
  }
});

function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-p', String(port), ...args], { timeout: 20_000 }, (_error, stdout, stderr) => resolve(`${stdout}${stderr}`.trim()));
  });
}

test('a real daemon with --max-clients 1 refuses redis-cli with Redis\'s error while its one client is served; --max-key-size bites on RESP', async () => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'limits', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: ['--max-clients', '1', '--max-request-rate', '1000', '--max-key-size', '16'] });
  await node.start();
  try {
    const held = await Raw.open(respPort!);
    assert.equal(await held.command('SET k v'), '+OK\r\n');
    assert.match(await redisCli(respPort!, 'PING'), /max number of clients reached/);
    assert.equal(await held.command('GET k'), '$1\r\nv\r\n');
    const long = await held.command(`SET ${'k'.repeat(17)} v`);
    assert.match(long, /^-ERR .*key/i, long);
    assert.equal(await held.command('GET k'), '$1\r\nv\r\n');
    held.close();
  } finally {
    await node.stop();
  }
});

test('a real daemon refuses one RESP command over --resp-max-arguments, skipping its arguments, while the connection and other clients go on', async () => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'max-args', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: ['--resp-max-arguments', '1000'] });
  await node.start();
  const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `k${i}`);
  const refusal = "-ERR command has 1501 arguments, more than this node's limit of 1000 (--resp-max-arguments)\r\n";
  const big = await RawConnection.open(respPort!);
  const other = await RawConnection.open(respPort!);
  try {
    assert.equal(await big.command(['SET', 'k1', 'v']), '+OK\r\n');
    // At the limit (the command name counts): run as usual.
    assert.equal(await big.command(['DEL', ...keys(999)]), ':1\r\n');
    // Over it: refused, then a PING on the same connection, pipelined behind it.
    big.send(['DEL', ...keys(1500)]);
    big.send(['PING']);
    assert.equal(await big.read('the DEL over the limit'), refusal);
    assert.equal(await big.read('the PING after it'), '+PONG\r\n');
    // Half of a refused command sent: another client is served meanwhile, then the rest arrives.
    const bytes = encodeCommand(['MGET', ...keys(1500)]);
    const half = Math.floor(bytes.length / 2);
    big.write(bytes.subarray(0, half));
    assert.equal(await other.command(['SET', 'k2', 'w']), '+OK\r\n');
    assert.equal(await other.command(['GET', 'k2']), '$1\r\nw\r\n');
    big.write(bytes.subarray(half));
    assert.equal(await big.read('the MGET over the limit'), refusal);
    assert.equal(await big.command(['PING']), '+PONG\r\n');
    assert.equal(await big.command(['GET', 'k2']), '$1\r\nw\r\n');
    // A multibulk count over the absolute maximum is still Redis's fatal protocol error.
    big.write(Buffer.from(`*${1024 * 1024 + 1}\r\n`));
    assert.equal(await big.read('the count over the maximum'), '-ERR Protocol error: invalid multibulk length\r\n');
    assert.equal(await other.command(['PING']), '+PONG\r\n');
  } finally {
    big.close();
    other.close();
    await node.stop();
  }
});

function encodeCommand(args: string[]): Buffer {
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((arg) => Buffer.from(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`))]);
}
