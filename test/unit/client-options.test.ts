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

test('function-typed options are checked at connect: a bad `random` would otherwise throw inside the socket close handler (probe-sdk F2)', () => {
  type Options = Parameters<typeof resolveOptions>[0];
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ random: 'x' }, /^connect\(\): `random` must be a function returning a number in \[0, 1\), got "x"/],
    [{ random: 5 }, /`random`.*got 5/],
    [{ timers: {} }, /^connect\(\): `timers` must be an object with setTimer\(delayMs, fn\) and cancelTimer\(id\) functions/],
    [{ timers: { setTimer: () => 1 } }, /`timers`/],
    [{ timers: { setTimer: () => 1, cancelTimer: () => {}, unref: 1 } }, /^connect\(\): `timers.unref` must be a function \(or absent\), got 1/],
    [{ timers: { setTimer: () => 1, cancelTimer: () => {}, wallMs: 5 } }, /^connect\(\): `timers.wallMs` must be a function returning epoch milliseconds \(or absent\), got 5/],
    [{ webSocket: 5 }, /^connect\(\): `webSocket` must be a WebSocket class \(a constructor\), got 5/],
    [{ webSocket: {} }, /`webSocket`.*an object/],
    [{ codec: { encode: () => new Uint8Array(0), decode: 'x' } }, /`codec`/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveOptions({ seeds: 'a:1', ...options } as Options), { name: 'TypeError', message }, JSON.stringify(options));
  }
  const random = () => 0.5;
  const timers = { setTimer: () => 1, cancelTimer: () => {} };
  const o = resolveOptions({ seeds: 'a:1', random, timers });
  assert.equal(o.random, random);
  assert.equal(o.timers, timers);
});

