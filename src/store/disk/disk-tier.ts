/**
 * The disk tier: a log of regions on a block device under the memory tier (docs/STORE.md, "Disk
 * tier"). Entries the memory tier evicts but still values are appended here; a get that misses
 * memory asks here, and only keys in the in-memory index cost a device read.
 *
 * Design, after CacheLib's large-object cache (Navy's BlockCache) and Kangaroo's log:
 * - Writes are sequential: records are packed into blocks (sealed one by one, so a read opens one
 *   small block), blocks into the active region's buffer, and the buffer goes to the device in
 *   batches, one write in flight at a time.
 * - Regions are reused in ring order (FIFO). The region after the active one is reclaimed ahead of
 *   time: read back whole, entries read since they were written ("hit") are reinserted at the head
 *   while the write budget allows, the rest leave the index.
 * - Every record carries a sequence number that grows across restarts, and deletes and partition
 *   drops are records too, so scanning the device back after a restart (`recover`) rebuilds exactly
 *   the index the tier had: the newest record of each key wins.
 * - Nothing on the device is trusted: a block that fails to open (flipped bits, a torn write, a
 *   block moved, left over from the region's previous generation) is a miss, never a wrong value.
 *
 * Callbacks, not promises: this is core code (no `await`), and a disk hit is answered whenever the
 * device answers, holding up nothing else.
 */
import type { Clock } from '../../runtime/env.ts';
import type { BlockDevice } from './device.ts';
import {
  BLOCK_PREFIX_BYTES, RecordKind, blockAad, decodeRecord, encodeRecord, readBlockPrefix, recordBytes, writeBlockPrefix,
  type DiskRecord,
} from './record.ts';
import type { BlockSealer } from './sealer.ts';
import { WriteBudget } from './write-budget.ts';
import { DiskIndex, type DiskVersion } from './disk-index.ts';

export type { DiskVersion } from './disk-index.ts';

export interface DiskTierOptions {
  device: BlockDevice;
  sealer: BlockSealer;
  /** Wall time for expiry; monotonic time for the write budget. */
  clock: Clock;
  /** Bytes per region (default 1 MiB, lowered so the device holds at least 4 regions). */
  regionBytes?: number;
  /** Plain bytes per sealed block before a new one starts (default 4 KiB; a larger record gets a block of its own). */
  blockBytes?: number;
  /** Unwritten bytes of the active region that trigger a device write (default 128 KiB). */
  writeBatchBytes?: number;
  /** Device write budget in bytes per second; 0 (the default) is unlimited. */
  writeBudgetBytesPerSecond?: number;
  /**
   * The version a value carries (replication: its record header), kept in the index for every
   * value put, reinserted or recovered, so the owner knows which version the tier holds without a
   * device read (`versionOf`, `forEachVersion`). Without it every version reads as zero.
   */
  versionOf?: (value: Uint8Array) => DiskVersion;
}

export interface RecoverySummary {
  entries: number;
  /** Regions holding data. */
  regions: number;
  /** Regions whose scan stopped at a block that did not open (or could not be read), for another reason than its key. */
  corruptRegions: number;
  /**
   * With a sealer that names keys: the regions holding blocks by the key that sealed them, and
   * whether that key is the sealer's primary, another key it still opens with (a rotation under
   * way), or one it lacks (the regions were dropped: not counted as corrupt).
   */
  regionsByKey: { keyId: string; regions: number; key: 'primary' | 'older' | 'missing' }[];
  /** The sealer's key ids (what seals, what opens), or null for a sealer without keys. */
  keyIds: { primary: string; all: readonly string[] } | null;
}

export interface DiskTierStats {
  entries: number;
  regions: number;
  regionBytes: number;
  /** Records accepted by `put` and `spill`, and the key and value bytes they carried. */
  puts: number;
  appBytes: number;
  /** Bytes written to the device (blocks, their prefixes and seals, reinsertions, tombstones). */
  deviceBytesWritten: number;
  rejectedBudget: number;
  rejectedBusy: number;
  rejectedSize: number;
  hits: number;
  deviceReads: number;
  /** Blocks that did not open or records that did not match: answered as misses. */
  corrupt: number;
  expired: number;
  reinserted: number;
  /** Entries that left the disk because their region was reclaimed. */
  evicted: number;
  regionsReclaimed: number;
  writeErrors: number;
}

