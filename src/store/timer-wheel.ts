/**
 * A hierarchical timer wheel for entry expiry (Varghese & Lauck 1987, as in Caffeine's TimerWheel
 * and the Linux kernel's timers), keyed by absolute wall-clock milliseconds.
 *
 * Four levels of 64 buckets each, with bucket widths of 2^10 ms (~1 s), 2^16 ms (~65 s),
 * 2^22 ms (~70 min) and 2^28 ms (~3.1 days); deadlines beyond the top level wait in an overflow
 * list. Scheduling is O(1). When the wheel advances, every bucket whose whole time span has passed
 * is spliced onto the due list in O(1) whatever its size, and only the bucket that straddles "now"
 * is walked, its not-yet-due entries cascading to a finer level. The wheel never deletes anything
 * itself: the owner drains the due list a bounded number at a time (`pollDue`), which is what keeps
 * a mass expiry from stalling the event loop.
 *
 * Precision: an entry lands on the due list at most one level-0 bucket (~1 s) after its deadline.
 * That is fine because reads check the deadline itself; the wheel only reclaims memory.
 */
import { SlotLists } from './slot-lists.ts';

const LEVEL_SHIFTS = [10, 16, 22, 28] as const;
const LEVELS = LEVEL_SHIFTS.length;
const BUCKETS_PER_LEVEL = 64;
const BUCKET_MASK = BUCKETS_PER_LEVEL - 1;
const BUCKET_LISTS = LEVELS * BUCKETS_PER_LEVEL;
const OVERFLOW_LIST = BUCKET_LISTS;
const DUE_LIST = BUCKET_LISTS + 1;
/** Holds a bucket's entries while they are re-placed, so re-placing into the same bucket is safe. */
const SCRATCH_LIST = BUCKET_LISTS + 2;
const LIST_COUNT = BUCKET_LISTS + 3;
const LEVEL_WIDTHS = LEVEL_SHIFTS.map((s) => 2 ** s);

/** "No deadline" in the deadline column. */
const NONE = 0;
/** NONE for other modules; this module reads the private binding, a constant to TurboFan (see charCodeAt in key-index.ts). */
export const NO_DEADLINE = NONE;

/**
 * Where the wheel keeps each slot's deadline. By default the wheel has its own column; the store
 * passes its per-slot rows instead, so the expiry check on every read lands on the same cache line
 * as the rest of the entry's metadata.
 */
export interface DeadlineColumn {
  /** The slot's deadline, or NO_DEADLINE. */
  get(slot: number): number;
  set(slot: number, deadlineMs: number): void;
  /** Makes room for slots below `slotCapacity` (the owner of a shared column may grow it itself). */
  grow(slotCapacity: number): void;
}

/** A deadline column of the wheel's own. */
class OwnDeadlines implements DeadlineColumn {
  private deadlines: Float64Array;
  constructor(slotCapacity: number) {
    this.deadlines = new Float64Array(slotCapacity);
  }
  get(slot: number): number {
    return this.deadlines[slot]!;
  }
  set(slot: number, deadlineMs: number): void {
    this.deadlines[slot] = deadlineMs;
  }
  grow(slotCapacity: number): void {
    if (slotCapacity <= this.deadlines.length) return;
    const grown = new Float64Array(slotCapacity);
    grown.set(this.deadlines);
    this.deadlines = grown;
  }
}

export class TimerWheel {
  /**
   * Bucket links, sized for every slot only once the first deadline is scheduled: a store whose
   * entries never expire (most caches) saves 8 bytes per entry.
   */
  private readonly lists: SlotLists;
  private slotCapacity: number;
  private listsSized = false;
  private readonly deadlines: DeadlineColumn;
  /** Wall time up to which buckets have been processed. */
  private time: number;
  private scheduled = 0;

  constructor(startMs: number, slotCapacity: number, deadlines: DeadlineColumn = new OwnDeadlines(slotCapacity)) {
    this.time = startMs;
    this.lists = new SlotLists(LIST_COUNT, 0);
    this.slotCapacity = slotCapacity;
    this.deadlines = deadlines;
  }