test('every option and sub-option is checked up front, naming its path; unknown nested keys are refused (probe-sdk F4)', () => {
  type Options = Parameters<typeof resolveOptions>[0];
  const bad: [Record<string, unknown>, RegExp][] = [
    // Sent in hello, each of these made every node close the connection as malformed: connect() waited 10 s, then "no node answered".
    [{ credentials: 'x' }, /^connect\(\): `credentials` must be an object \{ username\?, password\?, token\? \}, got "x"/],
    [{ credentials: ['u', 'p'] }, /`credentials` must be an object.*got an array/],
    [{ credentials: { username: 'bob', password: 5 } }, /^connect\(\): `credentials.password` must be a string, got 5/],
    [{ password: 123 }, /^connect\(\): `password` must be a string, got 123/],
    [{ username: 5 }, /^connect\(\): `username` must be a string, got 5/],
    [{ token: 5 }, /`token` must be a string/],
    [{ clientName: 5 }, /^connect\(\): `clientName` must be a string, got 5/],
    // A misspelt field was dropped, and the client logged in as `default`.
    [{ credentials: { user: 'bob', password: 'pw' } }, /^connect\(\): unknown option `credentials.user` \(known: username, password, token\)/],
    // A token names its user: a password beside it was silently ignored by the node.
    [{ credentials: { token: 'shoal_x', password: 'pw' } }, /^connect\(\): `credentials.password` and `credentials.token` do not go together/],
    [{ token: 'shoal_x', password: 'pw' }, /`credentials.password` and `credentials.token` do not go together/],
    // nearCache: a string `prefixes` was spread into one-character prefixes.
    [{ nearCache: { maxEntries: 10, prefixes: 'user:' } }, /^connect\(\): `nearCache.prefixes` must be an array of strings, got "user:"/],
    [{ nearCache: { maxEntries: 10, prefixes: [1, null] } }, /^connect\(\): `nearCache.prefixes\[0\]` must be a string, got 1/],
    [{ nearCache: { maxEntries: 10, ttlMs: '60000' } }, /^connect\(\): `nearCache.ttlMs` must be a positive number of ms, got "60000"/],
    [{ nearCache: { maxEntries: 10, maxBytes: '1' } }, /`nearCache.maxBytes` must be a positive number of bytes, got "1"/],
    [{ nearCache: { maxEntries: '10' } }, /`nearCache.maxEntries` must be a positive whole number, got "10"/],
    [{ nearCache: { maxEntries: 10, prefixes: Array.from({ length: 65 }, (_, i) => `p${i}:`) } }, /`nearCache.prefixes` holds 65 prefixes: at most 64/],
    [{ nearCache: 5 }, /^connect\(\): `nearCache` must be an object \{ maxEntries, maxBytes\?, ttlMs\?, prefixes\? \}, got 5/],
    [{ nearCache: { maxEntries: 10, prefix: ['a'] } }, /unknown option `nearCache.prefix`/],
    // tls
    [{ tls: 'yes' }, /^connect\(\): `tls` must be true, false or an object \{ ca\?, cert\?, key\?, servername\?, rejectUnauthorized\? \}, got "yes"/],
    [{ tls: { ca: 5 } }, /^connect\(\): `tls.ca` must be PEM text, bytes or an array of them, got 5/],
    [{ tls: { ca: ['pem', 5] } }, /`tls.ca\[1\]` must be PEM text or bytes, got 5/],
    [{ tls: { cert: 5, key: 'k' } }, /`tls.cert` must be PEM text or bytes, got 5/],
    [{ tls: { servername: 5 } }, /^connect\(\): `tls.servername` must be a string, got 5/],
    [{ tls: { rejectUnauthorized: 'no' } }, /^connect\(\): `tls.rejectUnauthorized` must be true or false, got "no"/],
    [{ tls: { caFile: 'x' } }, /unknown option `tls.caFile`/],
    // reconnect of another type than an object or false was taken as the defaults.
    [{ reconnect: 5 }, /^connect\(\): `reconnect` must be false or an object \{ initialDelayMs\?, maxDelayMs\?, factor\?, jitter\? \}, got 5/],
    [{ reconnect: true }, /`reconnect` must be false or an object/],
    [{ reconnect: { factor: '2' } }, /`reconnect.factor` must be a finite number >= 1, got "2"/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveOptions({ seeds: 'a:1', ...options } as Options), { name: 'TypeError', message }, JSON.stringify(options));
  }
  // No options object at all, or something else than one.
  for (const options of [undefined, null, 'a:1', ['a:1']]) {
    assert.throws(() => resolveOptions(options as unknown as Options), { name: 'TypeError', message: /^connect\(\): the options must be an object \{ seeds, \.\.\. \}, got / }, String(options));
  }
  // What is right is kept as given.
  const o = resolveOptions({ seeds: 'a:1', credentials: { username: 'bob', password: 'pw' }, clientName: 'app', nearCache: { maxEntries: 10, prefixes: ['user:'], ttlMs: Infinity }, tls: { ca: ['pem', new Uint8Array(1)], servername: 'db', rejectUnauthorized: false } });
  assert.deepEqual(o.credentials, { username: 'bob', password: 'pw' });
  assert.equal(o.clientName, 'app');
  assert.deepEqual(o.nearCache, { maxEntries: 10, prefixes: ['user:'], ttlMs: Infinity });
  assert.deepEqual(o.tls, { ca: ['pem', new Uint8Array(1)], servername: 'db', rejectUnauthorized: false });
  assert.deepEqual(resolveOptions({ seeds: 'a:1', username: 'bob', password: 'pw' }).credentials, { username: 'bob', password: 'pw' });
  assert.deepEqual(resolveOptions({ seeds: 'a:1', token: 'shoal_x', username: 'bob' }).credentials, { token: 'shoal_x', username: 'bob' });
});

test('an option given as undefined or null is absent: its default applies, at the top level and nested', () => {
  type Options = Parameters<typeof resolveOptions>[0];
  const o = resolveOptions({ seeds: 'a:1', nearCache: null, credentials: null, tls: null, reconnect: null, webSocket: null, random: undefined, consistency: null, username: null } as unknown as Options);
  assert.equal(o.nearCache, null);
  assert.equal(o.credentials, null);
  assert.equal(o.tls, null);
  assert.deepEqual(o.reconnect, DEFAULT_RECONNECT);
  assert.equal(o.consistency, null);
  assert.deepEqual(resolveOptions({ seeds: 'a:1', reconnect: { factor: undefined, jitter: null } } as unknown as Options).reconnect, DEFAULT_RECONNECT);
  assert.deepEqual(resolveOptions({ seeds: 'a:1', nearCache: { maxEntries: 5, ttlMs: undefined, prefixes: null } } as unknown as Options).nearCache, { maxEntries: 5 });
});

test('a near cache needs routing: with `routing: false` it would cache nothing, so the pair is refused (probe-sdk F5)', () => {
  assert.throws(() => resolveOptions({ seeds: 'a:1', routing: false, nearCache: { maxEntries: 10 } }), {
    name: 'TypeError',
    message: /^connect\(\): `nearCache` needs `routing: true`/,
  });
  assert.notEqual(resolveOptions({ seeds: 'a:1', nearCache: { maxEntries: 10 } }).nearCache, null);
});
