/**
 * The SDK's near cache (docs/CLIENT.md, "Near cache"): `connect({ nearCache: {...} })`. The logic
 * is src/store/near-cache.ts, the same code the simulator proves the staleness bound of; this file
 * binds it to the client's node connections: every ready connection subscribes to all partitions
 * (restricted to `prefixes` if given) and is one stream source; a connection that drops is a lost
 * source, so its partitions' entries are flushed (see "flush, not resync" below).
 *
 * Flush, not resync, on disconnect: a node's seqs say how many changes it applied, not which keys;
 * after a disconnect the client cannot tell which of its entries those changes touched without
 * asking for every key again. Flushing the partitions that connection streamed costs one miss per
 * entry and is always right. What the flush dropped that was read most (the cache's hot-key
 * tracker, up to NEAR_HOT_CAPACITY keys) is read again once the connection is back (takeRefetch),
 * so the hottest entries are near again first; the rest refill from reads.
 */
import type { InvalidationBatch, InvalidationsRequest, WireTopology } from '../protocol/index.ts';
import { MAX_SUBSCRIPTION_PREFIXES } from '../protocol/codec.ts';
import { partitionOf } from '../ring/partition.ts';
import { NEAR_HOT_CAPACITY, NearCache, type NearCacheEvent, type NearCacheStats, type NearHit, type FillToken } from '../store/near-cache.ts';
import { HOT_NEAR_TTL_MS, type HotNearKeys } from '../store/near-hot-keys.ts';
import { optionsObject, shown, stringOption } from './checks.ts';

export interface NearCacheOptions {
  /** Entries held at most (required). */
  maxEntries: number;
  /** Bytes held at most (values plus per-entry overhead); default: no byte bound. */
  maxBytes?: number;
  /** An entry lives at most this long (ms) even when nothing invalidates it. Default DEFAULT_NEAR_TTL_MS. */
  ttlMs?: number;
  /** Cache only keys starting with one of these (after keyPrefix); default every key. */
  prefixes?: readonly string[];
}

/** A near-cache entry lives at most a minute by default: a backstop, not the freshness mechanism. */
export const DEFAULT_NEAR_TTL_MS = 60_000;

export type { NearCacheStats, NearCacheEvent };

const utf8 = new TextEncoder();