interface OpenRecord {
  key: string;
  seq: number;
  /** A value (which the index points to), not a tombstone or partition drop. */
  isValue: boolean;
  bytes: Uint8Array;
}

interface QueuedWrite {
  offset: number;
  bytes: Uint8Array;
  sealed: Array<{ key: string; seq: number }>;
}

const DEFAULT_REGION_BYTES = 1 << 20;
const MIN_REGIONS = 4;
/**
 * Live memory per index entry (key string, map entry, typed-array rows, with keys of about 10
 * characters): 89 MiB for 434,000 entries of 100 B values in bench/store/disk-vs-lmdb.ts (215
 * bytes), plus the partition lists added since (a key reference and two links, 19 bytes an entry
 * with their arrays' spare capacity: DiskIndex alone at 1M entries, 58 bytes beyond the key
 * string before them, 77 with them, `--expose-gc`), plus each value's version (16 bytes of
 * typed-array rows, not measured: arithmetic).
 */
const INDEX_BYTES_PER_ENTRY = 250;
const encoder = new TextEncoder();

export class DiskTier {
  private readonly device: BlockDevice;
  private readonly sealer: BlockSealer;
  private readonly clock: Clock;
  private readonly regionBytes: number;
  private readonly regionCount: number;
  private readonly blockBytes: number;
  private readonly writeBatchBytes: number;
  private readonly budget: WriteBudget;
  private readonly valueVersion: ((value: Uint8Array) => DiskVersion) | undefined;

  private readonly index = new DiskIndex();
  /** Values whose block is not on the device yet, by record seq: reads are served from here. */
  private readonly pending = new Map<number, Uint8Array>();
  /** Each region's generation (0: never written), bound into its blocks' authenticated data. */
  private readonly regionGeneration: number[];
  /** Keys whose records went into each region (some since moved or deleted: checked against the index). */
  private readonly regionKeys: string[][];
  private readonly clean: boolean[];
  private generation = 0;
  private seq = 0;

  /** The region being written; none (-1) at first, with fill at the end so the first block rolls to region 0. */
  private active = -1;
  private activeGeneration = 0;
  private buffer = new Uint8Array(0);
  private fill: number;
  private written: number;
  private sealedSinceWrite: Array<{ key: string; seq: number }> = [];
  private open: OpenRecord[] = [];
  private openBytes = 0;
  /** The active region is full and the next one is not reclaimed yet: puts are refused. */
  private waitingForRegion = false;
  private reclaiming = -1;
  private recovering = false;
  /** Deletes and partition drops asked for while recovering, applied when it ends. */
  private readonly deletedWhileRecovering = new Set<string>();
  private readonly droppedWhileRecovering = new Set<number>();

  private readonly queue: QueuedWrite[] = [];
  /** Bytes queued for the device and not yet written: over two regions' worth, puts are refused (a slow device must not grow memory). */
  private queuedBytes = 0;
  private writing = false;
  private closing: (() => void) | null = null;

  private readonly counters: Omit<DiskTierStats, 'entries' | 'regions' | 'regionBytes'> = {
    puts: 0, appBytes: 0, deviceBytesWritten: 0, rejectedBudget: 0, rejectedBusy: 0, rejectedSize: 0, hits: 0,
    deviceReads: 0, corrupt: 0, expired: 0, reinserted: 0, evicted: 0, regionsReclaimed: 0, writeErrors: 0,
  };

  constructor(options: DiskTierOptions) {
    this.device = options.device;
    this.sealer = options.sealer;
    this.clock = options.clock;
    this.regionBytes = Math.min(options.regionBytes ?? DEFAULT_REGION_BYTES, Math.floor(options.device.size / MIN_REGIONS));
    this.regionCount = Math.floor(options.device.size / this.regionBytes);
    if (this.regionBytes < 4096) throw new RangeError(`disk tier: a device of ${options.device.size} bytes is too small (at least ${MIN_REGIONS * 4096})`);
    this.blockBytes = Math.min(options.blockBytes ?? 4096, this.regionBytes);
    this.writeBatchBytes = options.writeBatchBytes ?? 128 * 1024;
    this.budget = new WriteBudget(options.writeBudgetBytesPerSecond ?? 0, () => this.clock.monoMs());
    this.valueVersion = options.versionOf;
    this.regionKeys = Array.from({ length: this.regionCount }, () => []);
    this.clean = new Array<boolean>(this.regionCount).fill(true);
    this.regionGeneration = new Array<number>(this.regionCount).fill(0);
    this.fill = this.written = this.regionBytes;
  }

