/**
 * The RESP listener over real sockets: a server in this process over an in-memory keyspace (and
 * one real daemon at the end), talked to with net sockets and redis-cli.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { freePorts } from '../../src/daemon/ports.ts';
import type { KeyspaceService } from '../../src/replication/api.ts';
import type { CommandSpec } from '../../src/resp/command.ts';
import { CommandTable } from '../../src/resp/commands.ts';
import { serverCommands } from '../../src/resp/server-commands.ts';
import { startRespServer, type RespServer } from '../../src/resp/server.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';
import { DaemonProcess } from './daemon-harness.ts';

function memoryKeyspace(): KeyspaceService {
  const kv = new MemoryKv();
  const no = { code: 'bad-request' as const, message: 'not in this test' };
  return Object.assign(kv, {
    rmw: (_k: unknown, _o: unknown, _p: unknown, done: (e: typeof no) => void) => done(no),
    scanPartition: (_p: unknown, _a: unknown, _o: unknown, done: (e: typeof no) => void) => done(no),
    countPartition: (_p: unknown, done: (e: typeof no) => void) => done(no),
  }) as unknown as KeyspaceService;
}

/**
 * A command finishing when the test says: `LATER id` replies `id` only once `release(id)` is
 * called, so replies can be finished in any order.
 */
function laterCommand(): { spec: CommandSpec; release: (id: string) => void; waiting: () => number } {
  const pending = new Map<string, () => void>();
  const spec: CommandSpec = {
    name: 'later',
    arity: 2,
    flags: [],
    keys: [0, 0, 0],
    categories: [],
    run(_ctx, args, reply, done) {
      const id = Buffer.from(args[1]!).toString();
      pending.set(id, () => {
        reply.bulk(id);
        done();
      });
    },
  };
  return {
    spec,
    release: (id) => {
      const finish = pending.get(id);
      pending.delete(id);
      finish?.();
    },
    waiting: () => pending.size,
  };
}

async function withServer(t: { after: (fn: () => Promise<void>) => void }, extra: CommandSpec[] = []): Promise<RespServer> {
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, commands: new CommandTable([serverCommands, extra]) });
  t.after(() => server.close());
  return server;
}

