/**
 * Intrusive doubly-linked lists over integer slots, stored in two Int32Arrays.
 *
 * The store keeps every entry's metadata in typed-array columns indexed by a slot number, so the
 * recency queues and the timer wheel buckets are lists of slot numbers rather than of objects: no
 * allocation per entry, 8 bytes of links per entry per list family, and O(1) unlink, move and
 * whole-list splice. Each list has a sentinel node; sentinels occupy the first `listCount` nodes
 * and slot s lives at node `listCount + s`, so the arrays can grow without moving the sentinels.
 * An unlinked slot has `next === -1`.
 */

export class SlotLists {
  private next: Int32Array;
  private prev: Int32Array;
  private readonly lists: number;

  constructor(listCount: number, slotCapacity: number) {
    this.lists = listCount;
    this.next = new Int32Array(listCount + slotCapacity).fill(-1);
    this.prev = new Int32Array(listCount + slotCapacity).fill(-1);
    for (let l = 0; l < listCount; l++) {
      this.next[l] = l;
      this.prev[l] = l;
    }
  }

  get listCount(): number {
    return this.lists;
  }

  get byteSize(): number {
    return this.next.byteLength + this.prev.byteLength;
  }

  /** Makes room for slots below `slotCapacity`. */
  grow(slotCapacity: number): void {
    const size = this.lists + slotCapacity;
    if (size <= this.next.length) return;
    const next = new Int32Array(size).fill(-1);
    const prev = new Int32Array(size).fill(-1);
    next.set(this.next);
    prev.set(this.prev);
    this.next = next;
    this.prev = prev;
  }

  isLinked(slot: number): boolean {
    return this.next[this.lists + slot] !== -1;
  }

  isEmpty(list: number): boolean {
    return this.next[list] === list;
  }

  /** The slot at the front (least recently appended) of a list, or -1 if it is empty. */
  first(list: number): number {
    const node = this.next[list]!;
    return node === list ? -1 : node - this.lists;
  }

  /** The slot at the back (most recently appended) of a list, or -1 if it is empty. */
  last(list: number): number {
    const node = this.prev[list]!;
    return node === list ? -1 : node - this.lists;
  }

  /** The slot after `slot` in its list, or -1 at the end. */
  after(slot: number): number {
    const node = this.next[this.lists + slot]!;
    return node < this.lists ? -1 : node - this.lists;
  }

  /** Appends an unlinked slot at the back of a list. */
  pushBack(list: number, slot: number): void {
    const node = this.lists + slot;
    const tail = this.prev[list]!;
    this.next[tail] = node;
    this.prev[node] = tail;
    this.next[node] = list;
    this.prev[list] = node;
  }

  /** Unlinks a slot from whatever list holds it (no-op when unlinked). */
  remove(slot: number): void {
    const node = this.lists + slot;
    const n = this.next[node]!;
    if (n === -1) return;
    const p = this.prev[node]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.next[node] = -1;
    this.prev[node] = -1;
  }

  /** Moves a linked slot to the back of `list` (its current list or another). */
  moveToBack(list: number, slot: number): void {
    this.remove(slot);
    this.pushBack(list, slot);
  }

  /** Moves every slot of `from` to the back of `to`, in order, in O(1). */
  spliceAll(from: number, to: number): void {
    if (from === to || this.next[from] === from) return;
    const firstNode = this.next[from]!;
    const lastNode = this.prev[from]!;
    const tail = this.prev[to]!;
    this.next[tail] = firstNode;
    this.prev[firstNode] = tail;
    this.next[lastNode] = to;
    this.prev[to] = lastNode;
    this.next[from] = from;
    this.prev[from] = from;
  }
}
