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
import { DaemonProcess, isReadyLine } from './daemon-harness.ts';
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

/**
 * A command finishing when the test says: `LATER key` (a read of `key`) replies `key` only once
 * `release(key)` is called, so replies can be finished in any order; `name`/`flags` make a writer.
 */
function laterCommand(name = 'later', flags = ['readonly']): { spec: CommandSpec; release: (id: string) => void; waiting: () => number; started: string[] } {
  const pending = new Map<string, () => void>();
  const started: string[] = [];
  const spec: CommandSpec = {
    name,
    arity: 2,
    flags,
    keys: [1, 1, 1],
    categories: [],
    run(_ctx, args, reply, done) {
      const id = Buffer.from(args[1]!).toString();
      started.push(`${name} ${id}`);
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
    started,
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
    'OK\ntester\nERR SELECT is not allowed in cluster mode\n\nERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\n\n',
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
  // Coalescing: 1000 commands sent in one write are answered in a few writes (one per read).
  const writesBefore = server.state.socketWrites;
  client.socket.write('PING\r\n'.repeat(1000));
  await client.reply(expected.length + 7000);
  assert.ok(server.state.socketWrites - writesBefore <= 10, `${server.state.socketWrites - writesBefore} writes for 1000 replies`);
  client.socket.end();
});

test('replies leave in command order when commands finish out of order', async (t) => {
  const later = laterCommand();
  const server = await withServer(t, [later.spec]);
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write('LATER a\r\nLATER b\r\nLATER c\r\n');
  await until(() => later.waiting() === 3, client);
  later.release('c');
  later.release('b');
  assert.equal(client.received.length, 0, 'nothing may pass the unfinished first command');
  later.release('a');
  const expected = '$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n';
  assert.equal(await client.reply(expected.length), expected);
  client.socket.end();
});

test('a command waits for running ones before it that touch its keys or when it has none', async (t) => {
  const reads = laterCommand('later', ['readonly']);
  const writes = laterCommand('laterw', ['write']);
  const server = await withServer(t, [reads.spec, writes.spec]);
  const client = new RawClient(server.port);
  await client.ready();
  // The write of k and the read of j run at once; the read of k waits for the write of k; PING
  // (no keys) waits for everything before it, and the read of j after it waits for PING.
  client.socket.write('LATERW k\r\nLATER j\r\nLATER k\r\nPING\r\nLATER i\r\n');
  await until(() => reads.waiting() + writes.waiting() === 2, client);
  assert.deepEqual([...writes.started, ...reads.started], ['laterw k', 'later j']);
  reads.release('j');
  writes.release('k');
  await until(() => reads.started.length === 2, client);
  assert.deepEqual(reads.started, ['later j', 'later k']);
  reads.release('k');
  await until(() => reads.started.length === 3, client);
  reads.release('i');
  const expected = '$1\r\nk\r\n$1\r\nj\r\n$1\r\nk\r\n+PONG\r\n$1\r\ni\r\n';
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

test('a drain answers the commands already started, runs nothing after, closes each connection and refuses new ones', async (t) => {
  const later = laterCommand();
  const server = await withServer(t, [later.spec]);
  const busy = new RawClient(server.port);
  const idle = new RawClient(server.port);
  await Promise.all([busy.ready(), idle.ready()]);
  // Two reads started (different keys run at once); the PING behind them waits (it has no keys).
  busy.socket.write('LATER a\r\nLATER b\r\nPING\r\n');
  await until(() => later.waiting() === 2);
  const drained = server.drain({ graceMs: 60_000 });
  await idle.until(() => idle.closed);
  assert.equal(idle.received.length, 0, 'an idle connection closes without a reply');
  await until(() => server.connectionCount === 1);
  // Sent after the drain began: never run, never answered.
  busy.socket.write('LATER c\r\n');
  later.release('b');
  later.release('a');
  await busy.until(() => busy.closed);
  assert.equal(busy.received.toString(), '$1\r\na\r\n$1\r\nb\r\n', 'the started reads answered; the waiting PING not run');
  assert.deepEqual(later.started, ['later a', 'later b']);
  await drained;
  assert.equal(server.connectionCount, 0);
  const refused = new RawClient(server.port);
  await refused.until(() => refused.closed);
  assert.equal(refused.received.length, 0);
});

test('a drain closes the connections still busy when its grace is over', async (t) => {
  const later = laterCommand();
  const server = await withServer(t, [later.spec]);
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write('LATER a\r\n');
  await until(() => later.waiting() === 1);
  await server.drain({ graceMs: 10 });
  await client.until(() => client.closed);
  assert.equal(client.received.length, 0);
  later.release('a'); // finishing after the close writes nothing and throws nothing
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
  const ready = node.logs.find(isReadyLine);
  assert.match(String(ready?.msg), new RegExp(`redis 127\\.0\\.0\\.1:${respPort}`));
  assert.equal(await redisCli(respPort!, ['PING']), 'PONG\n');
  const info = await redisCli(respPort!, ['INFO', 'shoal']);
  assert.match(info, /node:r1/);
  assert.match(info, /partitions:1024/);

  // TIME: seconds and microseconds as two bulk strings, as redis-server (`$10 1796511327`, `$6
  // 383776`): the microseconds are the clock's own, not milliseconds times 1000.
  const connection = await RawConnection.open(respPort!);
  t.after(() => connection.close());
  const micros: number[] = [];
  for (let i = 0; i < 20; i++) {
    const before = Date.now();
    const reply = await connection.command(['TIME']);
    const match = /^\*2\r\n\$(\d+)\r\n(\d+)\r\n\$(\d+)\r\n(0|[1-9]\d{0,5})\r\n$/.exec(reply);
    assert.ok(match, `TIME answered ${JSON.stringify(reply)}`);
    assert.equal(Number(match[1]), match[2]!.length);
    assert.equal(Number(match[3]), match[4]!.length);
    const atMs = Number(match[2]) * 1000 + Number(match[4]) / 1000;
    assert.ok(atMs >= before - 1 && atMs <= Date.now() + 1, `TIME ${atMs} within the call [${before}, ${Date.now()}]`);
    micros.push(Number(match[4]));
  }
  assert.ok(micros.some((us) => us % 1000 !== 0), `microseconds below the millisecond: ${micros.join(' ')}`);

  // A client that sends its commands and then half-closes (`printf ... | nc -N`) gets every reply,
  // as from redis-server, and then the node closes. Before: `+PONG` alone, though the SET ran.
  const halfClosed = await new Promise<string>((resolve, reject) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port: respPort! }, () => socket.end('*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$2\r\nhc\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$2\r\nhc\r\n'));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.once('close', () => resolve(received));
    socket.once('error', reject);
  });
  assert.equal(halfClosed, '+PONG\r\n+OK\r\n$1\r\n1\r\n');
});

