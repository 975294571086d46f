/**
 * One partition replica's records: last-writer-wins apply, reads, and the order-independent digest
 * that anti-entropy compares. Only the partition's actor (partition-actor.ts) calls it, which also
 * keeps the partition's other state (catch-up, handoff, epoch, invalidation sequence).
 *
 * The data lives in the node's one `Store` (src/store), shared by every partition: the store is
 * the single source of truth, and it may evict (memory budget) or expire (TTL) entries on its own.
 * So nothing here keeps a (key -> version) index beside it: versions are read from the record
 * header in the stored bytes (`peek`), enumeration is the store's per-partition list, and the
 * digest is a cache that is recomputed whenever the store removed something of this partition
 * that this replica did not remove itself (its per-partition eviction counters moved) or an entry
 * of it may have expired since (the earliest deadline seen has passed).
 *
 * Store deadlines: a live value without TTL has none; a tombstone is kept until its version time
 * plus the grace, and a value with a TTL until its expiry plus the grace. That makes the store's
 * own TTL wheel the tombstone purge: a deleted or expired key is reported as such (with its
 * version) until the grace has passed, so a late hint or repair cannot resurrect it.
 */
import type { Clock } from '../runtime/env.ts';
import type { DiskTier, Store } from '../store/index.ts';
import { hashPair, murmur3String } from '../protocol/hash.ts';
import { compareVersions, type Version } from './hlc.ts';
import type { EvictionShadow } from './eviction-shadow.ts';
import { flushedBy } from './flush-floors.ts';
import { decodeRecord, encodeRecord, holdsLiveValue, isDeadAt, versionOfEncoded, type StoredRecord, type WrittenAs } from './record.ts';

const DIGEST_SEED = 0x6469_6773; // "digs"

/** The digest contribution of one (key, version): XOR-combined, so order does not matter. */
export function entryHash(key: string, v: Version): number {
  return entryHashOf(murmur3String(key, DIGEST_SEED), v);
}

/**
 * Sub-range digests (docs/REPLICATION.md, "Anti-entropy of large partitions"): a partition's keys
 * fall into SYNC_BUCKETS buckets by their digest hash, and each bucket has its own XOR digest, kept
 * beside the partition's. When two replicas' partition digests differ, they compare the buckets'
 * and exchange the (key, version) lists of the differing buckets only. A power of two: the bucket
 * is the key hash's top bits.
 */
export const SYNC_BUCKETS = 256;
const BUCKET_SHIFT = 32 - Math.log2(SYNC_BUCKETS);

/** The sub-range (bucket) of a store key: the same on every node. */
export function bucketOf(key: string): number {
  return murmur3String(key, DIGEST_SEED) >>> BUCKET_SHIFT;
}

/** entryHash from the key's own hash, so a write that swaps one version for another hashes its key once. */
function entryHashOf(keyHash: number, v: Version): number {
  const wallLow = v.wallMs % 4294967296;
  const wallHigh = Math.floor(v.wallMs / 4294967296);
  return hashPair(hashPair(keyHash, wallLow, v.logical), wallHigh ^ v.node, DIGEST_SEED);
}

/**
 * `applied`: stored. `stale`: an equal or newer version is held, or the record is a tombstone (or
 * expired value) whose grace has already passed; either way there is nothing to do and the sender
 * may forget it. `refused`: the store declined it (memory budget), so the sender must not count it.
 */
export type ApplyOutcome = 'applied' | 'stale' | 'refused';

/** The store deadline of an encoded record: see the file comment. Undefined: no deadline. */
export function storeDeadline(record: { tombstone: boolean; version: Version; expiresAtMs: number }, graceMs: number): number | undefined {
  if (record.tombstone) return record.version.wallMs + graceMs;
  return record.expiresAtMs === 0 ? undefined : record.expiresAtMs + graceMs;
}

export class PartitionReplica {
  /** Counters for figures; `flushed`: records deleted by a flush floor. */
  readonly counts = { applied: 0, stale: 0, refused: 0, flushed: 0 };
  /** The flush floor this replica last deleted up to (flush-floors.ts); compared by identity. */
  private settledFloor: Version | undefined = undefined;
  private cachedDigest = 0;
  /** Per bucket (bucketOf), the XOR of entryHash over its entries: valid with cachedDigest, whose XOR they are. */
  private readonly cachedBuckets = new Int32Array(SYNC_BUCKETS);
  private digestValid = false;
  /** The store's (size + expired) removal count for this partition when the digest was computed. */
  private removalsSeen = 0;
  /** The earliest store deadline among the entries folded into the digest. */
  private digestValidUntil = Number.POSITIVE_INFINITY;

