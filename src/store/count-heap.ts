/**
 * The binary min-heap of counter ids that both Space-Saving tables keep (hot-keys.ts over keys,
 * analytics.ts over prefixes): `heap` holds ids ordered by `counts[id]`, smallest first, so the
 * counter a newcomer replaces is `heap[0]`, and `heapPos[id]` is where id stands, so a counter that
 * grew can sift down from its own place. Plain functions over the tables' own typed arrays, so the
 * tables keep their fields flat (hot-keys.ts runs on sampled gets and sets).
 */

/** Moves the id at `i` towards the root while its parent counts more. */
export function siftUp(heap: Int32Array, heapPos: Int32Array, counts: Float64Array, i: number): void {
  const id = heap[i]!;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent]!;
    if (counts[p]! <= counts[id]!) break;
    heap[i] = p;
    heapPos[p] = i;
    i = parent;
  }
  heap[i] = id;
  heapPos[id] = i;
}

/** Moves the id at `i` away from the root, among the first `size` places, while a child counts less. */
export function siftDown(heap: Int32Array, heapPos: Int32Array, counts: Float64Array, size: number, i: number): void {
  const id = heap[i]!;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && counts[heap[child + 1]!]! < counts[heap[child]!]!) child++;
    const c = heap[child]!;
    if (counts[c]! >= counts[id]!) break;
    heap[i] = c;
    heapPos[c] = i;
    i = child;
  }
  heap[i] = id;
  heapPos[id] = i;
}