/** Starts redis-server on a unix socket in a temporary directory; resolves with the socket's path. */
async function startRedis(t: { after: (fn: () => void) => void }): Promise<string> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'shoal-redis-'));
  const path = join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/ready to accept connections/i.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return path;
}

/** Sends `input` on a fresh connection and resolves with everything received until `expectBytes` or the close. */
async function exchange(target: number | string, input: string, done: (received: Buffer) => boolean): Promise<string> {
  const socket = typeof target === 'number' ? connect({ host: '127.0.0.1', port: target }) : connect({ path: target });
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (done(Buffer.concat(chunks))) finish();
    });
    socket.on('close', finish);
    socket.on('error', reject);
    socket.write(input);
  });
}

test('connection and server commands answer byte for byte as redis-server 7.0 does', async (t) => {
  const redisPath = await startRedis(t);
  const server = await withServer(t);
  // One command a line (inline), each answered on one connection; the last is QUIT, so both close.
  const script = [
    'PING', 'PING hi', 'PING a b', 'ECHO', 'ECHO "a b\\r\\n"', 'FOO a b', 'foo', 'FOO "a\\nb"',
    // SELECT of another database answers as Redis Cluster does: resp-differential compares it with a cluster-enabled server.
    'SELECT 0', 'SELECT x', 'SELECT 99999999999',
    'AUTH x', 'AUTH default x', 'AUTH someone x', 'AUTH a b c',
    'HELLO x', 'HELLO 4', 'HELLO 1', 'HELLO 2 foo', 'HELLO 2 SETNAME "a b"', 'HELLO 2 AUTH default', 'HELLO 2 AUTH someone x',
    'CLIENT', 'CLIENT FOO', 'CLIENT SETNAME', 'CLIENT SETNAME "a b"', 'CLIENT SETNAME tester', 'CLIENT GETNAME',
    'CLIENT KILL 1.2.3.4:5', 'CLIENT KILL foo bar', 'CLIENT KILL ID 99999', 'CLIENT KILL ID x', 'CLIENT KILL ADDR 1.2.3.4:5 SKIPME maybe',
    'CLIENT KILL USER nosuch', 'CLIENT KILL ID 99999 USER "no such"', 'CLIENT KILL USER nosuch ID x', 'CLIENT KILL USER default',
    'CLIENT NO-EVICT maybe', 'CLIENT NO-EVICT on', 'CLIENT LIST TYPE foo', 'CLIENT LIST ID x',
    'CONFIG', 'CONFIG FOO', 'CONFIG GET', 'CONFIG GET nosuch', 'CONFIG GET maxmemory-policy', 'CONFIG GET appendonly', 'CONFIG GET save',
    'CONFIG SET maxmemory', 'CONFIG SET maxmemory 1 2', 'CONFIG SET maxmemory abc', 'CONFIG SET maxmemory-policy foo',
    'CONFIG SET appendonly maybe', 'CONFIG SET nosuch 1', 'CONFIG SET slowlog-log-slower-than x', 'CONFIG SET slowlog-log-slower-than -5',
    'CONFIG SET maxmemory-policy allkeys-lru', 'CONFIG GET maxmemory-policy',
    'CONFIG SET slowlog-log-slower-than 5 maxmemory abc', 'CONFIG GET slowlog-log-slower-than', 'CONFIG SET slowlog-log-slower-than 7 slowlog-max-len 9', 'CONFIG GET slowlog-max-len', 'CONFIG GET slowlog-log-slower-than', 'CONFIG SET slowlog-log-slower-than 10000000', 'CONFIG SET slowlog-max-len 5', 'CONFIG GET slowlog-max-len',
    'WAIT x 1', 'WAIT 1 -1', 'WAIT 1 x', 'WAIT 0 0',
    'LATENCY', 'LATENCY FOO', 'LATENCY LATEST', 'LATENCY HISTORY command', 'LATENCY RESET',
    'SLOWLOG FOO', 'SLOWLOG GET x', 'SLOWLOG GET -2', 'SLOWLOG RESET', 'SLOWLOG LEN',
    'COMMAND FOO', 'COMMAND INFO nosuch', 'COMMAND DOCS nosuch', 'COMMAND COUNT x', 'TIME x', 'DEBUG',
    'HELLO 3 SETNAME x', 'CONFIG GET maxmemory-policy', 'CLIENT GETNAME', 'COMMAND INFO nosuch', 'RESET', 'CLIENT GETNAME',
    'QUIT', 'PING',
  ];
  const input = script.join('\r\n') + '\r\n';
  const [ours, theirs] = await Promise.all([exchange(server.port, input, () => false), exchange(redisPath, input, () => false)]);
  // HELLO's reply carries the connection id and mode, which differ by design: compare it apart.
  const strip = (s: string) => s.replace(/\$2\r\nid\r\n:\d+\r\n\$4\r\nmode\r\n\$\d+\r\n\w+\r\n/, 'ID-AND-MODE');
  assert.equal(strip(ours), strip(theirs));
  // Protocol errors, each on its own connection.
  for (const garbage of ['*x\r\n', '*1\r\nx\r\n', `*1\r\n$${2 ** 40}\r\n`, 'ECHO "open\r\n', "ECHO 'a'b\r\n", '*1\r\n$-5\r\n', '*2\r\n$4\r\nECHO\r\n:1\r\n']) {
    const [a, b] = await Promise.all([exchange(server.port, garbage, () => false), exchange(redisPath, garbage, () => false)]);
    assert.equal(a, b, JSON.stringify(garbage));
  }
});

