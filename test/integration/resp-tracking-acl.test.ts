/**
 * Client-side caching under ACLs, on a real daemon and on redis-server 7.0.15 side by side: a
 * user limited to `~cache:*` that turns CLIENT TRACKING on and reads one of its keys must not be
 * pushed the names of other keys written in the same partition (Shoal tracks partitions, Redis
 * keys; Redis sends none of them). In BCAST both send every key under the prefix, whatever the
 * user's patterns: Redis 7.0 does, and Shoal keeps its behaviour there (docs/REDIS.md).
 *
 * Every wait is for a message: the push naming the user's own key, written after the others in
 * the same partition (one partition's invalidations arrive in order), ends each read.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection, startRedis } from './resp-raw.ts';

let shoal: DaemonProcess;
let redis: ChildProcess;
const ports = { shoal: 0, redis: 0 };

before(async () => {
  const [clientPort, peerPort, respPort, redisPort] = await freePorts(4);
  ports.shoal = respPort!;
  ports.redis = redisPort!;
  shoal = new DaemonProcess({ name: 'tracking-acl', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  [, redis] = await Promise.all([shoal.start(), startRedis(redisPort!)]);
  await until('the RESP port', async () => {
    const probe = await RawConnection.open(ports.shoal);
    probe.close();
    return true;
  }, 20_000);
});

after(() => {
  redis?.kill();
  return shoal?.stop();
});

/** One user per test (the servers live for the whole file): `~cache:*` and only what tracking needs. */
async function restrictedTracker(port: number, user: string, t: { after: (fn: () => void) => void }, ...options: string[]): Promise<{ admin: RawConnection; tracker: RawConnection }> {
  const admin = await RawConnection.open(port);
  t.after(() => admin.close());
  assert.equal(await admin.command(['ACL', 'SETUSER', user, 'on', '>pw', 'resetkeys', '~cache:*', '-@all', '+get', '+set', '+hello', '+client']), '+OK\r\n');
  const tracker = await RawConnection.open(port);
  t.after(() => tracker.close());
  assert.match(await tracker.command(['HELLO', '3', 'AUTH', user, 'pw']), /^%7\r\n/);
  assert.equal(await tracker.command(['CLIENT', 'TRACKING', 'ON', ...options]), '+OK\r\n');
  return { admin, tracker };
}

/** The keys named by the pushes read until one names `last` (inclusive). */
async function pushedUntil(tracker: RawConnection, last: string): Promise<string[]> {
  const named: string[] = [];
  for (let i = 0; i < 100; i++) {
    const push = await tracker.read(`the invalidation of ${last}`);
    const keys = [...push.matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]!).filter((k) => k !== 'invalidate');
    named.push(...keys);
    if (keys.includes(last)) return named;
  }
  throw new Error(`100 pushes without ${last}: ${named.join(' ')}`);
}

for (const server of ['shoal', 'redis'] as const) {
  test(`${server}: default mode pushes a restricted user no key names outside its patterns, only its own key's`, async (t) => {
    const { admin, tracker } = await restrictedTracker(ports[server], 'tracked1', t);
    // One hash tag: one slot, so one Shoal partition for the user's key and the others.
    assert.equal(await tracker.command(['GET', 'cache:{p}']), '_\r\n');
    for (let i = 0; i < 20; i++) assert.equal(await admin.command(['SET', `secret:{p}${i}`, 'v']), '+OK\r\n');
    assert.equal(await admin.command(['SET', 'cache:{p}', 'v']), '+OK\r\n');
    assert.deepEqual(await pushedUntil(tracker, 'cache:{p}'), ['cache:{p}']);
    // The user may not read what it would have been told of.
    assert.match(await tracker.command(['GET', 'secret:{p}0']), /^-NOPERM/);
  });

  test(`${server}: BCAST sends a restricted user every key under its prefixes, as Redis 7.0 does`, async (t) => {
    const { admin, tracker } = await restrictedTracker(ports[server], 'tracked2', t, 'BCAST', 'PREFIX', 'secret:', 'PREFIX', 'cache:');
    assert.equal(await admin.command(['SET', 'secret:{b}', 'v']), '+OK\r\n');
    assert.equal(await admin.command(['SET', 'cache:{b}', 'v']), '+OK\r\n');
    assert.deepEqual(await pushedUntil(tracker, 'cache:{b}'), ['secret:{b}', 'cache:{b}']);
  });
}