/** Keys as nodes hold them: one char per byte. */
export function storeKey(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

/**
 * connect()'s `nearCache`, checked as every option is (options.ts): a TypeError naming the field.
 * `prefixes` must be an array: a string would be spread into one-character prefixes.
 */
export function validateNearCacheOptions(options: unknown): NearCacheOptions {
  const o = optionsObject('nearCache', options, ['maxEntries', 'maxBytes', 'ttlMs', 'prefixes'], 'an object { maxEntries, maxBytes?, ttlMs?, prefixes? }');
  const positive = (value: unknown): boolean => typeof value === 'number' && value > 0;
  if (!(Number.isSafeInteger(o.maxEntries) && positive(o.maxEntries))) throw new TypeError(`connect(): \`nearCache.maxEntries\` must be a positive whole number, got ${shown(o.maxEntries)}`);
  if (o.maxBytes !== undefined && !positive(o.maxBytes)) throw new TypeError(`connect(): \`nearCache.maxBytes\` must be a positive number of bytes, got ${shown(o.maxBytes)}`);
  if (o.ttlMs !== undefined && !positive(o.ttlMs)) throw new TypeError(`connect(): \`nearCache.ttlMs\` must be a positive number of ms, got ${shown(o.ttlMs)}`);
  if (o.prefixes !== undefined) {
    if (!Array.isArray(o.prefixes)) throw new TypeError(`connect(): \`nearCache.prefixes\` must be an array of strings, got ${shown(o.prefixes)}`);
    // Each is one prefix of the subscription, which the nodes take at most MAX_SUBSCRIPTION_PREFIXES of.
    if (o.prefixes.length > MAX_SUBSCRIPTION_PREFIXES) throw new TypeError(`connect(): \`nearCache.prefixes\` holds ${o.prefixes.length} prefixes: at most ${MAX_SUBSCRIPTION_PREFIXES}`);
    o.prefixes = o.prefixes.map((prefix: unknown, i) => stringOption(`nearCache.prefixes[${i}]`, prefix));
  }
  return o as unknown as NearCacheOptions;
}

export class ClientNearCache {
  private cache: NearCache | null = null;
  private partitions = 0;
  /** The stream source name of each ready connection (address#n: a reconnect is a new source). */
  private readonly sources = new Map<string, string>();
  private incarnation = 0;
  /** Keys a lost connection's flush dropped, most read first, to read again once reconnected. */
  private refetch: string[] = [];
  private readonly prefixes: string[];

  constructor(
    private readonly options: NearCacheOptions,
    keyPrefix: Uint8Array,
    private readonly onEvent: (event: NearCacheEvent) => void,
    /** Keys the nodes' hot-key alerts named (the client's): kept near even outside `prefixes`, for HOT_NEAR_TTL_MS per fill. */
    private readonly hot: HotNearKeys,
  ) {
    this.prefixes = (options.prefixes ?? []).map((p) => storeKey(concat(keyPrefix, utf8.encode(p))));
  }

  /** Counters; null until the client has learnt the ring (the cache starts then). */
  get stats(): NearCacheStats | null {
    return this.cache?.stats ?? null;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  /** The ring is known: the cache starts (a ring with another partition count starts it over). */
  onTopology(topology: WireTopology): void {
    if (this.cache !== null && this.partitions === topology.partitions) return;
    this.partitions = topology.partitions;
    this.cache = new NearCache({
      clock: { wallMs: () => Date.now(), monoMs: () => performance.now() },
      partitions: topology.partitions,
      maxEntries: this.options.maxEntries,
      ...(this.options.maxBytes === undefined ? {} : { maxBytes: this.options.maxBytes }),
      ttlMs: this.options.ttlMs ?? DEFAULT_NEAR_TTL_MS,
      // A write is applied on W of N owners: two streams of a partition share one with any quorum of 2 of 3.
      minStreams: Math.min(2, topology.replicas),
    });
    this.cache.onEvent = this.onEvent;
  }

  /** The subscription a ready connection sends: every partition, the prefixes and the hot keys outside them (a key is its own prefix). */
  subscription(): InvalidationsRequest {
    // Before the ring is known, every partition there could be (the node keeps the bits it has).
    const bytes = this.partitions === 0 ? 8192 : Math.ceil(this.partitions / 8);
    const hot = this.prefixes.length === 0 ? [] : this.hot.keys(performance.now()).filter((k) => !this.inPrefixes(k));
    // Past the protocol's prefix limit the oldest hot keys go without invalidations: their short TTL still bounds them.
    const room = Math.max(0, MAX_SUBSCRIPTION_PREFIXES - this.prefixes.length);
    return { op: 'invalidations', id: 0, partitions: new Uint8Array(bytes).fill(0xff), prefixes: [...this.prefixes, ...hot.slice(Math.max(0, hot.length - room))] };
  }

  /** Whether the subscription must be sent again for a key that just became hot: it is outside the prefixes. */
  widensSubscription(key: string): boolean {
    return this.prefixes.length > 0 && !this.inPrefixes(key);
  }

  connectionReady(address: string): void {
    this.connectionLost(address);
    this.sources.set(address, `${address}#${++this.incarnation}`);
  }

  connectionLost(address: string): void {
    const source = this.sources.get(address);
    if (source === undefined || this.cache === null) return;
    this.sources.delete(address);
    const hottest = this.cache.hottestHeld(NEAR_HOT_CAPACITY);
    this.cache.sourceLost(source);
    // What the flush dropped, most read first, is read again after the next reconnect (takeRefetch).
    const dropped = hottest.filter((k) => !this.cache!.holds(k) && !this.refetch.includes(k));
    this.refetch = [...dropped, ...this.refetch].slice(0, NEAR_HOT_CAPACITY);
  }

  /** Whether a lost connection's flush left keys to read again. */
  get refetchPending(): boolean {
    return this.refetch.length > 0;
  }

  /** The keys (full key bytes) to read again now, most read first; each is handed out once. */
  takeRefetch(): Uint8Array[] {
    const keys = this.refetch;
    this.refetch = [];
    return keys.map((k) => Uint8Array.from(k, (c) => c.charCodeAt(0)));
  }

  receive(address: string, batch: InvalidationBatch): void {
    const source = this.sources.get(address);
    if (source !== undefined) this.cache?.receive(source, batch);
  }

  /** Whether `key` (full key bytes) is one the near cache keeps: in the prefixes, or hot. */
  covers(key: Uint8Array): boolean {
    if (this.cache === null) return false;
    if (this.prefixes.length === 0) return true;
    const k = storeKey(key);
    return this.inPrefixes(k) || this.hot.has(k, performance.now());
  }

  private inPrefixes(key: string): boolean {
    return this.prefixes.length === 0 || this.prefixes.some((p) => key.startsWith(p));
  }

  lookup(key: Uint8Array): NearHit | undefined {
    return this.cache?.get(storeKey(key), partitionOf(key, this.partitions));
  }

  beginFill(key: Uint8Array): FillToken | null {
    return this.cache?.beginFill(storeKey(key), partitionOf(key, this.partitions)) ?? null;
  }

  completeFill(token: FillToken, value: Uint8Array | null, expiresAtMs: number | null): void {
    // The wire's get reply carries no version: the guard then refuses a fill raced by any invalidation.
    // A hot key outside the prefixes lives HOT_NEAR_TTL_MS: it may have been read before its subscription reached every owner.
    this.cache?.completeFill(token, value, null, expiresAtMs, this.inPrefixes(token.key) ? undefined : HOT_NEAR_TTL_MS);
  }

  abandonFill(token: FillToken): void {
    this.cache?.abandonFill(token);
  }

  /** Whether the read of `token` may answer a later get of its key too (NearCache.clean). */
  clean(token: FillToken): boolean {
    return this.cache?.clean(token) === true;
  }

  /** This client writes `key`: what it holds is dropped now, not when the invalidation arrives. */
  forget(key: Uint8Array): void {
    this.cache?.forget(storeKey(key));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