  /** Whether the key has a value on disk (no device read). */
  has(key: string): boolean {
    return this.index.slotOf(key) !== -1;
  }

  /** Whether `recover` is still reading the device back (its index lists nothing yet). */
  get isRecovering(): boolean {
    return this.recovering;
  }

  /** Whether versions are kept (DiskTierOptions.versionOf). */
  get tracksVersions(): boolean {
    return this.valueVersion !== undefined;
  }

  /** The version of the key's value on disk (DiskTierOptions.versionOf), expired or not; undefined if none. No device read. */
  versionOf(key: string): DiskVersion | undefined {
    const slot = this.index.slotOf(key);
    return slot === -1 ? undefined : this.index.version(slot);
  }

  /** Calls `fn` with every key of `partition` on disk and its value's version, expired or not (none while recovering). No device read. */
  forEachVersion(partition: number, fn: (key: string, version: DiskVersion) => void): void {
    if (this.recovering) return;
    this.index.forEachInPartition(partition, (key, slot) => fn(key, this.index.version(slot)));
  }

  /** A counter of the partition's entries added, replaced or removed (by puts, deletes, reclaims, expiry, recovery): caches of what it holds key on it. */
  changesIn(partition: number): number {
    return this.index.changesIn(partition);
  }

  /**
   * Stores a value the memory tier let go. False when it was not taken: over the write budget, the
   * tier busy reclaiming, or too large for a region; an older value of the key is then dropped,
   * since the caller meant to replace it. `value` is copied.
   */
  put(key: string, value: Uint8Array, partition: number, expiresAtMs = 0): boolean {
    const keyBytes = encoder.encode(key).length;
    const size = recordBytes(keyBytes, value.length);
    const refusal = this.refusal(size) ?? (!this.budget.take(size) ? 'rejectedBudget' : null);
    if (refusal !== null) {
      this.counters[refusal]++;
      this.delete(key);
      return false;
    }
    this.take(key, keyBytes, value, partition, expiresAtMs);
    return true;
  }

  /**
   * Stores a value still in memory at a stop for a restart (ReplicaHost.spillToDisk), as `put`
   * does but outside the write budget: the budget paces the steady flow of evictions, and a stop
   * writes at most the tier's room once. 'busy': the tier is reclaiming a region or its queue to
   * the device is full; flush and try again later. 'refused': the value never fits a region.
   */
  spill(key: string, value: Uint8Array, partition: number, expiresAtMs: number): 'taken' | 'busy' | 'refused' {
    const keyBytes = encoder.encode(key).length;
    const refusal = this.refusal(recordBytes(keyBytes, value.length));
    if (refusal !== null) return refusal === 'rejectedSize' ? 'refused' : 'busy';
    this.take(key, keyBytes, value, partition, expiresAtMs);
    return 'taken';
  }

  /** Why a record of `size` bytes cannot be taken now, budget aside: too large for a region, or the tier busy (reclaiming, closing, its device queue full). */
  private refusal(size: number): 'rejectedSize' | 'rejectedBusy' | null {
    if (BLOCK_PREFIX_BYTES + size + this.sealer.overhead > this.regionBytes) return 'rejectedSize';
    return this.waitingForRegion || this.recovering || this.closing !== null || this.queuedBytes >= 2 * this.regionBytes ? 'rejectedBusy' : null;
  }

  private take(key: string, keyBytes: number, value: Uint8Array, partition: number, expiresAtMs: number): void {
    this.counters.puts++;
    this.counters.appBytes += keyBytes + value.length;
    this.append(RecordKind.Value, key, value.slice(), partition, expiresAtMs, this.valueVersion?.(value));
  }