  constructor(
    readonly partition: number,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly graceMs: number,
    private readonly shadow: EvictionShadow,
    /** The node's disk tier, holding records the store evicted (docs/STORE.md, "Disk tier"); null without one. */
    private readonly disk: DiskTier | null = null,
    /** The partition's flush floor (flush-floors.ts): records at or below it are deleted. */
    private readonly floorOf: () => Version | undefined = () => undefined,
    /** Test-only (ReplicationBugs.bucketDigestSkipsNewKeys): a write of a key this replica knew nothing of leaves its bucket's digest as it was. */
    private readonly bucketSkipsNewKeys = false,
  ) {}

  /** Told of each key a flush floor deleted from the store (the actor: a change for near caches). */
  onFlushed: ((key: string, floor: Version) => void) | null = null;

  /**
   * Deletes what a floor raised since the last call flushed. Every entry point below calls it
   * first, so a floor holds from the moment the node raised it, whichever job touches the replica
   * next (the node also queues one to apply it, which a full mailbox may refuse).
   */
  settleFloor(): void {
    const floor = this.floorOf();
    if (floor === this.settledFloor) return;
    this.settledFloor = floor;
    if (floor === undefined) return;
    const flushed: [string, Version][] = [];
    this.store.forEachInPartition(this.partition, (key, value) => {
      const version = versionOfEncoded(value);
      if (flushedBy(floor, version)) flushed.push([key, version]);
    });
    for (const [key] of flushed) this.store.delete(key);
    // Versions the store evicted below the floor: the floor says as much now. Their values may be
    // on the disk tier (evicted there), whether or not the shadow still remembers them: each is
    // deleted there by a tombstone record, so a start that recovers the tier after every node has
    // forgotten the floor (floors live in memory) does not bring it back (flush-restart-disk.test.ts:
    // 1,677 of 6,000 flushed values came back when only the shadow's keys were deleted). A copy
    // the tier was still recovering when the floor rose is caught when it is read (readFromDisk).
    this.shadow.forgetUpTo(this.partition, floor);
    const flushedOnDisk: string[] = [];
    this.disk?.forEachVersion(this.partition, (key, version) => {
      if (flushedBy(floor, version)) flushedOnDisk.push(key);
    });
    for (const key of flushedOnDisk) this.disk!.delete(key);
    for (const [key] of flushed) {
      this.disk?.delete(key);
      this.onFlushed?.(key, floor);
    }
    this.counts.flushed += flushed.length;
    this.digestValid = false;
  }

  /** Entries the store holds for the partition (a store counter, not a read of the records). */
  get size(): number {
    return this.store.partitionStats(this.partition).entries;
  }

  /**
   * XOR of entryHash over every (key, version) known: held, or evicted and remembered by the
   * shadow (eviction-shadow.ts). Equal digests mean equal contents up to evictions, so two replicas
   * that differ only in what their stores evicted do not exchange key lists.
   */
  get digest(): number {
    this.validateDigest();
    return this.cachedDigest;
  }

  /**
   * The digest of each of the partition's SYNC_BUCKETS sub-ranges (bucketOf), kept up to date as
   * the digest is: their XOR is `digest`. A copy, safe to send.
   */
  bucketDigests(): number[] {
    this.validateDigest();
    return Array.from(this.cachedBuckets);
  }

  private validateDigest(): void {
    this.settleFloor();
    if (!this.digestValid || this.removalsByStore() !== this.removalsSeen || this.clock.wallMs() >= this.digestValidUntil) this.recomputeDigest();
  }

