/**
 * The per-node storage engine: one instance shared by every partition actor on a node.
 *
 * Layout, chosen for density and for few cache misses per read (docs/STORE.md has the
 * measurements): an open-addressing index from key to slot (key-index.ts), per-slot metadata in
 * one 32-byte typed-array row, value bytes in a slab arena (value-arena.ts). Nothing is allocated
 * per entry except the key string.
 *
 * Memory: every entry is charged `entryCost(key, valueLength)` bytes (key, value chunk and a fixed
 * per-entry overhead measured for this layout), and the engine evicts before the total exceeds
 * `maxMemory`. Time: the engine reads the injected Clock and owns no timers; the owner calls
 * `tick()` periodically for bounded active expiry and hot-key windows. Reads never return an
 * expired entry, whether or not a tick has reclaimed it yet.
 */
import type { Clock, Random } from '../runtime/env.ts';
import { unitHashString } from '../protocol/hash.ts';
import { AccessRecorder } from './analytics.ts';
import type { AccessAnalytics, AnalyticsOptions } from './analytics.ts';
import { HotKeyTracker } from './hot-keys.ts';
import { KeyIndex, isLatin1, keyHash } from './key-index.ts';
import type { HotKey, HotKeyOptions } from './hot-keys.ts';
import { PartitionTable, emptyCounters } from './partitions.ts';
import type { PartitionCounters } from './partitions.ts';
import { LfuPolicy } from './policy-lfu.ts';
import { LruPolicy } from './policy-lru.ts';
import { NoEvictionPolicy } from './policy-noeviction.ts';
import { WTinyLfuPolicy } from './policy-wtinylfu.ts';
import type { WindowAdaptation } from './policy-wtinylfu.ts';
import { POLICY_NAMES } from './policy.ts';
import type { EvictionPolicy, PolicyHost, PolicyName } from './policy.ts';
import { SeededRandom } from '../runtime/seeded-random.ts';
import { NO_DEADLINE as WHEEL_NO_DEADLINE, TimerWheel } from './timer-wheel.ts';
import type { DeadlineColumn } from './timer-wheel.ts';
import { ValueArena, chunkBytes } from './value-arena.ts';

/**
 * Bytes charged per entry on top of its key and value chunk: the typed-array columns and the key
 * index (with doubling slack) and the slot array's pointer. Measured with `bench/store/memory.ts`
 * at 1M entries when the index was a Map (it is smaller now; the charge was kept, since every
 * simulator seed's evictions depend on it); see docs/STORE.md.
 */
export const ENTRY_OVERHEAD_BYTES = 160;

/** V8's header on a sequential string (map, hash, length). */
const STRING_HEADER_BYTES = 16;

/** Store.entryCost: the bytes an entry of this key and value length is charged in any store. */
export function entryCost(key: string, valueLength: number): number {
  const keyBytes = STRING_HEADER_BYTES + (((isLatin1(key) ? key.length : key.length * 2) + 7) & ~7);
  return ENTRY_OVERHEAD_BYTES + keyBytes + chunkBytes(valueLength);
}

/** Default cap on entries expired per `tick()`, so a mass expiry is spread over many ticks. */
export const DEFAULT_MAX_EXPIRATIONS_PER_TICK = 2000;
/** Default seed for the store's own random stream when none is injected. */
export const DEFAULT_STORE_SEED = 0x5eed;
const INITIAL_SLOTS = 1024;
/**
 * A full store grows its per-slot tables by an eighth. They cost 32 bytes a slot (rows and the
 * partition lists' links; 40 with deadlines), and doubling left a store just past a power of two
 * up to 32 bytes of empty slots per entry (bench:store, 300k entries: 228 bytes per entry, 199 at
 * 1M; docs/STORE.md, "Memory at several sizes"); an eighth leaves at most 4. The price is paid
 * while a store first fills: each slot goes to a fresh buffer about nine times instead of twice
 * (bench/store/fill-ab.ts: 1M new keys into an empty store 1.26-1.28x doubling's time, 300k
 * 1.07x; a quarter, 1.17x at 1M). A full store reuses freed slots and never grows.
 */
const SLOT_GROWTH = 1.125;

/*
 * Per-slot rows. A cache hit needs the entry's deadline, partition, key hash (for the frequency
 * sketch and the key index) and value handle and length, and W-TinyLFU relinks the entry in its
 * queue and rewrites its byte of state; kept in separate columns they cost a cache miss each on a
 * large store, which was most of a hit's time. One row, read through a Uint32Array and a
 * Float64Array over the same buffer (and by the policy through its own views, `PolicyRows`),
 * puts them in one cache line (two for a quarter of narrow rows, which straddle one): 24 bytes
 * (six words) while no entry has ever had a deadline, as in most caches, and 32 bytes (the
 * deadline as a double in words 6-7) from the first deadline on (`widenRows`, once; Redis too
 * keeps expiry only for keys that have one). An entry's accounted cost is not kept: `costOf`
 * derives it from the key and the value length, as `entryCost` charged it.
 */
const NARROW_ROW_WORDS = 6;
const WIDE_ROW_WORDS = 8;
/** 32-bit word offsets in a row. */
const HASH = 0;
const HANDLE = 1;
const LENGTH = 2;
/** The partition's dense index in the low 24 bits (PARTITION_MASK); the policy's byte above them (POLICY_BYTE). */
const PARTITION = 3;
/** The policy's list links, next and previous (PolicyRows.linkWord). */
const LINKS = 4;
/** 64-bit float offset of the deadline in a wide row (words 6-7). */
const DEADLINE = 3;
const PARTITION_MASK = 0xffffff;
/** Byte offset in a row of the PARTITION word's top byte, whichever the platform's byte order. */
const POLICY_BYTE = PARTITION * 4 + (new Uint8Array(new Uint32Array([0xff000000]).buffer)[3] === 0xff ? 3 : 0);
/** Slots 0-2 never hold an entry: their rows hold W-TinyLFU's three list sentinels (PolicyRows.reservedSlots). */
const RESERVED_SLOTS = 3;
/** The wheel's NO_DEADLINE as a private binding: an imported one is a module cell, loaded on every get (see charCodeAt in key-index.ts). */
const NO_DEADLINE = WHEEL_NO_DEADLINE;

