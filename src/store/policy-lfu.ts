/**
 * Least-frequently-used eviction with exact per-entry counts (ties broken by least recent use),
 * kept in a binary min-heap. It is here for comparison: pure LFU shows what frequency alone buys
 * and where it fails (it clings to once-popular entries), which is what TinyLFU's aging fixes.
 */
import type { EvictionPolicy, PolicyHost } from './policy.ts';

export class LfuPolicy implements EvictionPolicy {
  readonly name = 'lfu' as const;
  /** heap[i] is a slot; position[slot] is its index in the heap or -1. */
  private heap: Int32Array;
  private position: Int32Array;
  private counts: Float64Array;
  /** Last-access stamps; a logical clock so ties go to the least recently used. */
  private stamps: Float64Array;
  private size = 0;
  private clock = 0;

  constructor(
    private readonly host: PolicyHost,
    slotCapacity: number,
  ) {
    this.heap = new Int32Array(slotCapacity);
    this.position = new Int32Array(slotCapacity).fill(-1);
    this.counts = new Float64Array(slotCapacity);
    this.stamps = new Float64Array(slotCapacity);
  }

  grow(slotCapacity: number): void {
    if (slotCapacity <= this.position.length) return;
    const heap = new Int32Array(slotCapacity);
    heap.set(this.heap);
    const position = new Int32Array(slotCapacity).fill(-1);
    position.set(this.position);
    const counts = new Float64Array(slotCapacity);
    counts.set(this.counts);
    const stamps = new Float64Array(slotCapacity);
    stamps.set(this.stamps);
    this.heap = heap;
    this.position = position;
    this.counts = counts;
    this.stamps = stamps;
  }

  setMaximum(): void {}

  onInsert(slot: number): void {
    this.counts[slot] = 1;
    this.stamps[slot] = ++this.clock;
    const i = this.size++;
    this.heap[i] = slot;
    this.position[slot] = i;
    this.siftUp(i);
  }

  onAccess(slot: number): void {
    this.counts[slot] = this.counts[slot]! + 1;
    this.stamps[slot] = ++this.clock;
    this.siftDown(this.position[slot]!);
  }

  onUpdate(slot: number): void {
    this.onAccess(slot);
  }

  /** The exact count of the entry's insert, reads and overwrites since it was stored; 0 when not held. */
  accessFrequency(slot: number): number {
    return slot === -1 ? 0 : this.counts[slot]!;
  }

  onMiss(): void {}

  onReweigh(): void {}

  onRemove(slot: number): void {
    const i = this.position[slot]!;
    if (i === -1) return;
    this.position[slot] = -1;
    const last = --this.size;
    if (i === last) return;
    const moved = this.heap[last]!;
    this.heap[i] = moved;
    this.position[moved] = i;
    this.siftDown(i);
    this.siftUp(this.position[moved]!);
  }

  evict(): void {
    while (this.host.overBudget() && this.size > 0) this.host.evictForSize(this.heap[0]!);
  }

  describe(): Record<string, number> {
    return {};
  }

  private less(a: number, b: number): boolean {
    const ca = this.counts[a]!;
    const cb = this.counts[b]!;
    return ca < cb || (ca === cb && this.stamps[a]! < this.stamps[b]!);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const slot = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.less(slot, p)) break;
      heap[i] = p;
      this.position[p] = i;
      i = parent;
    }
    heap[i] = slot;
    this.position[slot] = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const slot = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(heap[child + 1]!, heap[child]!)) child++;
      const c = heap[child]!;
      if (!this.less(c, slot)) break;
      heap[i] = c;
      this.position[c] = i;
      i = child;
    }
    heap[i] = slot;
    this.position[slot] = i;
  }
}