  /**
   * Record bytes a spill may write without the tier reclaiming what it wrote itself: every region
   * but the one being filled and the one reclaimed ahead of it, less one for the blocks' own bytes.
   */
  spillRoomBytes(): number {
    return Math.max(0, this.regionCount - 3) * this.regionBytes;
  }

  /**
   * Looks a key up. Returns false, without calling `done`, when the disk holds no live value for it
   * (no device read). Otherwise `done` gets the value, or undefined if it could not be read back
   * or changed meanwhile; `done` runs synchronously when the value has not reached the device yet.
   * `access` false (a copy for another node, not a read of the key): neither a hit counted nor the
   * hit bit that keeps the entry at its region's reclaim.
   */
  get(key: string, done: (value: Uint8Array | undefined) => void, access = true): boolean {
    const slot = this.index.slotOf(key);
    if (slot === -1) return false;
    const expiresAtMs = this.index.expiresAtMs(slot);
    if (expiresAtMs !== 0 && expiresAtMs <= this.clock.wallMs()) {
      this.index.remove(key);
      this.counters.expired++;
      return false;
    }
    if (access) this.index.markHit(slot);
    const seq = this.index.seq(slot);
    const pending = this.pending.get(seq);
    if (pending !== undefined) {
      if (access) this.counters.hits++;
      done(pending);
      return true;
    }
    const [region, blockOffset, recordOffset] = [this.index.region(slot), this.index.blockOffset(slot), this.index.recordOffset(slot)];
    const generation = this.regionGeneration[region]!;
    this.counters.deviceReads++;
    this.device.read(region * this.regionBytes + blockOffset, this.index.blockLength(slot), (error, bytes) => {
      const record = error === null ? this.openRecord(bytes, region, blockOffset, generation, recordOffset) : null;
      const current = this.index.holds(key, seq);
      if (record === null || record.kind !== RecordKind.Value || record.key !== key || record.seq !== seq) {
        this.counters.corrupt++;
        if (current) this.index.remove(key);
        done(undefined);
        return;
      }
      // A value deleted or replaced while it was read is not served.
      if (!current) return done(undefined);
      if (access) this.counters.hits++;
      done(record.value);
    });
    return true;
  }

  /** Removes a key's value; a tombstone keeps an older copy from coming back at the next recovery. */
  delete(key: string): boolean {
    if (this.recovering) {
      this.deletedWhileRecovering.add(key);
      return true;
    }
    if (!this.index.remove(key)) return false;
    this.append(RecordKind.Tombstone, key, new Uint8Array(0), 0, 0);
    return true;
  }

  /** Forgets every value of a partition (the node no longer holds it); returns how many. */
  dropPartition(partition: number): number {
    if (this.recovering) {
      this.droppedWhileRecovering.add(partition);
      return 0;
    }
    let dropped = 0;
    this.index.forEachInPartition(partition, (key) => {
      this.index.remove(key);
      dropped++;
    });
    this.append(RecordKind.PartitionDrop, '', new Uint8Array(0), partition, 0);
    return dropped;
  }

  /**
   * Calls `fn` for every key of `partition` the tier holds a live value for at `nowMs` (none while
   * recovering: the index is still being read back). No device read.
   */
  forEachLiveKey(partition: number, nowMs: number, fn: (key: string) => void): void {
    if (this.recovering) return;
    this.index.forEachInPartition(partition, (key, slot) => {
      const expiresAtMs = this.index.expiresAtMs(slot);
      if (expiresAtMs === 0 || expiresAtMs > nowMs) fn(key);
    });
  }

  /** Sends what is buffered to the device now (the owner calls it on its tick so little waits in memory). */
  flush(): void {
    if (!this.waitingForRegion) this.sealOpenBlock();
    this.queueWrite();
  }

  /** Flushes everything and calls `done` once the device has it. Puts are refused from now on. */
  close(done: () => void): void {
    this.closing = done;
    this.flush();
    this.finishClose();
  }

  /** What the index costs in memory, by the measured figure per entry: counted against --max-memory by the replica host. */
  indexBytes(): number {
    return this.index.size * INDEX_BYTES_PER_ENTRY;
  }

