/**
 * --slow-log-threshold on a real daemon: it starts the RESP SLOWLOG's threshold, whose entries have
 * the shape redis-server 7.0 gives them (SLOWLOG GET / LEN / RESET compared with a real one), and
 * requests over it leave a `slow-request` line in the node's JSON log without key or value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'redis';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { startRedis } from './resp-raw.ts';

/** The types of a SLOWLOG GET entry, and its arguments as text. */
function shape(entry: unknown): unknown[] {
  const e = entry as unknown[];
  return [e.length, typeof e[0], typeof e[1], typeof e[2], (e[3] as unknown[]).map(String), typeof e[4], typeof e[5]];
}

test('--slow-log-threshold 0: SLOWLOG holds every command as redis-server 7.0 shapes it, and the log has slow-request lines without key or value', async (t) => {
  const [port, peerPort, respPort, redisPort] = await freePorts(4);
  const node = new DaemonProcess({ name: 's1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: ['--slow-log-threshold', '0'] });
  t.after(() => node.stop());
  const redis = await startRedis(redisPort!, ['--slowlog-log-slower-than', '0']);
  t.after(() => redis.kill());
  await node.start();

  const ours = createClient({ socket: { host: '127.0.0.1', port: respPort! } });
  const theirs = createClient({ socket: { host: '127.0.0.1', port: redisPort! } });
  for (const c of [ours, theirs]) c.on('error', () => {});
  await Promise.all([ours.connect(), theirs.connect()]);
  t.after(() => {
    ours.destroy();
    theirs.destroy();
  });
  const replies: Record<string, unknown>[] = [];
  for (const c of [ours, theirs]) {
    const r: Record<string, unknown> = {};
    r.threshold = await c.sendCommand(['CONFIG', 'GET', 'slowlog-log-slower-than']);
    r.reset = await c.sendCommand(['SLOWLOG', 'RESET']);
    await c.sendCommand(['SET', 'secret-key', 'secret-value']);
    r.get = await c.sendCommand(['SLOWLOG', 'GET', '1']);
    r.len = await c.sendCommand(['SLOWLOG', 'LEN']);
    r.getAll = await c.sendCommand(['SLOWLOG', 'GET', '-1']);
    r.reset2 = await c.sendCommand(['SLOWLOG', 'RESET']);
    r.lenAfter = await c.sendCommand(['SLOWLOG', 'LEN']);
    replies.push(r);
  }
  const [a, b] = replies as [Record<string, unknown>, Record<string, unknown>];
  assert.deepEqual({ ...(a.threshold as object) }, { 'slowlog-log-slower-than': '0' }, 'the option set the RESP threshold');
  assert.deepEqual(a.threshold, b.threshold);
  assert.deepEqual(a.reset, b.reset);
  assert.deepEqual((a.get as unknown[]).map(shape), (b.get as unknown[]).map(shape), 'SLOWLOG GET 1: the SET, shaped as Redis shapes it');
  assert.deepEqual(shape((a.get as unknown[])[0]), [6, 'number', 'number', 'number', ['SET', 'secret-key', 'secret-value'], 'string', 'string']);
  assert.equal(a.len, b.len);
  assert.deepEqual((a.getAll as unknown[]).map(shape), (b.getAll as unknown[]).map(shape));
  assert.deepEqual([a.reset2, a.lenAfter], [b.reset2, b.lenAfter]);

  const slow = await until('a slow-request line', () => node.logs.find((l) => l.event === 'slow-request' && l.op === 'set'), 10_000);
  assert.equal(slow.keyBytes, 'secret-key'.length);
  assert.equal(slow.outcome, 'ok');
  assert.equal(typeof slow.partition, 'number');
  assert.equal(typeof slow.durationMs, 'number');
  assert.equal(slow.replicasAsked, 1);
  assert.equal(slow.replicasAnswered, 1);
  assert.ok(!node.logs.some((l) => JSON.stringify(l).includes('secret-')), 'neither key nor value reaches the log');
});
