/**
 * A near cache: values a client read, kept in the client's own process and dropped by the nodes'
 * invalidation streams (src/replication/invalidation.ts; docs/CLIENT.md, "Near cache"). Pure: the
 * SDK (src/client) and the simulator's near-cache clients (src/sim/scenarios/near-cache.ts) run
 * this same code, so the simulator's proof of the staleness bound is a proof about the SDK's logic.
 *
 * Storage is a `Store` (store.ts), bounded by maxEntries / maxBytes with the store's W-TinyLFU
 * policy and its TTL wheel; each entry's deadline is the earlier of its own expiry and `ttlMs`.
 *
 * Streams: every source (one node's stream on one connection) reports, per partition it holds,
 * an epoch and a seq. An entry of partition p is dropped
 * - when an invalidation of its key with a newer version arrives;
 * - with every entry of p, when a source's seq for p jumps (a message was lost), its epoch for p
 *   changes (the owner set changed), its heartbeat stops naming p (it no longer holds p), or the
 *   source goes silent for `silentAfterMs` or disconnects (`sourceLost`).
 * A value is installed only while at least `minStreams` sources stream its partition (a write
 * applied on W of N owners reaches a stream when minStreams > N - W), and never if its read
 * started before an invalidation of a newer version of its key, or a drop of its partition, arrived
 * (the fill race: `beginFill` ... `completeFill`).
 */
import type { InvalidationBatch, InvalidationVersion, PartitionInvalidations } from '../protocol/frames.ts';
import type { Clock } from '../runtime/env.ts';
import { Store } from './store.ts';

export interface NearCacheOptions {
  clock: Clock;
  /** The cluster's partition count. */
  partitions: number;
  /** Entries held at most. */
  maxEntries: number;
  /** Bytes held at most (values and per-entry overhead, as the store counts them); default: no byte bound. */
  maxBytes?: number;
  /** An entry lives at most this long (ms) even if nothing invalidates it. */
  ttlMs: number;
  /** Sources that must stream a partition before its values are installed (default 1). */
  minStreams?: number;
  /** A source that sent no heartbeat for this long (ms) is taken as lost (default 1500: heartbeats come every second). */
  silentAfterMs?: number;
  /** Test-only: re-injects the bugs the simulator's checker must catch. Never set it in production. */
  bugs?: NearCacheBugs;
}

export interface NearCacheBugs {
  /** Installs a fill even if an invalidation or a partition drop arrived while it was in flight. */
  noFillGuard?: boolean;
  /** Takes every seq as the next one: a lost invalidation goes unnoticed. */
  noGapDetection?: boolean;
}

export const DEFAULT_SILENT_AFTER_MS = 1500;
/** Entries the near cache ranks by reads (its store's hot-key tracker): what a reconnect reads again first. */
export const NEAR_HOT_CAPACITY = 32;

/** Why a partition's entries were dropped (the `stale-dropped` event). */
export type DropReason = 'gap' | 'epoch' | 'not-held' | 'source-lost';

export type NearCacheEvent =
  | { kind: 'invalidate'; key: string; version: InvalidationVersion }
  | { kind: 'stale-dropped'; partition: number; reason: DropReason; entries: number };

export interface NearCacheStats {
  hits: number;
  misses: number;
  /** Invalidations received (whether or not the key was held). */
  invalidations: number;
  /** Entries dropped by an invalidation. */
  invalidated: number;
  gaps: number;
  epochChanges: number;
  /** Partition drops of every reason, and the entries they dropped. */
  flushes: number;
  flushedEntries: number;
  fills: number;
  /** Fills not installed: raced by an invalidation or drop, or too few streams. */
  fillsRefused: number;
}

/** A read in flight whose result may be installed. */
export interface FillToken {
  readonly key: string;
  readonly partition: number;
  readonly dropGeneration: number;
  /** The newest version an invalidation named for the key while the read was in flight. */
  invalidated: InvalidationVersion | null;
  /** The key was written through this client while the read was in flight (`forget`). */
  superseded: boolean;
}