  /** Number of slots with a deadline (scheduled or due). */
  get size(): number {
    return this.scheduled;
  }

  /** Bytes of the wheel's lists (the deadline column is counted by whoever owns it). */
  get byteSize(): number {
    return this.lists.byteSize;
  }

  /** The wall time the wheel has advanced to. */
  get currentMs(): number {
    return this.time;
  }

  grow(slotCapacity: number): void {
    this.slotCapacity = Math.max(this.slotCapacity, slotCapacity);
    if (this.listsSized) this.lists.grow(slotCapacity);
    this.deadlines.grow(slotCapacity);
  }

  /** The absolute deadline of a slot, or NO_DEADLINE. */
  deadline(slot: number): number {
    return this.deadlines.get(slot);
  }

  /** Sets (or replaces) a slot's deadline; NO_DEADLINE cancels it. */
  schedule(slot: number, deadlineMs: number): void {
    this.cancel(slot);
    if (deadlineMs === NONE) return;
    if (!this.listsSized) {
      this.lists.grow(this.slotCapacity);
      this.listsSized = true;
    }
    this.deadlines.set(slot, deadlineMs);
    this.scheduled++;
    this.place(slot, deadlineMs);
  }

  /** Forgets a slot's deadline (when the entry is deleted or overwritten without a TTL). */
  cancel(slot: number): void {
    if (this.deadlines.get(slot) === NONE) return;
    this.lists.remove(slot);
    this.deadlines.set(slot, NONE);
    this.scheduled--;
  }

  /** Moves time forward to `nowMs`, moving every passed deadline onto the due list. */
  advance(nowMs: number): void {
    const previous = this.time;
    if (nowMs <= previous) return;
    this.time = nowMs;
    for (let level = 0; level < LEVELS; level++) {
      const width = LEVEL_WIDTHS[level]!;
      const prevTick = Math.floor(previous / width);
      const nowTick = Math.floor(nowMs / width);
      if (nowTick === prevTick) break;
      if (level === 0) {
        // Level 0 holds deadlines within its bucket's span: every bucket before "now" is all due.
        for (let t = Math.max(prevTick, nowTick - BUCKET_MASK); t < nowTick; t++) this.lists.spliceAll(t & BUCKET_MASK, DUE_LIST);
      } else {
        const base = level * BUCKETS_PER_LEVEL;
        for (let t = Math.max(prevTick + 1, nowTick - BUCKET_MASK); t < nowTick; t++) this.lists.spliceAll(base + (t & BUCKET_MASK), DUE_LIST);
        this.cascade(base + (nowTick & BUCKET_MASK));
      }
      if (level === LEVELS - 1) this.cascade(OVERFLOW_LIST);
    }
  }

  /** The next due slot, or -1. It stays due (and scheduled) until `cancel` or `schedule`. */
  peekDue(): number {
    return this.lists.first(DUE_LIST);
  }

  /** Re-places every entry of a list relative to the current time (due ones go to the due list). */
  private cascade(list: number): void {
    this.lists.spliceAll(list, SCRATCH_LIST);
    for (let slot = this.lists.first(SCRATCH_LIST); slot !== -1; slot = this.lists.first(SCRATCH_LIST)) {
      this.lists.remove(slot);
      this.place(slot, this.deadlines.get(slot));
    }
  }

  private place(slot: number, deadlineMs: number): void {
    const now = this.time;
    if (deadlineMs <= now) {
      this.lists.pushBack(DUE_LIST, slot);
      return;
    }
    for (let level = 0; level < LEVELS; level++) {
      const width = LEVEL_WIDTHS[level]!;
      const tick = Math.floor(deadlineMs / width);
      if (tick - Math.floor(now / width) <= BUCKET_MASK) {
        this.lists.pushBack(level * BUCKETS_PER_LEVEL + (tick & BUCKET_MASK), slot);
        return;
      }
    }
    this.lists.pushBack(OVERFLOW_LIST, slot);
  }
}
