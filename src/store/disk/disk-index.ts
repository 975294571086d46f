/**
 * The disk tier's in-memory index: for every key with a value on disk, where its newest record is
 * and what the tier must know without reading it (sequence number, partition, expiry, read since
 * written, the version the value carries), and each partition's keys. Rows live in typed arrays indexed by slot, like the store's own
 * rows (store.ts), so an entry costs about 77 bytes plus its key and map entry instead of an object per key: the index is
 * memory the node spends to hold data on disk, and it grows with the disk, not with memory.
 */
/** A value's version as its owner orders them (replication's HLC: wall ms, logical counter, node id). */
export interface DiskVersion {
  wallMs: number;
  logical: number;
  node: number;
}
const NO_VERSION: DiskVersion = { wallMs: 0, logical: 0, node: 0 };

const ROW = 4;
const REGION = 0;
const BLOCK_OFFSET = 1;
const BLOCK_LENGTH = 2;
const RECORD_OFFSET = 3;
/** Region of an entry whose block is not sealed into a region yet. */
const UNPLACED = 0xffffffff;
/** No slot: the end of a partition's list. */
const NO_SLOT = 0xffffffff;

export class DiskIndex {
  private readonly slots = new Map<string, number>();
  private capacity = 0;
  private seqs = new Float64Array(0);
  private expiries = new Float64Array(0);
  private rows = new Uint32Array(0);
  private partitions = new Uint16Array(0);
  private hits = new Uint8Array(0);
  /**
   * The version each value carries (its owner's, e.g. replication's HLC: wall ms, then logical and
   * node as two u32 per slot), 16 bytes an entry: so the node knows what the tier holds without a
   * device read (sync lists and compares it; docs/STORE.md, "Disk tier").
   */
  private versionWalls = new Float64Array(0);
  private versionRest = new Uint32Array(0);
  /** Per partition, how many times an entry was added, replaced or removed: its owner's caches of what a partition holds (digests) key on it. */
  private readonly partitionChanges = new Map<number, number>();
  /**
   * Each partition's keys as a list through their slots (the key of a slot, and its neighbours),
   * so a scan of one partition (SCAN, DBSIZE, FLUSHALL through partition-replica.ts) visits that
   * partition's keys only: about 19 bytes an entry with the arrays' spare capacity; the key string
   * itself is the one the map holds.
   */
  private keyOfSlot: (string | undefined)[] = [];
  private nextInPartition = new Uint32Array(0);
  private prevInPartition = new Uint32Array(0);
  private readonly partitionHeads = new Map<number, number>();
  private readonly free: number[] = [];
  private next = 0;

  get size(): number {
    return this.slots.size;
  }

  /** The key's slot, or -1. */
  slotOf(key: string): number {
    return this.slots.get(key) ?? -1;
  }

  /** Whether `slot` still holds the record `seq` of `key` (it was not replaced, deleted or moved). */
  holds(key: string, seq: number): boolean {
    const slot = this.slots.get(key);
    return slot !== undefined && this.seqs[slot] === seq;
  }