  /**
   * Applies an encoded record if it is newer than what is held (LWW); `incoming` is `bytes` decoded,
   * if the caller has it. `copy`: the record comes from another replica, not from a client's write
   * (Store SetOptions.copy: not counted in analytics nor as a hot-key access).
   */
  apply(key: string, bytes: Uint8Array, incoming: StoredRecord = decodeRecord(bytes), copy = false): ApplyOutcome {
    this.settleFloor();
    // Flushed: whatever it is (a late hint, a sync copy, a repair), it was deleted.
    if (flushedBy(this.floorOf(), incoming.version)) {
      this.counts.stale++;
      return 'stale';
    }
    const held = this.versionOf(key);
    // An evicted version (remembered, or on the disk tier) counts as held: anything at or below it
    // is old news (eviction-shadow.ts). The disk's own version matters most here: before, a copy
    // equal to the one on disk, arriving once the shadow had forgotten the key (a sync push of an
    // evicted version, noteEvicted), deleted the disk's copy, the value with it.
    const known = held ?? this.evictedVersionOf(key);
    const knownIsNewer = known === undefined ? -1 : compareVersions(known, incoming.version);
    // Except the value of a version only learnt from a sync source (noteEvicted): this store never
    // held it, and the owner sending it still does. Looked up only for that version, off the path
    // of every new write.
    const learntValue = knownIsNewer === 0 && held === undefined && this.shadow.isLearnt(this.partition, key, incoming.version) && !this.onDiskAt(key, incoming.version);
    if (knownIsNewer >= 0 && !learntValue) {
      this.counts.stale++;
      return 'stale';
    }
    // Evicted and forgotten by the shadow, at a version at or above this record's (its filter of
    // forgotten keys, eviction-shadow.ts): maybe older than what was evicted, so not stored (F5: a
    // sync copy brought the older value back). Remembered at this version, so sync lists it and
    // its sender stops pushing it. The disk tier's version, where it has one, is exact. The filter
    // is asked first: for a new write (newer than every watermark) it answers without a lookup.
    if (held === undefined && this.shadow.forgottenBound(this.partition, key, incoming.version) && this.disk?.versionOf(key) === undefined) {
      this.shadow.recordRefused(this.partition, key, incoming.version);
      this.digestValid = false;
      this.counts.stale++;
      return 'stale';
    }
    // Newer than anything known: a copy on disk is older whatever the store does with this one.
    this.disk?.delete(key);
    const deadline = storeDeadline(incoming, this.graceMs);
    // `meaning`: what the client wrote (a delete, its value's size and TTL), for `shoal stats`; a copy is not counted there.
    const meaning = copy ? undefined : { valueLength: incoming.value.length, ttlMs: incoming.expiresAtMs === 0 ? undefined : incoming.expiresAtMs - this.clock.wallMs(), tombstone: incoming.tombstone };
    // One object shape whatever the record, so the store's reads of the options stay monomorphic.
    const stored = this.store.set(key, bytes, { partition: this.partition, expiresAtMs: deadline, meaning, copy });
    const keyHash = this.digestValid ? murmur3String(key, DIGEST_SEED) : 0;
    const bucket = keyHash >>> BUCKET_SHIFT;
    // Whatever happened, the older version is gone from the store (a refused set removes it too).
    if (known && this.digestValid) {
      const h = entryHashOf(keyHash, known);
      this.cachedDigest ^= h;
      this.cachedBuckets[bucket]! ^= h;
    }
    if (stored) {
      if (learntValue) this.shadow.forget(this.partition, key);
      if (this.digestValid) {
        const h = entryHashOf(keyHash, incoming.version);
        this.cachedDigest ^= h;
        if (known || !this.bucketSkipsNewKeys) this.cachedBuckets[bucket]! ^= h;
        if (deadline !== undefined && deadline < this.digestValidUntil) this.digestValidUntil = deadline;
      }
      this.counts.applied++;
      return 'applied';
    }
    if (deadline !== undefined && deadline <= this.clock.wallMs()) {
      // A tombstone or expired value past its grace: what it deletes is deleted, nothing to keep.
      this.counts.stale++;
      return 'stale';
    }
    const evicted = this.shadow.versionOf(this.partition, key);
    if (evicted && compareVersions(evicted, incoming.version) >= 0) {
      // Declined by the store's admission policy: stored and evicted at once, like any eviction.
      this.digestValid = false;
      this.counts.stale++;
      return 'stale';
    }
    // Refused for the budget (noeviction keeps the older value, if any): recompute the digest.
    this.digestValid = false;
    this.counts.refused++;
    return 'refused';
  }

