import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_KEEPALIVE_INTERVAL_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_RECONNECT,
  parseSeed,
  resolveOptions,
} from '../../src/client/options.ts';
import { backoffDelay } from '../../src/protocol/backoff.ts';
import { Router } from '../../src/client/router.ts';
import { partitionOf } from '../../src/ring/partition.ts';

test('reconnect delays grow exponentially, are capped, and jitter only shortens them', () => {
  const none = () => 0;
  assert.deepEqual([0, 1, 2, 3, 10, 50].map((n) => backoffDelay(n, DEFAULT_RECONNECT, none)), [100, 200, 400, 800, 5000, 5000]);
  const full = () => 0.999999;
  for (let n = 0; n < 10; n++) {
    const d = backoffDelay(n, DEFAULT_RECONNECT, full);
    assert.ok(d >= backoffDelay(n, DEFAULT_RECONNECT, none) * (1 - DEFAULT_RECONNECT.jitter) - 1e-6 && d <= 5000);
  }
});

test('seeds may be host:port or ws URLs', () => {
  assert.deepEqual(parseSeed('127.0.0.1:7400', '/shoal'), { url: 'ws://127.0.0.1:7400/shoal', address: '127.0.0.1:7400' });
  assert.deepEqual(parseSeed('ws://db.local:7400', '/shoal'), { url: 'ws://db.local:7400/shoal', address: 'db.local:7400' });
  assert.deepEqual(parseSeed('ws://db.local:7400/custom', '/shoal'), { url: 'ws://db.local:7400/custom', address: 'db.local:7400' });
  assert.throws(() => parseSeed('db.local', '/shoal'), /not host:port/);
});

test('options are validated with the option name in the message', () => {
  assert.throws(() => resolveOptions({ seeds: [] }), /at least one node/);
  assert.throws(() => resolveOptions({ seeds: 'a:1', commandTimeoutMs: -1 }), /commandTimeoutMs/);
  const o = resolveOptions({ seeds: 'a:1', keyPrefix: 'p:' });
  assert.deepEqual(o.keyPrefix, new TextEncoder().encode('p:'));
  assert.equal(o.offlineQueue, true);
  assert.equal(resolveOptions({ seeds: 'a:1', reconnect: false }).reconnect, false);
});

test('keepalive options: defaults, 0 turns pings off, a zero timeout with pings on is refused', () => {
  const o = resolveOptions({ seeds: 'a:1' });
  assert.deepEqual([o.keepaliveIntervalMs, o.keepaliveTimeoutMs], [DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS]);
  assert.equal(resolveOptions({ seeds: 'a:1', keepaliveIntervalMs: 0, keepaliveTimeoutMs: 0 }).keepaliveIntervalMs, 0);
  assert.throws(() => resolveOptions({ seeds: 'a:1', keepaliveIntervalMs: -1 }), /keepaliveIntervalMs/);
  assert.throws(() => resolveOptions({ seeds: 'a:1', keepaliveTimeoutMs: Number.NaN }), /keepaliveTimeoutMs/);
  assert.throws(() => resolveOptions({ seeds: 'a:1', keepaliveTimeoutMs: 0 }), /keepaliveTimeoutMs. must be positive/);
});

test('timeouts beyond what a timer can hold, and bad reconnect settings, are refused', () => {
  assert.throws(() => resolveOptions({ seeds: 'a:1', commandTimeoutMs: Number.POSITIVE_INFINITY }), /commandTimeoutMs. must be a number of milliseconds from 0 to 2147483647/);
  assert.throws(() => resolveOptions({ seeds: 'a:1', dialTimeoutMs: 2 ** 31 }), /dialTimeoutMs/);
  assert.equal(resolveOptions({ seeds: 'a:1', connectTimeoutMs: 2 ** 31 - 1 }).connectTimeoutMs, 2 ** 31 - 1);
  assert.throws(() => resolveOptions({ seeds: 'a:1', reconnect: { maxDelayMs: -5 } }), /reconnect.maxDelayMs/);
  assert.throws(() => resolveOptions({ seeds: 'a:1', reconnect: { factor: 0.5 } }), /reconnect.factor/);
  assert.throws(() => resolveOptions({ seeds: 'a:1', reconnect: { jitter: 2 } }), /reconnect.jitter/);
  const misspelt = { seeds: 'a:1', reconnect: { initialDelay: 10 } } as unknown as Parameters<typeof resolveOptions>[0];
  assert.throws(() => resolveOptions(misspelt), /unknown option `reconnect.initialDelay`/);
  assert.deepEqual(resolveOptions({ seeds: 'a:1', reconnect: { factor: 3 } }).reconnect, { ...DEFAULT_RECONNECT, factor: 3 });
});