  stats(): DiskTierStats {
    return { entries: this.index.size, regions: this.regionCount, regionBytes: this.regionBytes, ...this.counters };
  }

  /**
   * Rebuilds the index from the device after a restart: every region is read and its blocks
   * opened until one fails; the newest record of each key wins, tombstones and partition drops
   * remove what they cover, and expired values are skipped. Until `done`, puts are refused and
   * gets miss (nothing may be written over regions not yet read).
   */
  recover(done: (summary: RecoverySummary) => void): void {
    interface Found { seq: number; isValue: boolean; partition: number; expiresAtMs: number; version: DiskVersion | undefined; region: number; blockOffset: number; blockLength: number; recordOffset: number }
    this.recovering = true;
    const latest = new Map<string, Found>();
    const drops = new Map<number, number>();
    let newestRegion = -1;
    let newestGeneration = 0;
    let corruptRegions = 0;
    const regionsByKey = new Map<string, number>();
    const keys = this.sealer.keys;
    const scan = (region: number): void => {
      if (region === this.regionCount) return finish();
      this.device.read(region * this.regionBytes, this.regionBytes, (error, bytes) => {
        if (error !== null) corruptRegions++;
        else {
          const { generation, complete, sealedWith } = this.scanRegion(bytes, region, (record, place) => {
            this.seq = Math.max(this.seq, record.seq);
            if (record.kind === RecordKind.PartitionDrop) drops.set(record.partition, Math.max(drops.get(record.partition) ?? 0, record.seq));
            else if ((latest.get(record.key)?.seq ?? -1) < record.seq) {
              const isValue = record.kind === RecordKind.Value;
              const version = isValue ? this.valueVersion?.(record.value) : undefined;
              latest.set(record.key, { seq: record.seq, isValue, partition: record.partition, expiresAtMs: record.expiresAtMs, version, region, ...place });
            }
            if (record.kind === RecordKind.Value) this.regionKeys[region]!.push(record.key);
          });
          if (sealedWith !== null) regionsByKey.set(sealedWith, (regionsByKey.get(sealedWith) ?? 0) + 1);
          // A region under a key the sealer lacks does not open: dropped, but not damaged.
          if (!complete && (sealedWith === null || keys === undefined || keys.all.includes(sealedWith))) corruptRegions++;
          if (generation > 0) {
            this.clean[region] = false;
            this.regionGeneration[region] = generation;
            if (generation > newestGeneration) [newestGeneration, newestRegion] = [generation, region];
          }
        }
        scan(region + 1);
      });
    };
    const finish = (): void => {
      const now = this.clock.wallMs();
      for (const [key, found] of latest) {
        if (!found.isValue || (drops.get(found.partition) ?? -1) > found.seq) continue;
        if (found.expiresAtMs !== 0 && found.expiresAtMs <= now) continue;
        const slot = this.index.add(key, found.seq, found.partition, found.expiresAtMs, found.version);
        this.index.place(slot, found.region, found.blockOffset, found.blockLength, found.recordOffset);
      }
      this.generation = newestGeneration;
      // Continue after the newest region, as if it were full: the next block rolls to the one after.
      this.active = newestRegion;
      this.fill = this.written = this.regionBytes;
      this.recovering = false;
      for (const key of this.deletedWhileRecovering) this.delete(key);
      for (const partition of this.droppedWhileRecovering) this.dropPartition(partition);
      this.deletedWhileRecovering.clear();
      this.droppedWhileRecovering.clear();
      const byKey = [...regionsByKey].map(([keyId, regions]) => ({
        keyId,
        regions,
        key: keyId === keys?.primary ? ('primary' as const) : keys?.all.includes(keyId) === true ? ('older' as const) : ('missing' as const),
      }));
      done({ entries: this.index.size, regions: this.regionCount - this.clean.filter(Boolean).length, corruptRegions, regionsByKey: byKey, keyIds: keys === undefined ? null : { primary: keys.primary, all: keys.all } });
    };
    scan(0);
  }