  /**
   * A sync source evicted `key` at `version`, so its value cannot be copied. If that version is
   * newer than what this replica knows, it is taken as stored here and evicted at once: an older
   * record held is dropped (LWW: the newer version superseded it) and the version is remembered
   * in the shadow, as learnt (eviction-shadow.ts): its value is still welcome from another owner.
   * Returns whether anything changed. Without this a restarted replica never learns the versions
   * its sources evicted, and its digests never match theirs (docs/REPLICATION.md).
   */
  noteEvicted(key: string, version: Version): boolean {
    this.settleFloor();
    if (flushedBy(this.floorOf(), version)) return false;
    const known = this.knownVersionOf(key);
    if (known && compareVersions(known, version) >= 0) return false;
    if (this.versionOf(key)) this.store.delete(key);
    this.disk?.delete(key);
    this.shadow.record(this.partition, key, version, true);
    this.digestValid = false;
    return true;
  }

  /**
   * Whether to leave a read repair of `key` out rather than store it: the partition knows nothing
   * of the key (not held, no eviction remembered, nothing on the disk tier), the record is a value
   * at or below `horizon` (the partition's forgetting horizon: this node may have evicted and
   * forgotten it, which is why sync leaves such a key out), and the store would have to evict an
   * entry its policy keeps over this one to take it (Store.admitsCopy). Taken, such a repair
   * evicted another value, whose shadow entry pushed one more key past the filter, which a later
   * read repaired in turn: churn, on a node too small for what it is read for (docs/REPLICATION.md,
   * "Read repair into a full store"). Left out, the node is as if the repair had been lost: it
   * still answers its horizon for the key. A delete is always taken: it is small, and it is what
   * keeps an older copy out.
   */
  declinesRepair(key: string, bytes: Uint8Array, horizon: Version | undefined): boolean {
    // A partition that never forgot anything (most) decodes nothing here.
    if (horizon === undefined) return false;
    const record = decodeRecord(bytes);
    if (record.tombstone || compareVersions(record.version, horizon) > 0) return false;
    if (this.knownVersionOf(key) !== undefined) return false;
    return !this.store.admitsCopy(key, bytes.length);
  }

  /** The newest version of `key` held or, evicted, remembered or on the disk tier (what sync compares). */
  knownVersionOf(key: string): Version | undefined {
    this.settleFloor();
    return this.versionOf(key) ?? this.evictedVersionOf(key);
  }

  /**
   * The newest version of this partition the node evicted and forgot (EvictionShadow): a key it
   * lacks at or below it is not copied here by sync (sync.ts, `reconcile`).
   */
  forgettingHorizon(): Version | undefined {
    return this.shadow.forgettingHorizon(this.partition);
  }

  /** A catch-up source announced its forgetting horizon (`fh`): this replica inherits it (ForgottenKeys.inherit). */
  inheritHorizon(horizon: Version): void {
    this.shadow.inheritHorizon(this.partition, horizon);
  }

  /** The forgetting horizon inherited from catch-up sources, if any (ForgottenKeys.inheritedHorizon). */
  inheritedHorizon(): Version | undefined {
    return this.shadow.inheritedHorizon(this.partition);
  }

  /**
   * Whether the disk tier holds `key`'s value at the newest version known and the store does not:
   * sync then reads it from there (readFromDisk) and sends it as a record, not as a version alone.
   */
  newestOnDisk(key: string): boolean {
    if (this.disk === null || this.store.has(key)) return false;
    const onDisk = this.disk.versionOf(key);
    if (onDisk === undefined) return false;
    const evicted = this.shadow.versionOf(this.partition, key);
    return evicted === undefined || compareVersions(onDisk, evicted) >= 0;
  }

  private onDiskAt(key: string, version: Version): boolean {
    const onDisk = this.disk?.versionOf(key);
    return onDisk !== undefined && compareVersions(onDisk, version) >= 0;
  }

  /** The newest version of `key` evicted: remembered by the shadow, or held by the disk tier. */
  private evictedVersionOf(key: string): Version | undefined {
    const evicted = this.shadow.versionOf(this.partition, key);
    const onDisk = this.disk?.versionOf(key);
    if (onDisk === undefined) return evicted;
    return evicted === undefined || compareVersions(onDisk, evicted) > 0 ? onDisk : evicted;
  }

