/**
 * Every client option with its default, in one place (docs/CLIENT.md renders this table).
 */
import { validateNearCacheOptions, type NearCacheOptions } from './near.ts';
import type { Consistency } from '../replication/api.ts';
import type { Credentials } from '../protocol/index.ts';
import { msgpackCodec, type ValueCodec } from './value-codec.ts';
import type { WebSocketConstructor } from './websocket.ts';
import { PlatformTimers, type ClientTimers } from './timers.ts';
import { consistencyLevel, delayMs, MAX_TIMER_DELAY_MS, optionsObject, shown, stringOption, wellFormed } from './checks.ts';

/** Per-call timeout (5 s): covers waiting in the offline queue, retries and the round trip. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/** How long `connect()` waits for the first connection to be ready (10 s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long one connection attempt may take, from dialing to `welcome` (3 s). */
export const DEFAULT_DIAL_TIMEOUT_MS = 3000;
/** Calls held while no connection is ready; beyond it calls fail with OfflineQueueFullError. */
export const DEFAULT_MAX_OFFLINE_QUEUE = 10_000;
/**
 * Times a call that is safe to retry is re-sent (after a lost connection, a redirect, a
 * shutting-down node, and for reads also after `unavailable`, `overloaded` or a node-side `timeout`).
 */
export const DEFAULT_MAX_RETRIES = 3;
/**
 * Silence on a ready connection after which the client pings the node (5 s). Without it a
 * half-open connection (node frozen, network black-holed) would hold its calls until they time out
 * and never fail over.
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5000;
/** How long a ping may go unanswered (by a pong or any frame) before the connection is cut (5 s). */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 5000;
/** Sent in hello, for server logs. */
export const DEFAULT_CLIENT_NAME = 'shoal-js/0.1.0';

export interface ReconnectOptions {
  /** Delay before the first reconnect attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** Cap on the delay. Default 5000 ms. */
  maxDelayMs?: number;
  /** Growth of the delay per failed attempt. Default 2. */
  factor?: number;
  /**
   * Fraction of each delay that is randomised away (0 = none, 1 = "full jitter"), so that clients
   * cut off together do not reconnect together. Default 0.5.
   */
  jitter?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.5,
});

/**
 * Backoff before re-sending a read that failed `unavailable`, `overloaded` or `timeout`: 50 ms,
 * doubling to at most 1 s, half of each randomised away (so a burst that overloaded a node does
 * not come back at once). The call's timeout still bounds the whole.
 */
export const READ_RETRY_BACKOFF: Required<ReconnectOptions> = Object.freeze({
  initialDelayMs: 50,
  maxDelayMs: 1000,
  factor: 2,
  jitter: 0.5,
});