test('WAIT answers the replicas besides the first that acknowledged the last write; SLOWLOG and LATENCY hold real measurements', async (t) => {
  const keyspace = memoryKeyspace();
  const plainSet = keyspace.set.bind(keyspace);
  keyspace.set = (key, value, options, done) => plainSet(key, value, options, (error, result) => done(error, result && { ...result, acks: 3 }));
  const write: CommandSpec = {
    name: 'testwrite',
    arity: 3,
    flags: ['write'],
    keys: [1, 1, 1],
    categories: [],
    run(ctx, args, reply, done) {
      ctx.server.keyspace.set(args[1]!, args[2]!, {}, (error) => {
        if (error === null) reply.ok();
        else reply.error(`ERR ${error.message}`);
        done();
      });
    },
  };
  const server = await startRespServer({ keyspace, port: 0, commands: new CommandTable([serverCommands, [write]]) });
  t.after(() => server.close());
  const client = new RawClient(server.port);
  await client.ready();
  client.socket.write('WAIT 1 0\r\nTESTWRITE k v\r\nWAIT 1 0\r\n');
  assert.equal(await client.reply(12), ':0\r\n+OK\r\n:2\r\n');
  // Every command is slow at a threshold of 0 us; DEBUG SLEEP 0.02 is at least 20 ms.
  const setup = 'CONFIG SET slowlog-log-slower-than 0\r\nCONFIG SET latency-monitor-threshold 1\r\nSLOWLOG RESET\r\nDEBUG SLEEP 0.02\r\nSLOWLOG LEN\r\nLATENCY LATEST\r\n';
  client.socket.write(setup);
  await client.until(() => /\+OK\r\n\+OK\r\n\+OK\r\n\+OK\r\n:\d+\r\n\*1\r\n\*4\r\n\$7\r\ncommand\r\n:\d+\r\n:\d+\r\n:\d+\r\n$/.test(client.received.toString().slice(12)));
  const tail = client.received.toString().slice(12);
  const [, slowlogLength, latest, worst] = /:(\d+)\r\n\*1\r\n\*4\r\n\$7\r\ncommand\r\n:\d+\r\n:(\d+)\r\n:(\d+)\r\n$/.exec(tail)!;
  assert.equal(slowlogLength, '2', 'SLOWLOG RESET itself and DEBUG SLEEP were logged');
  assert.ok(Number(latest) >= 20 && Number(worst) >= 20, tail);
  const entries = server.state.slowlog.map((e) => e.args.map((a) => Buffer.from(a).toString()).join(' '));
  assert.deepEqual(entries.slice(0, 4), ['LATENCY LATEST', 'SLOWLOG LEN', 'DEBUG SLEEP 0.02', 'SLOWLOG RESET'], 'newest first');
  assert.ok(server.state.slowlog.find((e) => e.args.length === 3)!.durationMicros >= 20_000);
  client.socket.end();
});