  /** The encoded record for `key` (tombstones and expired values included), counted as a cache access. */
  read(key: string): Uint8Array | null {
    this.settleFloor();
    const stored = this.store.get(key, this.partition);
    if (stored === undefined) return null;
    // A tombstone or an expired value kept for the grace: its client gets nil, so a miss in the figures.
    if (!holdsLiveValue(stored, this.clock.wallMs())) this.store.recountAsMiss(this.partition, key);
    return stored;
  }

  /** Whether the store would refuse these encoded records for its memory budget (noeviction), changing nothing. */
  wouldRefuse(keys: readonly string[], records: readonly Uint8Array[]): boolean {
    return this.store.wouldRefuse(keys, records.map((r) => r.length));
  }

  /**
   * Reads `key` from the disk tier after the store missed it: false, without calling `done`, when
   * the disk holds nothing for it (no device read). `done` may run after this actor's turn, with a
   * copy of the record, or null if it could not be read or is older than a version known here.
   * `access` false: a copy for sync, not a read of the key (no hit counted, DiskTier.get).
   */
  readFromDisk(key: string, done: (record: Uint8Array | null) => void, access = true): boolean {
    const disk = this.disk;
    if (disk === null) return false;
    return disk.get(key, (bytes) => {
      if (bytes === undefined) return done(null);
      const known = this.knownVersionOf(key);
      const version = versionOfEncoded(bytes);
      if ((known && compareVersions(known, version) > 0) || flushedBy(this.floorOf(), version)) {
        disk.delete(key);
        return done(null);
      }
      done(bytes.slice());
    }, access);
  }

  /**
   * Puts a record read from disk back into the store (in this actor's turn), unless the store
   * holds the key again or a newer version is known by now. The disk keeps its copy, so the
   * record's next eviction writes nothing.
   */
  promote(key: string, bytes: Uint8Array): void {
    if (this.store.has(key)) return;
    const record = decodeRecord(bytes);
    const known = this.shadow.versionOf(this.partition, key);
    if ((known && compareVersions(known, record.version) > 0) || flushedBy(this.floorOf(), record.version)) return;
    const deadline = storeDeadline(record, this.graceMs);
    if (deadline !== undefined && deadline <= this.clock.wallMs()) return;
    // A copy: the client's read that found it on disk was counted already.
    this.store.set(key, bytes, { partition: this.partition, expiresAtMs: deadline, meaning: undefined, copy: true });
    // Same contents as before (the shadow counted this version), but the cache follows the store.
    this.digestValid = false;
  }

  /** The encoded record without touching recency, frequency or hit counters (sync, checkers). */
  peek(key: string): Uint8Array | null {
    this.settleFloor();
    return this.store.peek(key) ?? null;
  }

  /** The length of the encoded record held for `key`, 0 when none: peek's record, without copying it. */
  recordBytes(key: string): number {
    this.settleFloor();
    return this.store.peekView(key)?.length ?? 0;
  }

  /** Whether a record is held for `key` (peek's answer is not null), without copying it. */
  holds(key: string): boolean {
    this.settleFloor();
    return this.store.has(key);
  }

  versionOf(key: string): Version | undefined {
    // Only the header is read, and right away: a view avoids copying the whole record on every write.
    const bytes = this.store.peekView(key);
    return bytes ? versionOfEncoded(bytes) : undefined;
  }

  /** (key, version) pairs held, straight from the store's partition list. */
  entries(): [string, Version][] {
    this.settleFloor();
    const out: [string, Version][] = [];
    this.store.forEachInPartition(this.partition, (key, value) => out.push([key, decodeRecord(value).version]));
    return out;
  }

  /**
   * Calls `fn` with every key holding a live value at wall time `nowMs` (not a tombstone, not
   * past its expiry), from the store's partition list and then the disk tier's: the keyspace
   * scan's view (scan.ts). `fn` must not change the store.
   */
  forEachLiveKey(nowMs: number, fn: (key: string) => void): void {
    this.settleFloor();
    this.store.forEachInPartition(this.partition, (key, value) => {
      if (!isDeadAt(decodeRecord(value), nowMs)) fn(key);
    });
    // Values the store evicted to the disk tier are served from there (readFromDisk), so they are
    // keys of the partition too: a scan lists them, and FLUSHALL deletes them.
    const store = this.store;
    this.disk?.forEachLiveKey(this.partition, nowMs, (key) => {
      if (!store.has(key)) fn(key);
    });
  }