export interface ClientOptions<V = unknown> {
  /** Nodes to connect to first: `host:port`, `ws://host:port/shoal` or `wss://host:port/shoal`. Required. */
  seeds: string | readonly string[];
  /** Prepended to every key (string keys as UTF-8). Default none. */
  keyPrefix?: string | Uint8Array;
  /** Turns values into bytes and back. Default `msgpackCodec` (any msgpack value). */
  codec?: ValueCodec<V>;
  /** Default consistency of every call: 'one', 'quorum' or 'all'. Default: the cluster's configured R and W. */
  consistency?: Consistency;
  /** Default DEFAULT_COMMAND_TIMEOUT_MS; 0 disables the timeout. */
  commandTimeoutMs?: number;
  /** Default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Default DEFAULT_DIAL_TIMEOUT_MS; must be positive (0 would cut every attempt at once). */
  dialTimeoutMs?: number;
  /** Capped exponential backoff with jitter; `false` never reconnects. Default DEFAULT_RECONNECT. */
  reconnect?: ReconnectOptions | false;
  /** Default DEFAULT_KEEPALIVE_INTERVAL_MS; 0 disables keepalive pings. */
  keepaliveIntervalMs?: number;
  /** Default DEFAULT_KEEPALIVE_TIMEOUT_MS; must be positive while keepalive is on. */
  keepaliveTimeoutMs?: number;
  /** Hold calls while no connection is ready (true) or fail them at once (false). Default true. */
  offlineQueue?: boolean;
  /** Default DEFAULT_MAX_OFFLINE_QUEUE. */
  maxOfflineQueue?: number;
  /** Default DEFAULT_MAX_RETRIES. */
  maxRetries?: number;
  /**
   * Send each key's request to a replica of the key (true), learned from the ring, or to any
   * connected node, which then coordinates it (false). Default true.
   */
  routing?: boolean;
  /**
   * Credentials sent in hello: `{ username, password }` of a user of the cluster (its ACL decides
   * what this client may do; docs/SECURITY.md), or `{ token }`, a bearer token of a user
   * (`shoal acl token add USER`). `username`, `password` and `token` below are shorthands.
   * Default none: the `default` user, as long as it needs no password.
   */
  credentials?: Credentials;
  /** A bearer token (`shoal_...`, from `shoal acl token add USER`); it names its user. Sent in hello only. */
  token?: string;
  /** The ACL user to authenticate as (with `password`); default `default`. */
  username?: string;
  /** The user's password; sent in hello only. */
  password?: string;
  /** Default DEFAULT_CLIENT_NAME. */
  clientName?: string;
  /** Random source in [0, 1) for reconnect jitter; tests may fix it. Default Math.random. */
  random?: () => number;
  /**
   * The timers behind every timeout, backoff and keepalive (src/client/timers.ts). Default the
   * platform's setTimeout; the simulator passes virtual-time timers.
   */
  timers?: ClientTimers;
  /**
   * The WebSocket class to dial with (WHATWG API). Default: `ws` in Node.js, the platform's
   * `globalThis.WebSocket` in browsers, Deno and Bun.
   */
  webSocket?: WebSocketConstructor;
  /**
   * TLS, in the style of ioredis / node-redis: `{ ca, cert, key, servername, rejectUnauthorized }`
   * (PEM text or bytes; `cert` and `key` for a node that requires client certificates), or `true`
   * for the platform's CAs. With it (or with a `wss://` seed) every node is dialed over wss.
   * In browsers the platform's trust store decides and these fields are ignored. Default none.
   */
  tls?: ClientTlsOptions | boolean;
  /**
   * Keep values read in this process and let the nodes' invalidation streams drop them when any
   * client writes (docs/CLIENT.md, "Near cache"): `{ maxEntries, maxBytes?, ttlMs?, prefixes? }`.
   * Default none: every get reads the cluster.
   */
  nearCache?: NearCacheOptions;
}

/** The TLS settings the SDK passes to its WebSocket (`ws` hands them to Node's `tls.connect`). */
export interface ClientTlsOptions {
  ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  servername?: string;
  /** Default true: a node whose certificate does not chain to `ca` is refused. */
  rejectUnauthorized?: boolean;
}

export interface ResolvedOptions<V> {
  seeds: readonly string[];
  keyPrefix: Uint8Array;
  codec: ValueCodec<V>;
  consistency: Consistency | null;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  dialTimeoutMs: number;
  reconnect: Required<ReconnectOptions> | false;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  offlineQueue: boolean;
  maxOfflineQueue: number;
  maxRetries: number;
  routing: boolean;
  credentials: Credentials | null;
  tls: ClientTlsOptions | null;
  clientName: string;
  random: () => number;
  timers: ClientTimers;
  /** null: the entry's default, looked up when the client is created (websocket.ts). */
  webSocket: WebSocketConstructor | null;
  nearCache: NearCacheOptions | null;
}

/** Every option name, so a misspelt one (`keepAliveIntervalMs`) is an error rather than silently ignored. */
const OPTION_NAMES: readonly string[] = Object.keys({
  seeds: true,
  keyPrefix: true,
  codec: true,
  consistency: true,
  commandTimeoutMs: true,
  connectTimeoutMs: true,
  dialTimeoutMs: true,
  reconnect: true,
  keepaliveIntervalMs: true,
  keepaliveTimeoutMs: true,
  offlineQueue: true,
  maxOfflineQueue: true,
  maxRetries: true,
  routing: true,
  credentials: true,
  username: true,
  password: true,
  token: true,
  clientName: true,
  random: true,
  timers: true,
  webSocket: true,
  tls: true,
  nearCache: true,
} satisfies Record<keyof ClientOptions, true>);