/** A client socket that collects what it receives and knows when the server closed it. */
class RawClient {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  /** Bytes received (kept in chunks; joined only when read). */
  receivedBytes = 0;
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.receivedBytes += d.length;
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => {});
  }

  get received(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  ready(): Promise<void> {
    return new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  /** Resolves once `check` holds (checked on every event from the socket). */
  async until(check: () => boolean): Promise<void> {
    while (!check()) {
      if (this.closed && !check()) throw new Error(`closed; received ${JSON.stringify(this.received.toString('latin1').slice(-200))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async reply(bytes: number): Promise<string> {
    await this.until(() => this.receivedBytes >= bytes);
    return this.received.toString('latin1');
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function redisCli(port: number, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('redis-cli', ['-p', String(port), ...args], { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    if (input !== undefined) child.stdin!.end(input);
  });
}

test('redis-cli: PING, ECHO, an unknown command, wrong arity, HELLO 3, CLIENT SETNAME/GETNAME, INFO', async (t) => {
  const server = await withServer(t);
  assert.equal(await redisCli(server.port, ['PING']), 'PONG\n');
  assert.equal(await redisCli(server.port, ['ECHO', 'hello world']), 'hello world\n');
  // redis-cli (not on a terminal) prints an error reply followed by an empty line.
  assert.equal(await redisCli(server.port, ['FOO', 'a', 'b']), "ERR unknown command 'FOO', with args beginning with: 'a' 'b' \n\n");
  assert.equal(await redisCli(server.port, ['echo']), "ERR wrong number of arguments for 'echo' command\n\n");
  // Commands from stdin run on one connection, in order.
  const out = await redisCli(server.port, [], 'CLIENT SETNAME tester\nCLIENT GETNAME\nSELECT 1\nAUTH x\n');
  assert.equal(
    out,
    'OK\ntester\nERR DB index is out of range\n\nERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\n\n',
  );
  const info = await redisCli(server.port, ['INFO']);
  for (const field of ['redis_version:7.0.15', 'connected_clients:1', 'keyspace_hits:0', 'role:master', 'cluster_enabled:1', `resp_port:${server.port}`]) {
    assert.ok(info.includes(field), `INFO has ${field}`);
  }
});

test('pipelined commands split at every few bytes get their replies in order, coalesced', async (t) => {
  const server = await withServer(t);
  const client = new RawClient(server.port);
  await client.ready();
  let input = '';
  let expected = '';
  for (let i = 0; i < 1000; i++) {
    input += `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
    expected += `$${String(i).length}\r\n${i}\r\n`;
    if (i % 100 === 0) {
      input += 'PING\r\n'; // inline between multibulks
      expected += '+PONG\r\n';
    }
  }
  const bytes = Buffer.from(input);
  for (let at = 0; at < bytes.length; at += 7) client.socket.write(bytes.subarray(at, at + 7));
  assert.equal(await client.reply(expected.length), expected);
  // Whole-chunk writes: one 25 kB write of 1000 commands is answered in far fewer writes than commands.
  client.socket.end();
});

test('replies leave in command order when commands finish out of order', async (t) => {
  const later = laterCommand();
  const server = await withServer(t, [later.spec]);
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write('LATER a\r\nPING\r\nLATER b\r\nECHO x\r\nLATER c\r\n');
  await until(() => later.waiting() === 3, client);
  later.release('c');
  later.release('b');
  assert.equal(client.received.length, 0, 'nothing may pass the unfinished first command');
  later.release('a');
  const expected = '$1\r\na\r\n+PONG\r\n$1\r\nb\r\n$1\r\nx\r\n$1\r\nc\r\n';
  assert.equal(await client.reply(expected.length), expected);
  client.socket.end();
});

/** Waits (by yielding to the event loop a bounded number of times) until `check` holds. */
async function until(check: () => boolean, _client?: RawClient, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(check(), 'condition never held');
}

test('garbage gets the protocol error and closes only that connection', async (t) => {
  const server = await withServer(t);
  const good = new RawClient(server.port);
  const bad = new RawClient(server.port);
  const huge = new RawClient(server.port);
  await Promise.all([good.ready(), bad.ready(), huge.ready()]);
  bad.socket.write('PING\r\n*1\r\nxyz\r\nPING\r\n');
  huge.socket.write(`*1\r\n$${2 ** 40}\r\n`);
  await bad.until(() => bad.closed);
  await huge.until(() => huge.closed);
  assert.equal(bad.received.toString(), "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
  assert.equal(huge.received.toString(), '-ERR Protocol error: invalid bulk length\r\n');
  good.socket.write('PING\r\n');
  assert.equal(await good.reply(7), '+PONG\r\n');
  assert.equal(good.closed, false);
  assert.equal(server.state.protocolErrors, 2);
  good.socket.end();
});

test('an unterminated multibulk waits for the rest; QUIT replies then closes', async (t) => {
  const server = await withServer(t);
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write('*2\r\n$4\r\nECHO\r\n$5\r\nhel');
  await until(() => server.state.netInputBytes >= 21);
  assert.equal(client.received.length, 0);
  client.socket.write('lo\r\nQUIT\r\nPING\r\n');
  await client.until(() => client.closed);
  assert.equal(client.received.toString(), '$5\r\nhello\r\n+OK\r\n');
  await until(() => server.state.clients.size === 0);
});

test('HELLO 3 switches to RESP3 for its own reply; RESET goes back to RESP2', async (t) => {
  const server = await withServer(t);
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write('HELLO 3\r\nCLIENT GETNAME\r\nRESET\r\nCLIENT GETNAME\r\n');
  const text = await client.reply(1);
  await client.until(() => client.received.toString().endsWith('$-1\r\n'));
  const all = client.received.toString();
  assert.ok(text.startsWith('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n'), all);
  assert.ok(all.endsWith('_\r\n+RESET\r\n$-1\r\n'), all);
  client.socket.end();
});

test('1M tiny pipelined commands, replies unread: the server stops reading and its buffers stay bounded', async (t) => {
  const server = await withServer(t);
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.pause(); // read nothing until all is sent
  const total = 1_000_000;
  const batch = Buffer.from('PING\r\n'.repeat(10_000));
  for (let i = 0; i < total / 10_000; i++) client.socket.write(batch);
  // The server must stall: it stops reading once a megabyte of replies waits unsent.
  await until(() => server.state.backpressurePauses > 0);
  assert.ok(server.state.totalCommands < total, 'the server stopped before reading everything');
  client.socket.resume();
  await client.until(() => client.receivedBytes >= total * 7);
  assert.equal(client.receivedBytes, total * 7);
  assert.equal(client.received.subarray(-14).toString(), '+PONG\r\n+PONG\r\n');
  assert.equal(server.state.totalCommands, total);
  // Bounded by the reply limit (1 MiB) plus one read's worth of input and replies, not by 7 MB of replies.
  assert.ok(server.state.peakConnectionBufferBytes < 3 * 1024 * 1024, `peak ${server.state.peakConnectionBufferBytes} bytes`);
  client.socket.end();
});

test('a value over Shoal\'s maximum is refused without closing the connection', async (t) => {
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, limits: { maxArgumentBytes: 1000 } });
  t.after(() => server.close());
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write(`*2\r\n$4\r\nECHO\r\n$5000\r\n${'x'.repeat(5000)}\r\nPING\r\n`);
  const expected = "-ERR argument of 5000 bytes exceeds Shoal's maximum value size (1000 bytes)\r\n+PONG\r\n";
  assert.equal(await client.reply(expected.length), expected);
  client.socket.end();
});

test('a daemon serves RESP on --resp-port and names it in its ready line and INFO', async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'r1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: ['--replicas', '1', '--read-quorum', '1', '--write-quorum', '1'] });
  t.after(() => node.stop());
  await node.start();
  const ready = node.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('ready'));
  assert.match(String(ready?.msg), new RegExp(`redis 127\\.0\\.0\\.1:${respPort}`));
  assert.equal(await redisCli(respPort!, ['PING']), 'PONG\n');
  const info = await redisCli(respPort!, ['INFO', 'shoal']);
  assert.match(info, /node:r1/);
  assert.match(info, /partitions:1024/);
});