  private append(kind: RecordKind, key: string, value: Uint8Array, partition: number, expiresAtMs: number, version?: DiskVersion): void {
    const record: DiskRecord = { kind, key, value, partition, expiresAtMs, seq: ++this.seq };
    const bytes = encodeRecord(record);
    // A block is at most blockBytes of records, or one larger record alone, so every block fits a region.
    if (this.open.length > 0 && this.openBytes + bytes.length > this.blockBytes && !this.waitingForRegion) this.sealOpenBlock();
    const isValue = kind === RecordKind.Value;
    if (isValue) {
      this.index.add(key, record.seq, partition, expiresAtMs, version);
      this.pending.set(record.seq, value);
    }
    this.open.push({ key, seq: record.seq, isValue, bytes });
    this.openBytes += bytes.length;
    if (this.openBytes >= this.blockBytes && !this.waitingForRegion) this.sealOpenBlock();
  }

  /** Seals the open block into the active region (rolling to the next region when it does not fit). */
  private sealOpenBlock(): void {
    if (this.open.length === 0) return;
    const plain = new Uint8Array(this.openBytes);
    let at = 0;
    for (const record of this.open) {
      plain.set(record.bytes, at);
      at += record.bytes.length;
    }
    const length = BLOCK_PREFIX_BYTES + plain.length + this.sealer.overhead;
    if (this.fill + length > this.regionBytes && !this.rollRegion()) return;
    const sealed = this.sealer.seal(blockAad(this.active, this.fill, this.activeGeneration), plain);
    writeBlockPrefix(this.buffer, this.fill, sealed.length, this.activeGeneration);
    this.buffer.set(sealed, this.fill + BLOCK_PREFIX_BYTES);
    let recordOffset = 0;
    for (const { key, seq, isValue, bytes } of this.open) {
      const slot = isValue ? this.index.slotOf(key) : -1;
      if (slot !== -1 && this.index.seq(slot) === seq) {
        this.index.place(slot, this.active, this.fill, length, recordOffset);
        this.regionKeys[this.active]!.push(key);
        this.sealedSinceWrite.push({ key, seq });
      } else if (isValue) this.pending.delete(seq);
      recordOffset += bytes.length;
    }
    this.fill += length;
    this.open = [];
    this.openBytes = 0;
    if (this.fill - this.written >= this.writeBatchBytes) this.queueWrite();
  }

  /** Moves writing to the next region if it is clean; otherwise starts reclaiming it and waits. */
  private rollRegion(): boolean {
    this.queueWrite();
    const next = (this.active + 1) % this.regionCount;
    if (!this.clean[next]) {
      this.waitingForRegion = true;
      this.reclaim(next);
      return false;
    }
    this.active = next;
    this.activeGeneration = ++this.generation;
    this.regionGeneration[next] = this.activeGeneration;
    this.buffer = new Uint8Array(this.regionBytes);
    this.fill = this.written = 0;
    this.clean[next] = false;
    this.regionKeys[next] = [];
    this.reclaim((next + 1) % this.regionCount);
    return true;
  }

  /** Frees a region for reuse: its hot live entries go back to the head of the log, the rest leave the index. */
  private reclaim(region: number): void {
    if (this.clean[region] || this.reclaiming !== -1) return;
    this.reclaiming = region;
    this.device.read(region * this.regionBytes, this.regionBytes, (error, bytes) => {
      const now = this.clock.wallMs();
      const seen = new Set<string>();
      if (error === null) {
        this.scanRegion(bytes, region, (record) => {
          const slot = this.index.slotOf(record.key);
          if (record.kind !== RecordKind.Value || slot === -1 || this.index.region(slot) !== region || this.index.seq(slot) !== record.seq) return;
          seen.add(record.key);
          const expiresAtMs = this.index.expiresAtMs(slot);
          const live = expiresAtMs === 0 || expiresAtMs > now;
          if (live && this.index.wasHit(slot) && !this.waitingForRegion && this.budget.take(recordBytes(record.key.length, record.value.length))) {
            this.counters.reinserted++;
            this.append(RecordKind.Value, record.key, record.value.slice(), this.index.partition(slot), expiresAtMs, this.index.version(slot));
          } else {
            this.index.remove(record.key);
            this.counters.evicted++;
          }
        });
      }
      // Entries whose records did not read back (device error, corruption) leave too.
      for (const key of this.regionKeys[region]!) {
        const slot = this.index.slotOf(key);
        if (slot !== -1 && this.index.region(slot) === region && !seen.has(key)) {
          this.index.remove(key);
          this.counters.evicted++;
        }
      }
      this.regionKeys[region] = [];
      this.clean[region] = true;
      this.reclaiming = -1;
      this.counters.regionsReclaimed++;
      if (this.waitingForRegion) {
        this.waitingForRegion = false;
        this.sealOpenBlock();
      }
      if (this.closing !== null) this.flush();
      this.finishClose();
    });
  }