/**
 * Checks every option and sub-option and fills in the defaults. Anything wrong is a TypeError that
 * names the option's path and what it takes, thrown here, so that nothing fails later inside a
 * socket handler or as a node closing the hello. An option given as undefined or null is absent.
 */
export function resolveOptions<V>(options: ClientOptions<V>): ResolvedOptions<V> {
  const o = optionsObject(null, options, OPTION_NAMES, 'an object { seeds, ... }') as Partial<ClientOptions<V>>;
  const given: unknown = o.seeds;
  if (!(typeof given === 'string' || (Array.isArray(given) && given.every((s) => typeof s === 'string')))) {
    throw new TypeError(`connect(): \`seeds\` must be a string or an array of strings (host:port or ws:// URLs), got ${shown(given)}`);
  }
  const seeds: string[] = typeof given === 'string' ? [given] : [...(given as string[])];
  if (seeds.length === 0) throw new TypeError('connect(): `seeds` must name at least one node (host:port)');
  for (const seed of seeds) parseSeed(seed, '/');
  const prefix: unknown = o.keyPrefix ?? new Uint8Array(0);
  if (!(typeof prefix === 'string' || prefix instanceof Uint8Array)) throw new TypeError(`connect(): \`keyPrefix\` must be a string or a Uint8Array, got ${shown(prefix)}`);
  if (typeof prefix === 'string') wellFormed(prefix, 'connect(): `keyPrefix`', ' (give a binary prefix as a Uint8Array)');
  const codec: unknown = o.codec ?? msgpackCodec;
  if (!(typeof codec === 'object' && codec !== null && typeof (codec as ValueCodec<V>).encode === 'function' && typeof (codec as ValueCodec<V>).decode === 'function')) {
    throw new TypeError(`connect(): \`codec\` must be an object with encode(value) and decode(bytes) functions (msgpackCodec, bytesCodec, stringCodec or your own), got ${shown(codec)}`);
  }
  const keepaliveIntervalMs = delayMs('keepaliveIntervalMs', o.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS);
  const keepaliveTimeoutMs = delayMs('keepaliveTimeoutMs', o.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS);
  if (keepaliveIntervalMs > 0 && keepaliveTimeoutMs === 0) {
    // A zero timeout would cut every connection at its first ping.
    throw new TypeError('connect(): `keepaliveTimeoutMs` must be positive (or set `keepaliveIntervalMs: 0` to turn keepalive off)');
  }
  const routing = flag('routing', o.routing ?? true);
  const nearCache = o.nearCache === undefined ? null : validateNearCacheOptions(o.nearCache);
  if (nearCache !== null && !routing) {
    // Its values are installed only while two owners of the key's partition stream invalidations:
    // that takes the ring and a connection to every node, which is what routing: false goes without.
    throw new TypeError(
      'connect(): `nearCache` needs `routing: true`: the near cache learns the partitions from the ring and installs a value only while two of its owners stream invalidations to this client, and with `routing: false` the client reads no ring and dials only its seeds, so nothing would ever be cached',
    );
  }
  return {
    seeds,
    keyPrefix: typeof prefix === 'string' ? new TextEncoder().encode(prefix) : prefix.slice(),
    codec: codec as ValueCodec<V>,
    consistency: consistencyLevel('consistency', o.consistency, 'connect()') ?? null,
    commandTimeoutMs: delayMs('commandTimeoutMs', o.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS),
    connectTimeoutMs: delayMs('connectTimeoutMs', o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    dialTimeoutMs: positiveDelayMs('dialTimeoutMs', o.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS),
    reconnect: o.reconnect === false ? false : resolveReconnect(o.reconnect),
    keepaliveIntervalMs,
    keepaliveTimeoutMs,
    offlineQueue: flag('offlineQueue', o.offlineQueue ?? true),
    maxOfflineQueue: count('maxOfflineQueue', o.maxOfflineQueue ?? DEFAULT_MAX_OFFLINE_QUEUE),
    maxRetries: count('maxRetries', o.maxRetries ?? DEFAULT_MAX_RETRIES),
    routing,
    credentials: resolveCredentials(o),
    clientName: o.clientName === undefined ? DEFAULT_CLIENT_NAME : stringOption('clientName', o.clientName),
    random: o.random === undefined ? Math.random : functionOption('random', o.random, 'a function returning a number in [0, 1)'),
    timers: o.timers === undefined ? new PlatformTimers() : resolveTimers(o.timers),
    webSocket: o.webSocket === undefined ? null : functionOption('webSocket', o.webSocket, 'a WebSocket class (a constructor)'),
    tls: resolveTls(o.tls, seeds),
    nearCache,
  };
}

function functionOption<F>(name: string, value: F, expected: string): F {
  if (typeof value !== 'function') throw new TypeError(`connect(): \`${name}\` must be ${expected}, got ${shown(value)}`);
  return value;
}

function resolveTimers(timers: unknown): ClientTimers {
  const t = timers as Partial<ClientTimers> | null;
  if (typeof t !== 'object' || t === null || typeof t.setTimer !== 'function' || typeof t.cancelTimer !== 'function') {
    throw new TypeError(`connect(): \`timers\` must be an object with setTimer(delayMs, fn) and cancelTimer(id) functions (and optionally unref(id) and wallMs()), got ${shown(timers)}`);
  }
  if (t.unref !== undefined) functionOption('timers.unref', t.unref, 'a function (or absent)');
  if (t.wallMs !== undefined) functionOption('timers.wallMs', t.wallMs, 'a function returning epoch milliseconds (or absent)');
  return t as ClientTimers;
}

const CREDENTIAL_NAMES = ['username', 'password', 'token'];

/**
 * `credentials`, with the `username`, `password` and `token` shorthands laid over it. Each is a
 * string (the node closes a hello with anything else as malformed); a misspelt field is refused
 * rather than dropped (which would log in as `default`); a token names its user, so a password
 * beside it would be ignored and is refused too.
 */
function resolveCredentials(o: Partial<ClientOptions>): Credentials | null {
  const shorthand = o.username !== undefined || o.password !== undefined || o.token !== undefined;
  if (o.credentials === undefined && !shorthand) return null;
  const credentials: Record<string, string> = {};
  if (o.credentials !== undefined) {
    const given = optionsObject('credentials', o.credentials, CREDENTIAL_NAMES, 'an object { username?, password?, token? }');
    for (const [name, value] of Object.entries(given)) credentials[name] = stringOption(`credentials.${name}`, value);
  }
  for (const name of CREDENTIAL_NAMES) {
    const value = o[name as 'username' | 'password' | 'token'];
    if (value !== undefined) credentials[name] = stringOption(name, value);
  }
  if (credentials.token !== undefined && credentials.password !== undefined) {
    throw new TypeError('connect(): `credentials.password` and `credentials.token` do not go together: a token names its user and replaces the password');
  }
  return credentials;
}

const TLS_OPTION_NAMES = ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'];

function resolveTls(tls: unknown, seeds: readonly string[]): ClientTlsOptions | null {
  if (tls === undefined || tls === false) return seeds.some((s) => s.startsWith('wss://')) ? {} : null;
  if (tls === true) return {};
  const t = optionsObject('tls', tls, TLS_OPTION_NAMES, 'true, false or an object { ca?, cert?, key?, servername?, rejectUnauthorized? }');
  const pem = (name: string, value: unknown): void => {
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError(`connect(): \`${name}\` must be PEM text or bytes, got ${shown(value)}`);
  };
  if (t.ca !== undefined) {
    if (Array.isArray(t.ca)) t.ca.forEach((ca, i) => pem(`tls.ca[${i}]`, ca));
    else if (typeof t.ca !== 'string' && !(t.ca instanceof Uint8Array)) throw new TypeError(`connect(): \`tls.ca\` must be PEM text, bytes or an array of them, got ${shown(t.ca)}`);
  }
  if (t.cert !== undefined) pem('tls.cert', t.cert);
  if (t.key !== undefined) pem('tls.key', t.key);
  if (t.servername !== undefined) stringOption('tls.servername', t.servername);
  if (t.rejectUnauthorized !== undefined) flag('tls.rejectUnauthorized', t.rejectUnauthorized);
  if ((t.cert === undefined) !== (t.key === undefined)) throw new TypeError('connect(): `tls.cert` and `tls.key` go together (a client certificate and its key)');
  return t as ClientTlsOptions;
}

/** A dial timeout of 0 would cut every connection attempt at once: it must be positive. */
function positiveDelayMs(name: string, value: unknown): number {
  if (delayMs(name, value) === 0) throw new TypeError(`connect(): \`${name}\` must be a positive number of milliseconds (up to ${MAX_TIMER_DELAY_MS}), got 0`);
  return value as number;
}

function resolveReconnect(reconnect: unknown): Required<ReconnectOptions> {
  const given = reconnect === undefined ? {} : optionsObject('reconnect', reconnect, Object.keys(DEFAULT_RECONNECT), 'false or an object { initialDelayMs?, maxDelayMs?, factor?, jitter? }');
  const r = { ...DEFAULT_RECONNECT, ...given } as Required<ReconnectOptions>;
  delayMs('reconnect.initialDelayMs', r.initialDelayMs);
  delayMs('reconnect.maxDelayMs', r.maxDelayMs);
  if (!(typeof r.factor === 'number' && r.factor >= 1 && Number.isFinite(r.factor))) throw new TypeError(`connect(): \`reconnect.factor\` must be a finite number >= 1, got ${shown(r.factor)}`);
  if (!(typeof r.jitter === 'number' && r.jitter >= 0 && r.jitter <= 1)) throw new TypeError(`connect(): \`reconnect.jitter\` must be between 0 and 1, got ${shown(r.jitter)}`);
  return r;
}

/** A number of things (calls, retries): a whole number from 0, Infinity excluded. */
function count(name: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) throw new TypeError(`connect(): \`${name}\` must be a whole number from 0, got ${shown(value)}`);
  return value;
}

