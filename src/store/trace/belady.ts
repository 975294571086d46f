/**
 * Belady's optimal offline policy (OPT/MIN): on a miss with a full cache, evict the entry whose
 * next use is farthest in the future, or do not cache the new key at all if it is the one used
 * farthest away. No online policy can beat its hit count for a given entry capacity, which makes
 * it the ceiling in the hit-ratio table.
 *
 * Implementation: one backward pass computes each request's next-use position; the simulation
 * keeps a max-heap of next-use positions with lazy deletion. A position identifies its key (the
 * key requested there), so the heap holds plain numbers; "never used again" is n + id.
 */

/** The number of hits OPT gets on `ids` with room for `capacity` entries. */
export function beladyHits(ids: Int32Array, capacity: number): number {
  const n = ids.length;
  if (capacity <= 0 || n === 0) return 0;
  let maxId = 0;
  for (let i = 0; i < n; i++) if (ids[i]! > maxId) maxId = ids[i]!;
  const nextUse = new Float64Array(n);
  const upcoming = new Float64Array(maxId + 1).fill(-1);
  for (let i = n - 1; i >= 0; i--) {
    const id = ids[i]!;
    nextUse[i] = upcoming[id] === -1 ? n + id : upcoming[id]!;
    upcoming[id] = i;
  }
  /** For cached keys, their current next-use key in the heap; -1 when not cached. */
  const cachedNext = new Float64Array(maxId + 1).fill(-1);
  const heap = new MaxHeap(n);
  let size = 0;
  let hits = 0;
  const keyOf = (next: number): number => (next >= n ? next - n : ids[next]!);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const next = nextUse[i]!;
    if (cachedNext[id] !== -1) {
      hits++;
      cachedNext[id] = next;
      heap.push(next);
      continue;
    }
    if (size >= capacity) {
      // Drop stale heap entries (keys since re-accessed or evicted) to find the true farthest.
      let top = heap.peek();
      while (cachedNext[keyOf(top)] !== top) {
        heap.pop();
        top = heap.peek();
      }
      if (next >= top) continue; // the newcomer is needed last: bypass it
      heap.pop();
      cachedNext[keyOf(top)] = -1;
      size--;
    }
    cachedNext[id] = next;
    heap.push(next);
    size++;
  }
  return hits;
}

class MaxHeap {
  private readonly items: Float64Array;
  private size = 0;
  constructor(capacity: number) {
    this.items = new Float64Array(capacity);
  }
  peek(): number {
    return this.items[0]!;
  }
  push(value: number): void {
    const a = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! >= value) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = value;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && a[child + 1]! > a[child]!) child++;
      if (a[child]! <= last) break;
      a[i] = a[child]!;
      i = child;
    }
    a[i] = last;
    return top;
  }
}