interface StreamState {
  epoch: number;
  seq: number;
}

interface Source {
  lastHeartbeatMs: number;
  streams: Map<number, StreamState>;
}

export interface NearHit {
  value: Uint8Array;
  version: InvalidationVersion;
  /** Absolute expiry of the value in the cluster (ms since the epoch), or null. */
  expiresAtMs: number | null;
}

/** Header before the value in the stored bytes: version (f64 wall, u32 logical, u32 node), expiry (f64, 0 = none). */
const HEADER_BYTES = 24;

export class NearCache {
  readonly stats: NearCacheStats = { hits: 0, misses: 0, invalidations: 0, invalidated: 0, gaps: 0, epochChanges: 0, flushes: 0, flushedEntries: 0, fills: 0, fillsRefused: 0 };
  /** Told of invalidations and partition drops. */
  onEvent: ((event: NearCacheEvent) => void) | null = null;
  private readonly store: Store;
  private readonly sources = new Map<string, Source>();
  /** Sources streaming each partition. */
  private readonly streams: Uint16Array;
  /** Bumped whenever a partition's entries are dropped, so fills in flight then are refused. */
  private readonly dropGenerations: Uint32Array;
  private readonly inFlight = new Map<string, Set<FillToken>>();
  private readonly minStreams: number;
  private readonly silentAfterMs: number;
  private readonly bugs: NearCacheBugs;

  constructor(private readonly options: NearCacheOptions) {
    if (!(Number.isInteger(options.maxEntries) && options.maxEntries > 0)) throw new RangeError(`nearCache.maxEntries must be a positive integer, got ${options.maxEntries}`);
    if (!(options.ttlMs > 0)) throw new RangeError(`nearCache.ttlMs must be a positive number of ms, got ${options.ttlMs}`);
    if (options.maxBytes !== undefined && !(options.maxBytes > 0)) throw new RangeError(`nearCache.maxBytes must be a positive number of bytes, got ${options.maxBytes}`);
    this.store = new Store({
      clock: options.clock,
      maxEntries: options.maxEntries,
      ...(options.maxBytes === undefined ? {} : { maxMemory: options.maxBytes }),
      // Ranks the entries a lost source's flush dropped, so the hottest are read again first (hottestHeld).
      hotKeys: { capacity: NEAR_HOT_CAPACITY, sampleInterval: 1 },
      analytics: false,
    });
    this.streams = new Uint16Array(options.partitions);
    this.dropGenerations = new Uint32Array(options.partitions);
    this.minStreams = options.minStreams ?? 1;
    this.silentAfterMs = options.silentAfterMs ?? DEFAULT_SILENT_AFTER_MS;
    this.bugs = options.bugs ?? {};
  }

  /** Entries held now. */
  get size(): number {
    return this.store.size;
  }