  /**
   * The (key, version) pairs knownEntries lists whose key is in one of `buckets` (bucketOf), and
   * the held ones among them (what anti-entropy pushes). One pass over the partition's keys,
   * hashing each; only the matching records' headers are read.
   */
  knownEntriesIn(buckets: ReadonlySet<number>): { held: [string, Version][]; evicted: [string, Version][] } {
    this.settleFloor();
    const held: [string, Version][] = [];
    // Keys only, then the few matching records' headers: no view of every record is made.
    for (const key of this.store.partitionKeys(this.partition)) {
      if (!buckets.has(bucketOf(key))) continue;
      const version = this.versionOf(key);
      if (version !== undefined) held.push([key, version]);
    }
    const evicted = this.evictedEntries().filter(([key]) => buckets.has(bucketOf(key)));
    return { held, evicted };
  }

  /**
   * The keys knownEntries lists whose bucket is marked in `buckets` (indexed by bucketOf), grouped
   * by bucket: one pass over the partition's keys, hashing each, reading no record. For an answer
   * that lists only some of the buckets asked (sync.ts answerBuckets): under a steady write load
   * nearly every bucket differs, and reading every record's version would read the partition.
   */
  keysInBuckets(buckets: Uint8Array): Map<number, string[]> {
    this.settleFloor();
    const out = new Map<number, string[]>();
    const add = (key: string): void => {
      const b = bucketOf(key);
      if (buckets[b] !== 1) return;
      const keys = out.get(b);
      if (keys === undefined) out.set(b, [key]);
      else keys.push(key);
    };
    for (const key of this.store.partitionKeys(this.partition)) add(key);
    for (const [key] of this.evictedEntries()) add(key);
    return out;
  }

  /** (key, version) pairs known: held, plus those evicted (and remembered) and not held again. */
  knownEntries(): [string, Version][] {
    const out = this.entries();
    for (const entry of this.evictedEntries()) out.push(entry);
    return out;
  }

  /**
   * (key, version) pairs evicted and not held again: remembered by the shadow, or on the disk tier
   * (its index keeps every value's version), the newer of the two where both know the key. The
   * disk's count because the shadow is bounded and the disk is not: a value on disk whose version
   * the shadow forgot was served by reads but listed by no sync, so neither catch-up nor handoff
   * ever moved it (F6: a rolling restart lost it).
   */
  evictedEntries(): [string, Version][] {
    const out: [string, Version][] = [];
    const shadowed = this.shadow.entries(this.partition);
    for (const [key, v] of shadowed) if (!this.store.has(key)) out.push([key, this.evictedVersionOf(key) ?? v]);
    this.disk?.forEachVersion(this.partition, (key, v) => {
      if (!shadowed.has(key) && !this.store.has(key)) out.push([key, v]);
    });
    return out;
  }

  /** Removals the store made on its own, and any change of the disk tier's entries: either may change the digest. */
  private removalsByStore(): number {
    const s = this.store.partitionStats(this.partition);
    return s.evictedSize + s.evictedExpired + (this.disk?.changesIn(this.partition) ?? 0);
  }

  private recomputeDigest(): void {
    let digest = 0;
    let validUntil = Number.POSITIVE_INFINITY;
    const buckets = this.cachedBuckets;
    buckets.fill(0);
    const fold = (key: string, v: Version): void => {
      const keyHash = murmur3String(key, DIGEST_SEED);
      const h = entryHashOf(keyHash, v);
      digest ^= h;
      buckets[keyHash >>> BUCKET_SHIFT]! ^= h;
    };
    this.store.forEachInPartition(this.partition, (key, value, expiresAtMs) => {
      fold(key, versionOfEncoded(value));
      if (expiresAtMs !== undefined && expiresAtMs < validUntil) validUntil = expiresAtMs;
    });
    for (const [key, v] of this.evictedEntries()) fold(key, v);
    this.cachedDigest = digest;
    this.digestValid = true;
    this.removalsSeen = this.removalsByStore();
    this.digestValidUntil = validUntil;
  }
}

/** Builds a record for a set or delete. */
export function makeRecord(version: Version, value: Uint8Array | null, expiresAtMs: number, writtenAs?: WrittenAs): Uint8Array {
  return encodeRecord({ version, value: value ?? new Uint8Array(0), tombstone: value === null, expiresAtMs, writtenAs });
}