test('every listed option of the wrong type or out of range is a TypeError naming it, not silently taken', () => {
  type Options = Parameters<typeof resolveOptions>[0];
  const bad: [Record<string, unknown>, RegExp][] = [
    // Sent as nil, the cluster's default would apply: weaker than asked, silently.
    [{ consistency: 'bogus' }, /^connect\(\): `consistency` must be one of 'one', 'quorum', 'all' .*got "bogus"/],
    [{ consistency: 'ALL' }, /`consistency`.*got "ALL"/],
    [{ offlineQueue: 'no' }, /^connect\(\): `offlineQueue` must be true or false, got "no"/],
    [{ routing: 0 }, /`routing` must be true or false/],
    [{ maxRetries: 1.5 }, /^connect\(\): `maxRetries` must be a whole number from 0, got 1.5/],
    [{ maxRetries: -1 }, /`maxRetries`/],
    [{ maxOfflineQueue: Infinity }, /`maxOfflineQueue` must be a whole number from 0, got Infinity/],
    [{ maxOfflineQueue: '10' }, /`maxOfflineQueue`.*got "10"/],
    [{ codec: {} }, /^connect\(\): `codec` must be an object with encode\(value\) and decode\(bytes\) functions/],
    [{ dialTimeoutMs: 0 }, /^connect\(\): `dialTimeoutMs` must be a positive number of milliseconds/],
    [{ keyPrefix: 5 }, /^connect\(\): `keyPrefix` must be a string or a Uint8Array, got 5/],
    [{ keyPrefix: ['a'] }, /`keyPrefix`.*an array/],
    [{ seeds: '127.0.0.1:99999' }, /^connect\(\): seed "127.0.0.1:99999" has port 99999: a port is 1 to 65535/],
    [{ seeds: ['a:1', 'b:0'] }, /seed "b:0" has port 0/],
    [{ seeds: 'ws://127.0.0.1:99999/shoal' }, /seed "ws:\/\/127.0.0.1:99999\/shoal" is not a valid ws:\/\/ or wss:\/\/ URL/],
    [{ seeds: 'a^b:7400' }, /seed "a\^b:7400" is not host:port/],
    [{ seeds: [7400] }, /^connect\(\): `seeds` must be a string or an array of strings/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveOptions({ seeds: 'a:1', ...options } as Options), { name: 'TypeError', message }, JSON.stringify(options));
  }
  const good = resolveOptions({ seeds: ['a:1', 'ws://b:65535/shoal', '[::1]:7400'], consistency: 'all', offlineQueue: false, routing: false, maxRetries: 0, maxOfflineQueue: 0, dialTimeoutMs: 1, keyPrefix: new Uint8Array([1]) });
  assert.deepEqual([good.consistency, good.offlineQueue, good.routing, good.maxRetries, good.maxOfflineQueue, good.dialTimeoutMs], ['all', false, false, 0, 0, 1]);
  assert.equal(resolveOptions({ seeds: 'a:1' }).consistency, null, 'absent: the cluster\'s R and W');
});

test('an unknown option is an error that names it', () => {
  const misspelt = { seeds: 'a:1', keepAliveIntervalMs: 1000 } as unknown as Parameters<typeof resolveOptions>[0];
  assert.throws(() => resolveOptions(misspelt), /unknown option `keepAliveIntervalMs`/);
});

test('the router maps a key to the client addresses of its partition owners, primary first', () => {
  const router = new Router({
    version: 'v',
    partitions: 4,
    replicas: 2,
    nodes: [
      { name: 'a', clientAddress: 'h:1', zone: 'z' },
      { name: 'b', clientAddress: 'h:2', zone: 'z' },
      { name: 'c', clientAddress: '', zone: 'z' }, // not serving clients yet
    ],
    owners: [['a', 'b'], ['b', 'a'], ['c', 'a'], ['b', 'c']],
  });
  const expected = [['h:1', 'h:2'], ['h:2', 'h:1'], ['h:1'], ['h:2']];
  for (const key of ['x', 'y', 'z', 'w', 'v']) {
    assert.deepEqual(router.replicasOf(new TextEncoder().encode(key)), expected[partitionOf(key, 4)]);
  }
  assert.deepEqual(router.addresses(), ['h:1', 'h:2']);
});