  /** The value held for `key` (of `partition`), or undefined (a miss: read the cluster, with beginFill). */
  get(key: string, partition: number): NearHit | undefined {
    this.dropSilentSources();
    const bytes = this.store.get(key, partition);
    if (bytes === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const expiresAtMs = view.getFloat64(16);
    return {
      version: { wallMs: view.getFloat64(0), logical: view.getUint32(8), node: view.getUint32(12) },
      expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs,
      value: bytes.subarray(HEADER_BYTES),
    };
  }

  /** A read of `key` goes to the cluster: its answer may be installed with `completeFill`. */
  beginFill(key: string, partition: number): FillToken {
    const token: FillToken = { key, partition, dropGeneration: this.dropGenerations[partition]!, invalidated: null, superseded: false };
    let set = this.inFlight.get(key);
    if (set === undefined) this.inFlight.set(key, (set = new Set()));
    set.add(token);
    return token;
  }

  /**
   * The read answered `value` (null: no value, nothing is installed) at `version`, expiring at
   * `expiresAtMs` (null: never). Returns whether it was installed. Without a version (the SDK's
   * get reply carries none), any invalidation of the key during the read refuses the fill, and the
   * entry is dropped by any invalidation of its key. `ttlMs` shortens the entry's life below the
   * cache's (a hot key cached outside the prefixes: near-hot-keys.ts).
   */
  completeFill(token: FillToken, value: Uint8Array | null, version: InvalidationVersion | null, expiresAtMs: number | null, ttlMs = this.options.ttlMs): boolean {
    this.endFill(token);
    if (value === null) return false;
    this.dropSilentSources();
    const raced = token.superseded || token.dropGeneration !== this.dropGenerations[token.partition] || (token.invalidated !== null && (version === null || compareVersions(version, token.invalidated) < 0));
    if ((raced && !this.bugs.noFillGuard) || this.streams[token.partition]! < this.minStreams) {
      this.stats.fillsRefused++;
      return false;
    }
    const now = this.options.clock.wallMs();
    const deadline = Math.min(now + Math.min(ttlMs, this.options.ttlMs), expiresAtMs ?? Number.POSITIVE_INFINITY);
    if (deadline <= now) return false;
    const bytes = new Uint8Array(HEADER_BYTES + value.byteLength);
    const view = new DataView(bytes.buffer);
    // No version: stored as the oldest one, so any invalidation of the key drops it.
    view.setFloat64(0, version?.wallMs ?? 0);
    view.setUint32(8, version?.logical ?? 0);
    view.setUint32(12, version?.node ?? 0);
    view.setFloat64(16, expiresAtMs ?? 0);
    bytes.set(value, HEADER_BYTES);
    this.stats.fills++;
    // Expired entries are never served; the tick gives their room back, a bounded amount at a time.
    this.store.tick();
    return this.store.set(token.key, bytes, { partition: token.partition, expiresAtMs: deadline });
  }

  /** The read failed: forget the token. */
  abandonFill(token: FillToken): void {
    this.endFill(token);
  }

  /**
   * `key` was written through this client: drop what is held (the write's own invalidation
   * follows), and refuse the fills of reads begun before it, which may not see the write.
   */
  forget(key: string): void {
    this.store.delete(key);
    for (const token of this.inFlight.get(key) ?? []) token.superseded = true;
  }

  /**
   * Whether a read still in flight is one whose answer this cache would install now: nothing raced
   * it (no invalidation of its key, no drop of its partition, no write through this client) and
   * its partition is streamed. A later read of the key may wait for its answer instead of sending
   * its own (the SDK's shared near-cache misses).
   */
  clean(token: FillToken): boolean {
    return (
      this.inFlight.get(token.key)?.has(token) === true &&
      !token.superseded &&
      token.invalidated === null &&
      token.dropGeneration === this.dropGenerations[token.partition] &&
      this.streams[token.partition]! >= this.minStreams
    );
  }

  /** A batch or heartbeat from `source` (a node's stream on one connection). */
  receive(source: string, batch: InvalidationBatch): void {
    let state = this.sources.get(source);
    if (batch.heartbeat) {
      if (state === undefined) this.sources.set(source, (state = { lastHeartbeatMs: 0, streams: new Map() }));
      state.lastHeartbeatMs = this.options.clock.monoMs();
      const named = new Set<number>();
      for (const entry of batch.partitions) {
        named.add(entry.partition);
        this.advance(state, entry, true);
      }
      for (const p of [...state.streams.keys()]) if (!named.has(p)) this.dropStream(state, p, 'not-held');
      return;
    }
    for (const entry of batch.partitions) {
      for (const { key, version } of entry.keys) this.invalidate(key, version);
      // Only heartbeats start a stream (they name every partition the source holds).
      if (state?.streams.has(entry.partition)) this.advance(state, entry, false);
    }
  }

  /** Up to `n` entries held now, most read first (the store's hot-key tracker, by guaranteed count). */
  hottestHeld(n: number): string[] {
    return this.store
      .hotKeys()
      .filter((h) => this.store.has(h.key))
      .sort((a, b) => b.count - b.error - (a.count - a.error))
      .slice(0, n)
      .map((h) => h.key);
  }

  /** Whether an entry for `key` is held (no read is counted). */
  holds(key: string): boolean {
    return this.store.has(key);
  }

  /** `source` disconnected (or its stream was closed): everything it streamed is in doubt. */
  sourceLost(source: string): void {
    const state = this.sources.get(source);
    if (state === undefined) return;
    this.sources.delete(source);
    for (const p of [...state.streams.keys()]) this.dropStream(state, p, 'source-lost');
  }

  /** Drops everything (the client closed or chose to start over). */
  clear(): void {
    for (const source of [...this.sources.keys()]) this.sourceLost(source);
    for (let p = 0; p < this.dropGenerations.length; p++) {
      this.dropGenerations[p]!++;
      this.store.dropPartition(p);
    }
  }

  private invalidate(key: string, version: InvalidationVersion): void {
    this.stats.invalidations++;
    const tokens = this.inFlight.get(key);
    if (tokens !== undefined) for (const t of tokens) if (t.invalidated === null || compareVersions(version, t.invalidated) > 0) t.invalidated = version;
    const held = this.store.peekView(key);
    if (held === undefined) return;
    const view = new DataView(held.buffer, held.byteOffset, held.byteLength);
    // A late invalidation of an older version leaves a newer value alone.
    if (compareVersions({ wallMs: view.getFloat64(0), logical: view.getUint32(8), node: view.getUint32(12) }, version) >= 0) return;
    this.store.delete(key);
    this.stats.invalidated++;
    this.onEvent?.({ kind: 'invalidate', key, version });
  }

  /**
   * Moves a stream to `entry`'s position, dropping the partition on an epoch change or a gap. Any
   * other epoch than the one held counts as a change (a late message of an older epoch costs a
   * flush), and a heartbeat behind the seq held resets it: so a stream whose position was
   * corrupted heals at the next heartbeat instead of waiting for the true seq to catch up.
   */
  private advance(state: Source, entry: PartitionInvalidations, heartbeat: boolean): void {
    const p = entry.partition;
    const stream = state.streams.get(p);
    if (stream === undefined) {
      state.streams.set(p, { epoch: entry.epoch, seq: entry.seq });
      this.streams[p]!++;
      return;
    }
    if (entry.epoch !== stream.epoch) {
      stream.epoch = entry.epoch;
      stream.seq = entry.seq;
      this.stats.epochChanges++;
      this.dropPartition(p, 'epoch');
      return;
    }
    if (entry.seq < stream.seq && heartbeat) {
      stream.seq = entry.seq;
      this.stats.gaps++;
      this.dropPartition(p, 'gap');
      return;
    }
    if (entry.seq <= stream.seq) return; // a duplicate or late message
    if (entry.seq - entry.count > stream.seq && !this.bugs.noGapDetection) {
      this.stats.gaps++;
      this.dropPartition(p, 'gap');
    }
    stream.seq = entry.seq;
  }

  private dropStream(state: Source, partition: number, reason: DropReason): void {
    state.streams.delete(partition);
    this.streams[partition]!--;
    this.dropPartition(partition, reason);
  }

  private dropPartition(partition: number, reason: DropReason): void {
    this.dropGenerations[partition]!++;
    const entries = this.store.dropPartition(partition);
    this.stats.flushes++;
    this.stats.flushedEntries += entries;
    this.onEvent?.({ kind: 'stale-dropped', partition, reason, entries });
  }

  private dropSilentSources(): void {
    if (this.sources.size === 0) return;
    const now = this.options.clock.monoMs();
    for (const [name, state] of this.sources) if (now - state.lastHeartbeatMs > this.silentAfterMs) this.sourceLost(name);
  }

  private endFill(token: FillToken): void {
    const set = this.inFlight.get(token.key);
    if (set === undefined) return;
    set.delete(token);
    if (set.size === 0) this.inFlight.delete(token.key);
  }
}

function compareVersions(a: InvalidationVersion, b: InvalidationVersion): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return 0;
}