/** Why an entry left: `handoff` is a partition dropped after its records went to their new owner (dropPartition), not a client's delete. */
export type RemovalCause = 'size' | 'expired' | 'explicit' | 'handoff';

export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
}

/** Thrown when the store is changed from inside a `forEachInPartition` callback. */
export class ConcurrentModificationError extends Error {
  override readonly name = 'ConcurrentModificationError';
}

export interface StoreOptions {
  /** Memory budget in bytes (the daemon's --max-memory). At least one of maxMemory/maxEntries. */
  maxMemory?: number;
  /**
   * Cap on the number of entries. With no maxMemory, eviction counts entries instead of bytes
   * (every entry weighs 1), which is how the trace tool replays traces "by entry count".
   */
  maxEntries?: number;
  /** Eviction policy; default 'wtinylfu'. */
  policy?: PolicyName;
  /** Wall time for absolute expiry; monotonic time for hot-key windows. */
  clock: Clock;
  /** Random stream for W-TinyLFU's random admission; default SeededRandom.mulberry32(seed). */
  random?: Random;
  seed?: number;
  /** Entries expired per tick at most (default DEFAULT_MAX_EXPIRATIONS_PER_TICK). */
  maxExpirationsPerTick?: number;
  /** Hot-key tracking options, or false to switch it off. */
  hotKeys?: HotKeyOptions | false;
  /** Access analytics options (analytics.ts, `shoal stats`), or false to switch them off. */
  analytics?: AnalyticsOptions | false;
  /** W-TinyLFU tuning (ignored by other policies). */
  windowFraction?: number;
  windowAdaptation?: WindowAdaptation;
  doorkeeper?: boolean;
  climberSampleFactor?: number;
}

export interface SetOptions {
  /** The ring partition the key belongs to (for per-partition enumeration and stats). */
  partition: number;
  /** Absolute expiry, wall-clock ms since the epoch; omitted means no expiry. */
  expiresAtMs?: number;
  /**
   * What the write means to its client, for access analytics, when the stored bytes say otherwise
   * (replication stores records: a header before the value, deadlines with a grace, tombstones).
   * Omitted: the value's length, the time left to `expiresAtMs`, not a delete.
   */
  meaning?: { valueLength: number; ttlMs: number | undefined; tombstone: boolean };
  /**
   * True for a copy of a record another replica already took from its client (anti-entropy,
   * catch-up, handoff, read repair, a read-modify-write claim, a record read back from the disk
   * tier): stored like any other, but neither counted as a write in the access analytics nor as an
   * access by the hot-key tracker, so a restart's catch-up or a drain shows no traffic that no
   * client sent (`shoal stats`, `shoal hotkeys`).
   */
  copy?: boolean;
}

export interface StoreStats {
  hits: number;
  misses: number;
  evictions: { size: number; expired: number; explicit: number; handoff: number };
  /** Entries removed because their TTL passed (lazily on read or actively on tick). */
  expirations: number;
  /** Of `expirations`, those reclaimed by `tick()`. */
  activeExpirations: number;
  /** Sets refused because the entry alone is larger than the budget. */
  refusedTooLarge: number;
  /** Sets refused because the store was full under the `noeviction` policy (nothing changed; Redis answers OOM). */
  refusedOverBudget?: number;
  entries: number;
  /** Accounted bytes (sum of entryCost), the figure held under maxMemory. */
  bytes: number;
  maxMemory: number;
  /** Bytes of slab pages reserved for values (>= the values' share of `bytes`). */
  arenaReservedBytes: number;
  policy: PolicyName;
  policyDetails: Record<string, number>;
}

export interface TickResult {
  /** Entries expired by this tick. */
  expired: number;
  /** True if more expired entries wait for the next tick. */
  backlog: boolean;
}

/** A store sized by bytes guesses an entry per this many bytes of budget, until it is full and holds its entries... */
export const GUESSED_ENTRY_BYTES = 256;
/** ...and at most this many entries (reached at 16 MiB; the sketch grows past it with the entries). */
export const GUESSED_ENTRIES_CAP = 1 << 16;

/** The sketch's starting size for a budget (GUESSED_ENTRY_BYTES, GUESSED_ENTRIES_CAP). */
export function expectedEntriesFor(maxMemory: number): number {
  return Math.min(GUESSED_ENTRIES_CAP, Math.ceil(maxMemory / GUESSED_ENTRY_BYTES));
}

/** A packed array of `n` undefined slots (see Store.keys). */
function undefinedSlots(n: number): undefined[] {
  return Array.from({ length: n }, () => undefined);
}

function isPositiveOrAbsent(n: number | undefined): boolean {
  return n === undefined || (Number.isFinite(n) && n > 0);
}