  /** Points the key at a new, not yet placed record carrying `version`; returns its slot. */
  add(key: string, seq: number, partition: number, expiresAtMs: number, version: DiskVersion = NO_VERSION): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.grow();
      this.slots.set(key, slot);
      this.keyOfSlot[slot] = key;
      this.link(slot, partition);
    } else if (this.partitions[slot] !== partition) {
      this.changed(this.partitions[slot]!);
      this.unlink(slot);
      this.link(slot, partition);
    }
    this.changed(partition);
    this.versionWalls[slot] = version.wallMs;
    this.versionRest[2 * slot] = version.logical;
    this.versionRest[2 * slot + 1] = version.node;
    this.seqs[slot] = seq;
    this.expiries[slot] = expiresAtMs;
    this.hits[slot] = 0;
    this.rows.fill(0, slot * ROW, slot * ROW + ROW);
    this.rows[slot * ROW + REGION] = UNPLACED;
    return slot;
  }

  place(slot: number, region: number, blockOffset: number, blockLength: number, recordOffset: number): void {
    const row = slot * ROW;
    this.rows[row + REGION] = region;
    this.rows[row + BLOCK_OFFSET] = blockOffset;
    this.rows[row + BLOCK_LENGTH] = blockLength;
    this.rows[row + RECORD_OFFSET] = recordOffset;
  }

  remove(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.changed(this.partitions[slot]!);
    this.unlink(slot);
    this.keyOfSlot[slot] = undefined;
    this.free.push(slot);
    return true;
  }

  seq(slot: number): number {
    return this.seqs[slot]!;
  }

  /** The version the slot's value carries (all zero if its owner gave none). */
  version(slot: number): DiskVersion {
    return { wallMs: this.versionWalls[slot]!, logical: this.versionRest[2 * slot]!, node: this.versionRest[2 * slot + 1]! };
  }

  /** Entries of `partition` added, replaced or removed so far (a counter that only grows). */
  changesIn(partition: number): number {
    return this.partitionChanges.get(partition) ?? 0;
  }

  expiresAtMs(slot: number): number {
    return this.expiries[slot]!;
  }

  partition(slot: number): number {
    return this.partitions[slot]!;
  }

  region(slot: number): number {
    return this.rows[slot * ROW + REGION]!;
  }

  blockOffset(slot: number): number {
    return this.rows[slot * ROW + BLOCK_OFFSET]!;
  }

  blockLength(slot: number): number {
    return this.rows[slot * ROW + BLOCK_LENGTH]!;
  }

  recordOffset(slot: number): number {
    return this.rows[slot * ROW + RECORD_OFFSET]!;
  }

  wasHit(slot: number): boolean {
    return this.hits[slot] === 1;
  }

  markHit(slot: number): void {
    this.hits[slot] = 1;
  }

  /** Calls `fn` for every key and its slot; `fn` may remove the key it is given. */
  forEach(fn: (key: string, slot: number) => void): void {
    for (const [key, slot] of this.slots) fn(key, slot);
  }

  /** Calls `fn` for every key of `partition` and its slot; `fn` may remove the key it is given. */
  forEachInPartition(partition: number, fn: (key: string, slot: number) => void): void {
    let slot = this.partitionHeads.get(partition) ?? NO_SLOT;
    while (slot !== NO_SLOT) {
      const next = this.nextInPartition[slot]!;
      fn(this.keyOfSlot[slot]!, slot);
      slot = next;
    }
  }

  private changed(partition: number): void {
    this.partitionChanges.set(partition, (this.partitionChanges.get(partition) ?? 0) + 1);
  }

  /** Puts `slot` at the head of `partition`'s list. */
  private link(slot: number, partition: number): void {
    const head = this.partitionHeads.get(partition) ?? NO_SLOT;
    this.partitions[slot] = partition;
    this.prevInPartition[slot] = NO_SLOT;
    this.nextInPartition[slot] = head;
    if (head !== NO_SLOT) this.prevInPartition[head] = slot;
    this.partitionHeads.set(partition, slot);
  }

  /** Takes `slot` out of its partition's list. */
  private unlink(slot: number): void {
    const prev = this.prevInPartition[slot]!;
    const next = this.nextInPartition[slot]!;
    if (prev !== NO_SLOT) this.nextInPartition[prev] = next;
    else if (next !== NO_SLOT) this.partitionHeads.set(this.partitions[slot]!, next);
    else this.partitionHeads.delete(this.partitions[slot]!);
    if (next !== NO_SLOT) this.prevInPartition[next] = prev;
  }

  private grow(): number {
    if (this.next === this.capacity) {
      this.capacity = Math.max(1024, this.capacity * 2);
      this.seqs = grown(this.seqs, new Float64Array(this.capacity));
      this.expiries = grown(this.expiries, new Float64Array(this.capacity));
      this.rows = grown(this.rows, new Uint32Array(this.capacity * ROW));
      this.partitions = grown(this.partitions, new Uint16Array(this.capacity));
      this.hits = grown(this.hits, new Uint8Array(this.capacity));
      this.versionWalls = grown(this.versionWalls, new Float64Array(this.capacity));
      this.versionRest = grown(this.versionRest, new Uint32Array(this.capacity * 2));
      this.nextInPartition = grown(this.nextInPartition, new Uint32Array(this.capacity));
      this.prevInPartition = grown(this.prevInPartition, new Uint32Array(this.capacity));
    }
    return this.next++;
  }
}

function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(old: T, bigger: T): T {
  bigger.set(old as never);
  return bigger;
}