  /** Calls `visit` for every record of a region's current generation; stops at the first block that does not open. */
  private scanRegion(
    bytes: Uint8Array, region: number, visit: (record: DiskRecord, place: { blockOffset: number; blockLength: number; recordOffset: number }) => void,
  ): { generation: number; complete: boolean; sealedWith: string | null } {
    let offset = 0;
    let generation = 0;
    // The key of the region's first block: one process wrote the region, with one primary key.
    let sealedWith: string | null = null;
    while (offset < bytes.length) {
      const prefix = readBlockPrefix(bytes, offset);
      if (prefix === null || prefix.sealedLength === 0) break;
      if (generation !== 0 && prefix.generation !== generation) break;
      const length = BLOCK_PREFIX_BYTES + prefix.sealedLength;
      if (offset === 0 && this.sealer.keys !== undefined) sealedWith = this.sealer.keys.sealedWith(bytes.subarray(BLOCK_PREFIX_BYTES, length));
      const plain = this.openBlock(bytes.subarray(offset, offset + length), region, offset, prefix.generation);
      if (plain === null) return { generation, complete: false, sealedWith };
      generation = prefix.generation;
      for (let at = 0; at < plain.length; ) {
        const decoded = decodeRecord(plain, at);
        if (decoded === null) return { generation, complete: false, sealedWith };
        const { record } = decoded;
        visit(record, { blockOffset: offset, blockLength: length, recordOffset: at });
        at = decoded.next;
      }
      offset += length;
    }
    return { generation, complete: true, sealedWith };
  }

  private openBlock(block: Uint8Array, region: number, offset: number, generation: number): Uint8Array | null {
    const prefix = readBlockPrefix(block, 0);
    if (prefix === null || prefix.generation !== generation || BLOCK_PREFIX_BYTES + prefix.sealedLength !== block.length) return null;
    return this.sealer.open(blockAad(region, offset, generation), block.subarray(BLOCK_PREFIX_BYTES));
  }

  private openRecord(block: Uint8Array, region: number, offset: number, generation: number, recordOffset: number): DiskRecord | null {
    const plain = this.openBlock(block, region, offset, generation);
    return plain === null ? null : (decodeRecord(plain, recordOffset)?.record ?? null);
  }

  /** Queues the active region's sealed but unwritten bytes as one sequential write. */
  private queueWrite(): void {
    if (this.fill > this.written) {
      this.queue.push({ offset: this.active * this.regionBytes + this.written, bytes: this.buffer.subarray(this.written, this.fill), sealed: this.sealedSinceWrite });
      this.queuedBytes += this.fill - this.written;
      this.sealedSinceWrite = [];
      this.written = this.fill;
    }
    this.pump();
  }

  private pump(): void {
    if (this.writing) return;
    const next = this.queue.shift();
    if (next === undefined) return this.finishClose();
    this.writing = true;
    this.device.write(next.offset, next.bytes, (error) => {
      this.writing = false;
      this.queuedBytes -= next.bytes.length;
      if (error !== null) this.counters.writeErrors++;
      else this.counters.deviceBytesWritten += next.bytes.length;
      for (const { key, seq } of next.sealed) {
        this.pending.delete(seq);
        // A failed write leaves nothing to read back: the entry leaves the disk tier.
        if (error !== null && this.index.holds(key, seq)) this.index.remove(key);
      }
      this.pump();
    });
  }

  private finishClose(): void {
    if (this.closing === null || this.writing || this.queue.length > 0 || this.reclaiming !== -1) return;
    const done = this.closing;
    this.closing = () => {};
    done();
  }
}