export class Store {
  /** The memory budget in bytes (Infinity when counting entries); `setMaxMemory` changes it. */
  private budget: number;
  readonly maxEntries: number;
  private currentPolicy: PolicyName;
  private readonly clock: Clock;
  private readonly countEntries: boolean;
  private readonly index: KeyIndex;
  /**
   * One per slot of capacity, undefined in the reserved, free and never-used ones. Built with
   * Array.from and grown by concat, which give a packed array of exactly that length: `new Array(n)`
   * is a holey array, and every load from it checks for holes; and `push` gave the array half again
   * its length each time it filled, up to 4 bytes an entry beyond the slots (docs/STORE.md,
   * "Memory at several sizes").
   */
  private keys: (string | undefined)[] = undefinedSlots(INITIAL_SLOTS);
  /** Words per row: NARROW_ROW_WORDS until the first deadline, then WIDE_ROW_WORDS. */
  private rowWords = NARROW_ROW_WORDS;
  /** Per-slot rows (see NARROW_ROW_WORDS): hash, value handle, value length, partition index as words... */
  private rows: Uint32Array;
  /** ...and, in wide rows, the deadline as a double over the same buffer. */
  private rowDoubles: Float64Array;
  private capacity: number;
  private highWater = RESERVED_SLOTS;
  /** Freed slots form a stack threaded through their rows' HANDLE words (no array of its own); -1 when empty. */
  private freeHead = -1;
  private readonly arena = new ValueArena();
  private readonly wheel: TimerWheel;
  private readonly partitions: PartitionTable;
  private policy: EvictionPolicy;
  private readonly policyHost: PolicyHost;
  private readonly policyOptions: StoreOptions;
  /** The sketch's starting size for a policy built now (`createPolicy`): from the budget, or maxEntries. */
  private expectedEntries: number;
  private readonly hot: HotKeyTracker | undefined;
  private readonly analytics: AccessRecorder | undefined;
  private evictionListener: ((key: string, value: Uint8Array, partition: number) => void) | null = null;
  private readonly maxExpirationsPerTick: number;
  private bytes = 0;
  /** Bytes the node spends outside the store on its behalf (`reserveBytes`), held under maxMemory with `bytes`. */
  private reserved = 0;
  /** What `reserveBytes` last asked for, before the cap of half the budget (so a resize can cap it again). */
  private reserveAsked = 0;
  private count = 0;
  private iterating = false;
  private readonly counters = {
    hits: 0,
    misses: 0,
    evictedSize: 0,
    evictedExpired: 0,
    evictedExplicit: 0,
    evictedHandoff: 0,
    activeExpirations: 0,
    refusedTooLarge: 0,
    refusedOverBudget: 0,
  };