function flag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`connect(): \`${name}\` must be true or false, got ${shown(value)}`);
  return value;
}

/**
 * `host:port` or a ws:// / wss:// URL -> the endpoint URL and the `host:port` that identifies the
 * node. A seed that is neither, or whose port is not 1 to 65535, is a TypeError naming it.
 */
export function parseSeed(seed: string, defaultPath: string, scheme: 'ws' | 'wss' = 'ws'): { url: string; address: string } {
  const bad = (why: string) => new TypeError(`connect(): seed ${JSON.stringify(seed)} ${why}`);
  if (/^wss?:\/\//.test(seed)) {
    let url: URL;
    try {
      url = new URL(seed);
    } catch {
      throw bad('is not a valid ws:// or wss:// URL (is its port 1 to 65535?)');
    }
    if (url.port === '0') throw bad('has port 0: give the port the node listens on (1 to 65535)');
    return { url: url.pathname === '/' ? `${url.origin}${defaultPath}` : url.href, address: url.host };
  }
  const port = /^[^\s/]+:(\d+)$/.exec(seed)?.[1];
  if (port === undefined) throw bad('is not host:port or a ws:// URL');
  if (!(Number(port) >= 1 && Number(port) <= 65535)) throw bad(`has port ${port}: a port is 1 to 65535`);
  const url = `${scheme}://${seed}${defaultPath}`;
  try {
    new URL(url);
  } catch {
    throw bad('is not host:port or a ws:// URL (the host is not a valid name or address)');
  }
  return { url, address: seed };
}
