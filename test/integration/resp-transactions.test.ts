/**
 * MULTI/EXEC refused safely (docs/REDIS.md, "Transactions"), against one real Shoal daemon and a
 * real redis-server: a pipelined transaction runs none of its commands and ends in EXECABORT;
 * ioredis's and node-redis's `multi()...exec()` reject and leave nothing written; the sequences
 * where Redis errors too (EXEC/DISCARD without MULTI, nested MULTI, WATCH inside MULTI, an unknown
 * command or a wrong arity inside MULTI then EXEC, EXEC with arguments) answer byte for byte as
 * redis-server 7.0's; COMMAND INFO describes the five commands as Redis does.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { freePorts } from '../../src/daemon/ports.ts';
import { NO_TRANSACTIONS, NO_WATCH } from '../../src/resp/transaction-commands.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection, startRedis, type Arg } from './resp-raw.ts';

let redis: ChildProcess;
let shoal: DaemonProcess;
let redisPort: number;
let respPort: number;

before(async () => {
  const [rPort, clientPort, peerPort, sPort] = await freePorts(4);
  redisPort = rPort!;
  respPort = sPort!;
  redis = await startRedis(redisPort);
  shoal = new DaemonProcess({ name: 'multi', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  await shoal.start();
  await until('the RESP port', async () => {
    const probe = await RawConnection.open(respPort);
    probe.close();
    return true;
  }, 20_000);
});

after(async () => {
  redis?.kill('SIGKILL');
  await shoal?.stop();
});

const err = (text: string): string => `-${text}\r\n`;

test('a pipelined MULTI; SET; INCR; EXEC runs neither command and ends in EXECABORT; the connection goes on', async (t) => {
  const c = await RawConnection.open(respPort);
  t.after(() => c.close());
  const pipeline: Arg[][] = [['MULTI'], ['SET', 'mx', '1'], ['INCR', 'mx'], ['EXEC'], ['GET', 'mx'], ['EXEC'], ['SET', 'mx', '5'], ['INCR', 'mx']];
  for (const args of pipeline) c.send(args);
  const replies: string[] = [];
  for (const args of pipeline) replies.push(await c.read(args.join(' ')));
  assert.deepEqual(replies, [
    '+OK\r\n', err(NO_TRANSACTIONS), err(NO_TRANSACTIONS), err('EXECABORT Transaction discarded because of previous errors.'),
    '$-1\r\n', err('ERR EXEC without MULTI'), '+OK\r\n', ':6\r\n',
  ]);
  // DISCARD leaves the transaction too; WATCH cannot be honoured, UNWATCH has nothing to forget.
  assert.equal(await c.command(['MULTI']), '+OK\r\n');
  assert.equal(await c.command(['DEL', 'mx']), err(NO_TRANSACTIONS));
  assert.equal(await c.command(['DISCARD']), '+OK\r\n');
  assert.equal(await c.command(['GET', 'mx']), '$1\r\n6\r\n');
  assert.equal(await c.command(['WATCH', 'mx']), err(NO_WATCH));
  assert.equal(await c.command(['UNWATCH']), '+OK\r\n');
  // Pub/Sub, tracking and the protocol switch inside MULTI are not run either; RESET leaves it.
  assert.equal(await c.command(['MULTI']), '+OK\r\n');
  assert.equal(await c.command(['SUBSCRIBE', '__redis__:invalidate']), err(NO_TRANSACTIONS));
  assert.equal(await c.command(['CLIENT', 'TRACKING', 'ON']), err(NO_TRANSACTIONS));
  assert.equal(await c.command(['HELLO', '3']), err(NO_TRANSACTIONS));
  assert.equal(await c.command(['UNWATCH']), err(NO_TRANSACTIONS));
  assert.equal(await c.command(['RESET']), '+RESET\r\n');
  assert.equal(await c.command(['EXEC']), err('ERR EXEC without MULTI'));
  assert.equal(await c.command(['CLIENT', 'TRACKINGINFO']), '*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n');
  // A subscribed RESP2 connection cannot start one, as in Redis.
  await c.command(['SUBSCRIBE', '__redis__:invalidate']);
  assert.equal(await c.command(['MULTI']), err("ERR Can't execute 'multi': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
  assert.equal(await c.command(['RESET']), '+RESET\r\n');
  assert.equal(await c.command(['PING']), '+PONG\r\n');
});

test('ioredis multi().set().incr().exec() rejects and writes nothing; the client keeps working', async (t) => {
  const client = new Redis({ port: respPort, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  await client.del('io:mx');
  await assert.rejects(client.multi().set('io:mx', '1').incr('io:mx').exec(), (error: Error & { previousErrors?: Error[] }) => {
    assert.match(error.message, /^EXECABORT Transaction discarded because of previous errors\./);
    assert.deepEqual(error.previousErrors?.map((e) => e.message), [NO_TRANSACTIONS, NO_TRANSACTIONS]);
    return true;
  });
  assert.equal(await client.get('io:mx'), null);
  assert.equal(await client.set('io:mx', '1'), 'OK');
  assert.equal(await client.incr('io:mx'), 2);
});

test('node-redis multi()...exec() rejects and writes nothing; the client keeps working', async (t) => {
  const client = createClient({ socket: { host: '127.0.0.1', port: respPort } });
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.destroy());
  await client.del('nr:mx');
  // node-redis rejects with the first refused command's error (it reads EXECABORT as that).
  await assert.rejects(client.multi().set('nr:mx', '1').incr('nr:mx').exec(), (error: Error) => error.message === NO_TRANSACTIONS);
  assert.equal(await client.get('nr:mx'), null);
  assert.equal(await client.set('nr:mx', '1'), 'OK');
  assert.equal(await client.incr('nr:mx'), 2);
});

test('where Redis errors too, the transaction commands answer byte for byte as redis-server 7.0', async (t) => {
  const toRedis = await RawConnection.open(redisPort);
  const toShoal = await RawConnection.open(respPort);
  t.after(() => {
    toRedis.close();
    toShoal.close();
  });
  const script: Arg[][] = [
    ['EXEC'], ['DISCARD'], ['EXEC', 'x'], ['DISCARD', 'x'], ['MULTI', 'x'], ['WATCH'], ['UNWATCH', 'x'],
    // An empty transaction, and one with only the errors that do not fail it (Redis: an empty array).
    ['MULTI'], ['EXEC'], ['MULTI'], ['MULTI'], ['WATCH', 'k'], ['EXEC'],
    // A queueing error: the transaction is discarded at EXEC, nothing having run.
    ['MULTI'], ['NOSUCH', 'a'], ['EXEC'], ['MULTI'], ['GET'], ['EXEC'], ['MULTI'], ['CLIENT', 'NOSUCH'], ['EXEC'],
    // EXEC itself refused: the transaction ends at once.
    ['MULTI'], ['EXEC', 'x'], ['EXEC'], ['MULTI'], ['DISCARD'], ['DISCARD'], ['MULTI'], ['RESET'], ['EXEC'],
  ];
  const mismatches: string[] = [];
  for (const args of script) {
    const [a, b] = [await toRedis.command(args), await toShoal.command(args)];
    if (a !== b) mismatches.push(`${args.join(' ')}\n    redis: ${JSON.stringify(a)}\n    shoal: ${JSON.stringify(b)}`);
  }
  assert.deepEqual(mismatches, []);
});

test('COMMAND INFO describes MULTI, EXEC, DISCARD, WATCH and UNWATCH as redis-server 7.0 does (key specs apart)', async (t) => {
  const toRedis = await RawConnection.open(redisPort);
  const toShoal = await RawConnection.open(respPort);
  t.after(() => {
    toRedis.close();
    toShoal.close();
  });
  for (const name of ['multi', 'exec', 'discard', 'watch', 'unwatch']) {
    const [a, b] = [await toRedis.command(['COMMAND', 'INFO', name]), await toShoal.command(['COMMAND', 'INFO', name])];
    // Up to the tips (name, arity, flags, first/last/step, ACL categories).
    const head = (reply: string): string => reply.slice(0, reply.indexOf('*0\r\n', reply.indexOf('@transaction')));
    assert.equal(head(b), head(a), name);
  }
});