  constructor(options: StoreOptions) {
    const { maxMemory, maxEntries } = options;
    if (maxMemory === undefined && maxEntries === undefined) throw new StoreConfigError('give maxMemory (bytes) or maxEntries');
    if (!isPositiveOrAbsent(maxMemory)) throw new StoreConfigError(`maxMemory must be a positive number of bytes, got ${maxMemory}`);
    if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries > 0)) throw new StoreConfigError(`maxEntries must be a positive integer, got ${maxEntries}`);
    const policy = options.policy ?? 'wtinylfu';
    if (!POLICY_NAMES.includes(policy)) throw new StoreConfigError(`unknown policy "${String(policy)}"; use one of ${POLICY_NAMES.join(', ')}`);
    this.budget = maxMemory ?? Number.POSITIVE_INFINITY;
    this.maxEntries = maxEntries ?? Number.POSITIVE_INFINITY;
    this.countEntries = maxMemory === undefined;
    this.currentPolicy = policy;
    this.clock = options.clock;
    this.maxExpirationsPerTick = options.maxExpirationsPerTick ?? DEFAULT_MAX_EXPIRATIONS_PER_TICK;
    this.capacity = INITIAL_SLOTS;
    const rowBuffer = new ArrayBuffer(INITIAL_SLOTS * NARROW_ROW_WORDS * 4);
    this.rows = new Uint32Array(rowBuffer);
    this.rowDoubles = new Float64Array(rowBuffer);
    this.index = new KeyIndex(this.keys);
    const deadlines: DeadlineColumn = {
      get: (slot) => (this.rowWords === NARROW_ROW_WORDS ? NO_DEADLINE : this.rowDoubles[slot * (WIDE_ROW_WORDS / 2) + DEADLINE]!),
      set: (slot, deadlineMs) => {
        if (this.rowWords === NARROW_ROW_WORDS) {
          if (deadlineMs === NO_DEADLINE) return;
          this.widenRows();
        }
        this.rowDoubles[slot * (WIDE_ROW_WORDS / 2) + DEADLINE] = deadlineMs;
      },
      // The rows are grown by `grow` below, before the wheel is told.
      grow: () => {},
    };
    this.wheel = new TimerWheel(this.clock.wallMs(), INITIAL_SLOTS, deadlines);
    this.partitions = new PartitionTable(INITIAL_SLOTS);
    this.hot = options.hotKeys === false ? undefined : new HotKeyTracker(options.hotKeys ?? {});
    this.analytics = options.analytics === false ? undefined : new AccessRecorder(options.analytics ?? {});
    this.analytics?.tick(this.clock.wallMs(), 0, 0);
    const host: PolicyHost = {
      // As an int32 (the same bits): a uint32 at or above 2^31 returned from a call that is not
      // inlined is boxed into a heap number, 16 bytes allocated on every get of half the keys.
      hashOf: (slot) => this.rows[slot * this.rowWords + HASH]! | 0,
      weightOf: (slot) => (this.countEntries ? 1 : this.costOf(slot)),
      overBudget: () => this.bytes + this.reserved > this.maxMemory || this.count > this.maxEntries,
      evictForSize: (slot) => this.removeSlot(slot, 'size'),
      rows: () => ({
        words: new Int32Array(this.rows.buffer),
        bytes: new Uint8Array(this.rows.buffer),
        stride: this.rowWords,
        linkWord: LINKS,
        policyByte: POLICY_BYTE,
        reservedSlots: RESERVED_SLOTS,
      }),
    };
    this.policyHost = host;
    this.policyOptions = options;
    this.expectedEntries = maxEntries ?? expectedEntriesFor(this.budget);
    this.policy = this.createPolicy(policy);
  }

  /** The memory budget in bytes (Infinity for a store that counts entries): --max-memory, or what `setMaxMemory` set since. */
  get maxMemory(): number {
    return this.budget;
  }

  /**
   * Changes the memory budget of a running store (CONFIG SET maxmemory). A smaller budget is
   * enforced at once: the policy in force evicts down to it (through the eviction listener, as any
   * eviction), except `noeviction`, which deletes nothing and refuses writes until the store is
   * back under it. A larger one evicts nothing. What follows the budget: the policy's regions
   * (W-TinyLFU keeps the window share it had), the cap on the disk tier's reserve (half the
   * budget), and the sketch size of a policy built later (`setPolicy`). What does not: the running
   * W-TinyLFU's sketch, which grows with the entry count by itself, and its window tuner, sized
   * from the budget at start (docs/STORE.md, "Resizing").
   */
  setMaxMemory(maxMemory: number): void {
    this.checkNotIterating();
    if (this.countEntries) throw new StoreConfigError('this store counts entries (maxEntries), not bytes: it has no memory budget to change');
    if (!(Number.isSafeInteger(maxMemory) && maxMemory > 0)) throw new StoreConfigError(`maxMemory must be a positive whole number of bytes, got ${maxMemory}`);
    this.budget = maxMemory;
    this.expectedEntries = expectedEntriesFor(maxMemory);
    this.reserveBytes(this.reserveAsked);
    this.policy.setMaximum(maxMemory);
    if (this.bytes + this.reserved > this.budget) this.policy.evict();
  }

  /** The eviction policy in force (`setPolicy` changes it). */
  get policyName(): PolicyName {
    return this.currentPolicy;
  }

  /**
   * Switches the eviction policy of a running store (CONFIG SET maxmemory-policy). The new policy
   * starts without history: it is told of every held entry, in slot order, as if just inserted, so
   * recency and frequency are learnt again from the traffic that follows. Nothing is evicted by
   * the switch itself (every policy keeps the store within the same budget).
   */
  setPolicy(name: PolicyName): void {
    this.checkNotIterating();
    if (!POLICY_NAMES.includes(name)) throw new StoreConfigError(`unknown policy "${String(name)}"; use one of ${POLICY_NAMES.join(', ')}`);
    if (name === this.currentPolicy) return;
    const policy = this.createPolicy(name);
    this.policy = policy;
    this.currentPolicy = name;
    for (let slot = 0; slot < this.highWater; slot++) if (this.keys[slot] !== undefined) policy.onInsert(slot);
  }

  private createPolicy(name: PolicyName): EvictionPolicy {
    const policy = this.newPolicy(name, this.policyHost, this.policyOptions, this.expectedEntries);
    policy.grow(this.capacity);
    policy.setMaximum(this.countEntries ? this.maxEntries : this.maxMemory);
    return policy;
  }

  private newPolicy(name: PolicyName, host: PolicyHost, options: StoreOptions, expectedEntries: number): EvictionPolicy {
    switch (name) {
      case 'lru':
        return new LruPolicy(host, INITIAL_SLOTS);
      case 'lfu':
        return new LfuPolicy(host, INITIAL_SLOTS);
      case 'noeviction':
        return new NoEvictionPolicy();
      case 'wtinylfu':
        return new WTinyLfuPolicy(host, INITIAL_SLOTS, {
          random: options.random ?? SeededRandom.mulberry32(options.seed ?? DEFAULT_STORE_SEED),
          expectedEntries,
          ...(options.windowFraction === undefined ? {} : { windowFraction: options.windowFraction }),
          ...(options.windowAdaptation === undefined ? {} : { adaptation: options.windowAdaptation }),
          ...(options.doorkeeper === undefined ? {} : { doorkeeper: options.doorkeeper }),
          ...(options.climberSampleFactor === undefined ? {} : { climberSampleFactor: options.climberSampleFactor }),
        });
    }
  }

  /** Slots the store's per-slot tables have room for (entries held plus the reserved and freed slots, and the growth's slack). */
  get slotCapacity(): number {
    return this.capacity;
  }

  /** Number of entries held (expired ones not yet reclaimed included). */
  get size(): number {
    return this.count;
  }

  /** Accounted bytes held. */
  get usedBytes(): number {
    return this.bytes;
  }

  /** What `reserveBytes` holds back for the node's use outside the store (after its cap of half the budget). */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** What every entry costs by `entryCost`, summed afresh (the byte-accounting assertion compares it with `usedBytes`). */
  recountBytes(): number {
    let sum = 0;
    for (let slot = 0; slot < this.highWater; slot++) {
      const key = this.keys[slot];
      if (key !== undefined) sum += this.entryCost(key, this.rows[slot * this.rowWords + LENGTH]!);
    }
    return sum;
  }

  /**
   * The bytes an entry is charged: its key as V8 stores it, its value's slab chunk and the fixed
   * per-entry overhead. An entry costing more than maxMemory can never be stored.
   */
  entryCost(key: string, valueLength: number): number {
    return entryCost(key, valueLength);
  }

  /** The value stored under `key` (a copy the caller may keep), or undefined. Counts a hit or miss. */
  get(key: string, partition?: number): Uint8Array | undefined {
    const slot = this.readSlot(key, partition);
    return slot === -1 ? undefined : this.arena.copy(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!);
  }

  /**
   * Like `get`, but returns a zero-copy view into the store's memory. The view is valid only until
   * the next call that changes the store (set, delete, tick, eviction...): use it to encode a
   * reply immediately, never keep it.
   */
  getView(key: string, partition?: number): Uint8Array | undefined {
    const slot = this.readSlot(key, partition);
    return slot === -1 ? undefined : this.arena.view(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!);
  }

  /**
   * A `get` found the entry and counted a hit, but its reader got no value: replication keeps a
   * delete's tombstone and an expired value through the tombstone grace, and answers its client
   * nil. Moves that hit to the misses (the store's and the partition's counters, which `shoal
   * stats`' hit ratio and shoal_store_* read), so they count what clients saw. A call of its own,
   * made only for such reads, right after their `get` of `key`: every get would otherwise pay for
   * the check (issue 19's speed). The access analytics' prefix table moves it too, if it sampled it.
   */
  recountAsMiss(partition: number, key: string): void {
    const index = this.partitions.lookup(partition);
    const counters = index === undefined ? undefined : this.partitions.counters[index];
    if (counters === undefined || counters.hits === 0 || this.counters.hits === 0) return;
    this.counters.hits--;
    this.counters.misses++;
    counters.hits--;
    counters.misses++;
    this.analytics?.recountAsMiss(key);
  }

  /** The value without counting a hit or touching recency/frequency; still never an expired one. */
  peek(key: string): Uint8Array | undefined {
    const slot = this.slotOf(key);
    if (slot === -1 || this.isExpired(slot)) return undefined;
    return this.arena.copy(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!);
  }

  /**
   * `peek` without the copy: a zero-copy view, valid only until the next call that changes the
   * store (as with `getView`). For reading a header on a hot path, never for keeping.
   */
  peekView(key: string): Uint8Array | undefined {
    const slot = this.slotOf(key);
    if (slot === -1 || this.isExpired(slot)) return undefined;
    return this.arena.view(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!);
  }

  /**
   * How often `key` has been used, as the eviction policy counts it (`EvictionPolicy.accessFrequency`:
   * W-TinyLFU's sketch estimate, LFU's exact count), without counting a use; null under a policy
   * that counts no frequency (lru, noeviction).
   */
  accessFrequency(key: string): number | null {
    if (this.policy.accessFrequency === undefined) return null;
    const slot = this.slotOf(key);
    // The policies' hash of a key (PolicyHost.hashOf), which is not the index's.
    return this.policy.accessFrequency(slot === -1 || this.isExpired(slot) ? -1 : slot, unitHashString(key) | 0);
  }

  /** Whether a live entry exists, without touching recency/frequency or stats. */
  has(key: string): boolean {
    const slot = this.slotOf(key);
    return slot !== -1 && !this.isExpired(slot);
  }

  /** The absolute expiry of a live entry (undefined if none or absent). */
  expiresAt(key: string): number | undefined {
    const slot = this.slotOf(key);
    if (slot === -1 || this.isExpired(slot)) return undefined;
    const deadline = this.wheel.deadline(slot);
    return deadline === NO_DEADLINE ? undefined : deadline;
  }

  /**
   * Stores a copy of `value` under `key`. Returns whether the entry is in the store afterwards:
   * false if it is already expired, if it is larger than the whole budget (see `entryCost`; such a
   * set is refused and counted in `refusedTooLarge`), or if the policy declined to admit it. In
   * those cases any previous value under `key` is gone too, so a refused write can never leave an
   * older value visible. Under `noeviction` a write that would take the store over its budget is
   * refused before anything changes (`refusedOverBudget`): the older value stays, as after
   * Redis's OOM error.
   */
  set(key: string, value: Uint8Array, options: SetOptions): boolean {
    this.checkNotIterating();
    const deadline = options.expiresAtMs ?? NO_DEADLINE;
    const hash = keyHash(key);
    const existing = this.index.findHashed(key, hash);
    const ttlMs = deadline === NO_DEADLINE ? -1 : Math.max(0, deadline - this.clock.wallMs());
    const copy = options.copy === true;
    if (this.analytics && !copy) this.recordWrite(this.analytics, key, value.length, ttlMs, options.meaning);
    if (ttlMs === 0) {
      if (existing !== -1) this.removeSlot(existing, 'expired');
      return false;
    }
    const cost = this.entryCost(key, value.length);
    if (cost > this.maxMemory) {
      this.counters.refusedTooLarge++;
      if (existing !== -1) this.removeSlot(existing, 'explicit');
      return false;
    }
    if (this.currentPolicy === 'noeviction' && this.wouldExceedBudget(existing, cost)) {
      // Redis's noeviction: the write is refused (its OOM error) and the store is left as it was.
      this.counters.refusedOverBudget++;
      return false;
    }
    let slot: number;
    if (existing !== -1) {
      slot = existing;
      this.replaceValue(slot, value, cost, options.partition);
      this.policy.onUpdate(slot);
    } else {
      slot = this.insert(key, hash, value, cost, options.partition);
    }
    if (deadline !== NO_DEADLINE || this.wheel.deadline(slot) !== NO_DEADLINE) this.wheel.schedule(slot, deadline);
    if (!copy) this.hot?.record(key, hash);
    if (this.bytes + this.reserved > this.maxMemory || this.count > this.maxEntries) {
      this.policy.evict();
      if (this.keys[slot] !== key) {
        if (this.analytics) this.analytics.admissionRejected++;
        return false;
      }
    }
    return true;
  }

  /**
   * A read wanted `key`, which the store does not hold, and a copy may be offered for it
   * (admitsCopy): the policy counts the use, so a key read again and again wins its place.
   * Replication calls it for a key it may have evicted and forgotten (ReplicaHost.answerNotHeld).
   */
  noteWanted(key: string): void {
    this.policy.noteWanted?.(unitHashString(key) | 0);
  }

  /**
   * Whether a copy of `key` (not held), `valueLength` bytes of value, would be kept if stored now:
   * it fits without evicting anything, or the policy would keep it over the entry it would evict
   * (EvictionPolicy.keepsOverNextVictim; a policy without an admission duel keeps every newcomer).
   * Counts no use of the key (the read that asked for it did: noteWanted). Replication asks before
   * it takes a read repair of a key it may have evicted and forgotten (PartitionReplica.declinesRepair).
   */
  admitsCopy(key: string, valueLength: number): boolean {
    if (!this.wouldExceedBudget(-1, this.entryCost(key, valueLength))) return true;
    // The policies' hash of a key (PolicyHost.hashOf), as in accessFrequency.
    return this.policy.keepsOverNextVictim?.(unitHashString(key) | 0) ?? true;
  }

  /**
   * Whether `set` would refuse these writes (distinct keys, values of these lengths) for the
   * budget, changing nothing: one is larger than the whole budget, or, under `noeviction`, all of
   * them together would take the store past it. Read-modify-write asks before writing anything,
   * so a multi-key result is refused whole (Redis's OOM) rather than half applied.
   */
  wouldRefuse(keys: readonly string[], lengths: readonly number[]): boolean {
    let added = 0;
    let entries = 0;
    for (let i = 0; i < keys.length; i++) {
      const cost = this.entryCost(keys[i]!, lengths[i]!);
      if (cost > this.maxMemory) return true;
      const existing = this.slotOf(keys[i]!);
      added += existing === -1 ? cost : cost - this.costOf(existing);
      if (existing === -1) entries++;
    }
    if (this.currentPolicy !== 'noeviction') return false;
    // Results that add nothing are taken even over the budget (see wouldExceedBudget).
    return (added > 0 && this.bytes + this.reserved + added > this.maxMemory) || this.count + entries > this.maxEntries;
  }

  /**
   * Whether storing `cost` bytes under a key (held now in slot `existing`, or -1) would take the
   * store past its budget. A write that does not grow its entry never does: over the budget (after
   * a shrink, setMaxMemory) it brings the store back toward it, as replication's deletes do by
   * writing a tombstone smaller than the value (Redis's DEL runs over maxmemory too).
   */
  private wouldExceedBudget(existing: number, cost: number): boolean {
    if (existing === -1) return this.bytes + this.reserved + cost > this.maxMemory || this.count + 1 > this.maxEntries;
    const growth = cost - this.costOf(existing);
    return growth > 0 && this.bytes + this.reserved + growth > this.maxMemory;
  }

  /**
   * Counts `bytes` the node spends outside the store on its behalf (the disk tier's index) against
   * maxMemory: from its next write on, the store holds at most maxMemory minus them. At most half
   * the budget, so that memory keeps room for the hottest entries. Only records the figure (it is
   * called from inside eviction callbacks); the next write evicts.
   */
  reserveBytes(bytes: number): void {
    this.reserveAsked = bytes;
    this.reserved = Math.min(Math.max(0, bytes), this.maxMemory / 2);
  }

  private recordWrite(analytics: AccessRecorder, key: string, length: number, ttlMs: number, meaning: SetOptions['meaning']): void {
    if (meaning === undefined) analytics.write(key, length, ttlMs);
    else if (meaning.tombstone) analytics.remove(key);
    else analytics.write(key, meaning.valueLength, meaning.ttlMs === undefined ? -1 : Math.max(0, meaning.ttlMs));
  }

  /** Removes `key`; returns whether a live entry was there. */
  delete(key: string): boolean {
    this.checkNotIterating();
    this.analytics?.remove(key);
    const slot = this.slotOf(key);
    if (slot === -1) return false;
    const live = !this.isExpired(slot);
    this.removeSlot(slot, live ? 'explicit' : 'expired');
    return live;
  }

  /** Snapshot of the keys currently stored for a partition (most recently added first). */
  partitionKeys(partition: number): string[] {
    const index = this.partitions.lookup(partition);
    const out: string[] = [];
    if (index === undefined) return out;
    for (let slot = this.partitions.first(index); slot !== -1; slot = this.partitions.after(slot)) {
      if (!this.isExpired(slot)) out.push(this.keys[slot]!);
    }
    return out;
  }

  /**
   * Calls `fn` for every live entry of a partition with a zero-copy view of its value, touching
   * only that partition's entries (for handoff streaming). The store must not be changed from
   * inside `fn` (ConcurrentModificationError); collect keys and act afterwards.
   */
  forEachInPartition(partition: number, fn: (key: string, value: Uint8Array, expiresAtMs: number | undefined) => void): void {
    const index = this.partitions.lookup(partition);
    if (index === undefined) return;
    this.iterating = true;
    try {
      for (let slot = this.partitions.first(index); slot !== -1; slot = this.partitions.after(slot)) {
        if (this.isExpired(slot)) continue;
        const deadline = this.wheel.deadline(slot);
        fn(this.keys[slot]!, this.arena.view(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!), deadline === NO_DEADLINE ? undefined : deadline);
      }
    } finally {
      this.iterating = false;
    }
  }

  /**
   * Calls `fn` for every live entry of a partition whose deadline is in (`after`, `upTo`], with a
   * zero-copy view of its value, and returns the earliest deadline after `upTo` among the
   * partition's live entries (Infinity: none), and how many entries it walked (the partition's
   * whole list). Only the matching entries' values are looked at, so a sweep for expiries costs a
   * compare per entry. As forEachInPartition, `fn` must not change the store.
   */
  forEachDeadlineInPartition(partition: number, after: number, upTo: number, fn: (key: string, value: Uint8Array) => void): { next: number; walked: number } {
    const index = this.partitions.lookup(partition);
    if (index === undefined) return { next: Infinity, walked: 0 };
    let next = Infinity;
    let walked = 0;
    this.iterating = true;
    try {
      for (let slot = this.partitions.first(index); slot !== -1; slot = this.partitions.after(slot)) {
        walked++;
        const deadline = this.wheel.deadline(slot);
        if (deadline === NO_DEADLINE || deadline <= after) continue;
        if (deadline > upTo) {
          if (deadline < next) next = deadline;
          continue;
        }
        if (this.isExpired(slot)) continue;
        fn(this.keys[slot]!, this.arena.view(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!));
      }
    } finally {
      this.iterating = false;
    }
    return { next, walked };
  }

  /**
   * Removes every entry of a partition (its owner changed and the records were handed off), counted
   * as `handoff` removals, apart from deletes: a drain or a join must not read as a burst of DELs.
   * Returns how many.
   */
  dropPartition(partition: number): number {
    this.checkNotIterating();
    const index = this.partitions.lookup(partition);
    if (index === undefined) return 0;
    let removed = 0;
    for (let slot = this.partitions.first(index); slot !== -1; slot = this.partitions.first(index)) {
      this.removeSlot(slot, 'handoff');
      removed++;
    }
    return removed;
  }

  /**
   * Periodic maintenance, called by the owner through its Env timers (say every 100 ms): reclaims
   * at most `maxExpirationsPerTick` expired entries and advances the hot-key window.
   */
  tick(): TickResult {
    this.checkNotIterating();
    this.wheel.advance(this.clock.wallMs());
    let expired = 0;
    while (expired < this.maxExpirationsPerTick) {
      const slot = this.wheel.peekDue();
      if (slot === -1) break;
      this.removeSlot(slot, 'expired');
      this.counters.activeExpirations++;
      expired++;
    }
    this.hot?.tick(this.clock.monoMs());
    this.analytics?.tick(this.clock.wallMs(), this.counters.hits, this.counters.misses);
    return { expired, backlog: this.wheel.peekDue() !== -1 };
  }

  /** The hottest keys on this node by recent traffic (Space-Saving estimates). */
  hotKeys(n?: number): HotKey[] {
    return this.hot ? this.hot.top(n) : [];
  }

  /** Access analytics since start (`shoal stats`), or null when switched off. */
  analyticsSnapshot(): AccessAnalytics | null {
    return this.analytics ? this.analytics.snapshot({ ...this.counters }) : null;
  }

  stats(): StoreStats {
    const c = this.counters;
    return {
      hits: c.hits,
      misses: c.misses,
      evictions: { size: c.evictedSize, expired: c.evictedExpired, explicit: c.evictedExplicit, handoff: c.evictedHandoff },
      expirations: c.evictedExpired,
      activeExpirations: c.activeExpirations,
      refusedTooLarge: c.refusedTooLarge,
      refusedOverBudget: c.refusedOverBudget,
      entries: this.count,
      bytes: this.bytes,
      maxMemory: this.maxMemory,
      arenaReservedBytes: this.arena.reservedBytes,
      policy: this.currentPolicy,
      policyDetails: this.policy.describe(),
    };
  }

  /** Counters for one partition (zeros if it never held anything). */
  partitionStats(partition: number): PartitionCounters {
    const index = this.partitions.lookup(partition);
    return index === undefined ? emptyCounters() : { ...this.partitions.counters[index]! };
  }

  /** Counters for every partition that has been used. */
  allPartitionStats(): Map<number, PartitionCounters> {
    const out = new Map<number, PartitionCounters>();
    for (const id of this.partitions.partitionIds()) out.set(id, this.partitionStats(id));
    return out;
  }

  /** What a held slot is charged: `entryCost` of its key and value length, as when it was stored. */
  private costOf(slot: number): number {
    return this.entryCost(this.keys[slot]!, this.rows[slot * this.rowWords + LENGTH]!);
  }

  /** The slot holding `key`, expired or not, or -1. */
  private slotOf(key: string): number {
    return this.index.find(key);
  }

  private readSlot(key: string, partition: number | undefined): number {
    const hash = keyHash(key);
    const slot = this.index.findHashed(key, hash);
    if (slot === -1) {
      this.recordMiss(key, partition);
      return -1;
    }
    if (this.isExpired(slot)) {
      this.removeSlot(slot, 'expired');
      this.recordMiss(key, partition);
      return -1;
    }
    // Start the value's cache miss now, so it overlaps the policy's work below (see ValueArena.touch).
    this.arena.touch(this.rows[slot * this.rowWords + HANDLE]!, this.rows[slot * this.rowWords + LENGTH]!);
    this.counters.hits++;
    this.partitions.counters[this.rows[slot * this.rowWords + PARTITION]! & PARTITION_MASK]!.hits++;
    this.policy.onAccess(slot);
    this.hot?.record(key, hash);
    this.analytics?.read(key, true);
    return slot;
  }

  private recordMiss(key: string, partition: number | undefined): void {
    this.counters.misses++;
    this.analytics?.read(key, false);
    if (partition !== undefined) this.partitions.counters[this.partitions.indexFor(partition)]!.misses++;
    this.policy.onMiss();
  }

  private isExpired(slot: number): boolean {
    if (this.rowWords === NARROW_ROW_WORDS) return false;
    const deadline = this.rowDoubles[slot * (WIDE_ROW_WORDS / 2) + DEADLINE]!;
    return deadline !== NO_DEADLINE && deadline <= this.clock.wallMs();
  }

  /** Stores a new entry for `key`, whose keyHash is `hash`. */
  private insert(key: string, hash: number, value: Uint8Array, cost: number, partition: number): number {
    const slot = this.allocateSlot();
    this.keys[slot] = key;
    const row = slot * this.rowWords;
    this.rows[row + HASH] = unitHashString(key);
    this.rows[row + HANDLE] = this.arena.store(value);
    this.rows[row + LENGTH] = value.length;
    const pIndex = this.partitions.indexFor(partition);
    this.rows[row + PARTITION] = pIndex;
    this.partitions.link(pIndex, slot);
    const counters = this.partitions.counters[pIndex]!;
    counters.entries++;
    counters.bytes += cost;
    this.index.insert(slot, key, hash);
    this.bytes += cost;
    this.count++;
    this.policy.onInsert(slot);
    return slot;
  }

  private replaceValue(slot: number, value: Uint8Array, cost: number, partition: number): void {
    const row = slot * this.rowWords;
    const oldCost = this.costOf(slot);
    this.arena.release(this.rows[row + HANDLE]!, this.rows[row + LENGTH]!);
    this.rows[row + HANDLE] = this.arena.store(value);
    this.rows[row + LENGTH] = value.length;
    const oldIndex = this.rows[row + PARTITION]! & PARTITION_MASK;
    let counters = this.partitions.counters[oldIndex]!;
    const pIndex = this.partitions.indexFor(partition);
    if (pIndex !== oldIndex) {
      counters.entries--;
      counters.bytes -= oldCost;
      this.partitions.unlink(oldIndex, slot);
      this.rows[row + PARTITION] = (this.rows[row + PARTITION]! & ~PARTITION_MASK) | pIndex;
      this.partitions.link(pIndex, slot);
      counters = this.partitions.counters[pIndex]!;
      counters.entries++;
      counters.bytes += oldCost;
    }
    if (cost !== oldCost) {
      this.bytes += cost - oldCost;
      counters.bytes += cost - oldCost;
      if (!this.countEntries) this.policy.onReweigh(slot, oldCost);
    }
  }

  /**
   * Called for every entry removed to make room (including a new entry the policy declined to
   * admit), with a view of its value valid only during the call. Replication uses it to remember
   * what it lost (eviction-shadow.ts). One listener; a second call replaces it.
   */
  onEviction(listener: ((key: string, value: Uint8Array, partition: number) => void) | null): void {
    this.evictionListener = listener;
  }

  private removeSlot(slot: number, cause: RemovalCause): void {
    const key = this.keys[slot]!;
    if (cause === 'size' && this.evictionListener !== null) {
      const row = slot * this.rowWords;
      this.evictionListener(key, this.arena.view(this.rows[row + HANDLE]!, this.rows[row + LENGTH]!), this.partitions.idAt(this.rows[row + PARTITION]! & PARTITION_MASK));
    }
    this.index.remove(slot, key);
    this.policy.onRemove(slot);
    this.wheel.cancel(slot);
    const row = slot * this.rowWords;
    const pIndex = this.rows[row + PARTITION]! & PARTITION_MASK;
    this.partitions.unlink(pIndex, slot);
    this.arena.release(this.rows[row + HANDLE]!, this.rows[row + LENGTH]!);
    const cost = this.costOf(slot);
    const counters = this.partitions.counters[pIndex]!;
    counters.entries--;
    counters.bytes -= cost;
    this.bytes -= cost;
    this.count--;
    if (cause === 'size') {
      this.counters.evictedSize++;
      counters.evictedSize++;
    } else if (cause === 'expired') {
      this.counters.evictedExpired++;
      counters.evictedExpired++;
    } else if (cause === 'explicit') {
      this.counters.evictedExplicit++;
      counters.evictedExplicit++;
    } else {
      this.counters.evictedHandoff++;
      counters.evictedHandoff++;
    }
    this.keys[slot] = undefined;
    this.rows[row + HANDLE] = this.freeHead;
    this.freeHead = slot;
  }

  private allocateSlot(): number {
    if (this.freeHead !== -1) {
      const slot = this.freeHead;
      this.freeHead = this.rows[slot * this.rowWords + HANDLE]! | 0;
      return slot;
    }
    if (this.highWater === this.capacity) this.grow(Math.ceil(this.capacity * SLOT_GROWTH));
    return this.highWater++;
  }

  private grow(capacity: number): void {
    const rowBuffer = new ArrayBuffer(capacity * this.rowWords * 4);
    const rows = new Uint32Array(rowBuffer);
    rows.set(this.rows);
    this.rows = rows;
    this.rowDoubles = new Float64Array(rowBuffer);
    this.wheel.grow(capacity);
    this.partitions.grow(capacity);
    this.policy.grow(capacity);
    this.keys = this.keys.concat(undefinedSlots(capacity - this.capacity));
    this.index.setKeys(this.keys);
    this.capacity = capacity;
  }

  /** Moves every row to the wide layout, with room for a deadline (NO_DEADLINE, a zero, in each). */
  private widenRows(): void {
    const rows = new Uint32Array(this.capacity * WIDE_ROW_WORDS);
    // Every row, free ones too: the policy's links mark them unlinked.
    for (let slot = 0; slot < this.capacity; slot++) rows.set(this.rows.subarray(slot * NARROW_ROW_WORDS, (slot + 1) * NARROW_ROW_WORDS), slot * WIDE_ROW_WORDS);
    this.rows = rows;
    this.rowDoubles = new Float64Array(rows.buffer);
    this.rowWords = WIDE_ROW_WORDS;
    this.policy.grow(this.capacity);
  }

  private checkNotIterating(): void {
    if (this.iterating) throw new ConcurrentModificationError('the store was changed inside forEachInPartition; collect keys first, then change the store');
  }
}