test('INFO keyspace sums the partition counts, counted at most once a second for all connections', async (t) => {
  const keyspace = memoryKeyspace();
  let calls = 0;
  keyspace.countPartition = (partition, done) => {
    calls++;
    done(null, partition < 5 ? 2 : 0);
  };
  let now = 1_000_000;
  const server = await startRespServer({ keyspace, port: 0, nowMs: () => now });
  t.after(() => server.close());
  const partitions = keyspace.topology().partitions;
  assert.equal(await redisCli(server.port, ['INFO', 'keyspace']), '# Keyspace\r\ndb0:keys=10,expires=0,avg_ttl=0\r\n');
  assert.equal(await redisCli(server.port, ['INFO', 'keyspace']), '# Keyspace\r\ndb0:keys=10,expires=0,avg_ttl=0\r\n');
  assert.equal(calls, partitions, 'the second connection used the count of the first');
  now += 1000;
  await redisCli(server.port, ['INFO', 'keyspace']);
  assert.equal(calls, 2 * partitions);
});

test('INFO counts what the node knows: total_error_replies, evicted_keys, tracking_clients, pubsub_channels, instantaneous_ops_per_sec; CONFIG RESETSTAT zeroes them', async (t) => {
  let now = 1_000_000;
  let evictions = 40;
  const streams = { source: { subscribe: () => ({ update() {}, close() {}, memoryBytes: 0, dropped: 0 }) }, holds: () => true };
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, nowMs: () => now, storeEvictions: () => evictions, invalidations: streams });
  t.after(() => server.close());
  const a = new RawClient(server.port);
  const b = new RawClient(server.port);
  await Promise.all([a.ready(), b.ready()]);
  t.after(() => [a, b].forEach((c) => c.socket.destroy()));
  /** Sends inline commands on `client` and waits for `replies` more replies (each ends a line here). */
  const send = async (client: RawClient, commands: string[], replies = commands.length): Promise<string> => {
    const before = client.received.toString('latin1');
    client.socket.write(commands.map((c) => `${c}\r\n`).join(''));
    await client.until(() => client.received.toString('latin1').slice(before.length).split('\r\n').length > replies);
    return client.received.toString('latin1').slice(before.length);
  };
  const info = async (): Promise<Record<string, string>> => {
    const text = await new Promise<string>((resolve) => {
      const before = a.receivedBytes;
      a.socket.write('INFO everything\r\n');
      void a.until(() => /\r\n\r\n$/.test(a.received.toString('latin1').slice(before)) && a.received.toString('latin1').slice(before).includes('# Shoal')).then(() => resolve(a.received.toString('latin1').slice(before)));
    });
    return Object.fromEntries(text.split('\r\n').filter((l) => /^\w+:/.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  };
  const counters = async (): Promise<string> => {
    const i = await info();
    return ['total_error_replies', 'evicted_keys', 'tracking_clients', 'pubsub_channels', 'instantaneous_ops_per_sec'].map((k) => `${k}=${i[k]}`).join(' ');
  };

  assert.equal(await counters(), 'total_error_replies=0 evicted_keys=0 tracking_clients=0 pubsub_channels=0 instantaneous_ops_per_sec=0', 'evictions before the listener started do not count');
  // Three refusals and one error of a command that ran.
  await send(a, ['NOSUCH', 'GET', 'CLIENT KILL USER nosuch', 'SELECT 5']);
  evictions += 5;
  await send(a, ['CLIENT TRACKING ON']);
  await send(b, ['CLIENT TRACKING ON BCAST', 'SUBSCRIBE __redis__:invalidate'], 4);
  assert.equal(await counters(), 'total_error_replies=4 evicted_keys=5 tracking_clients=2 pubsub_channels=1 instantaneous_ops_per_sec=0');
  await send(b, ['RESET']);
  await send(a, ['CONFIG RESETSTAT']);
  evictions += 2;
  assert.equal(await counters(), 'total_error_replies=0 evicted_keys=2 tracking_clients=1 pubsub_channels=0 instantaneous_ops_per_sec=0');

  // 10 commands every 100 ms for 2 s (virtual time), then INFO: the last 1.6 s held 16 steps,
  // plus the INFO itself, counted as it runs: 161 commands over 1.6 s.
  now += 10_000;
  for (let step = 0; step < 20; step++) {
    await send(a, Array.from({ length: 10 }, () => 'PING'));
    now += 100;
  }
  assert.equal((await info())['instantaneous_ops_per_sec'], String(Math.round(161 / 1.6)));
  now += 1_600;
  assert.equal((await info())['instantaneous_ops_per_sec'], String(Math.round(2 / 1.6)), 'an idle 1.6 s later, only the INFO before and this one');
});
