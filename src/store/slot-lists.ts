/**
 * Intrusive doubly-linked lists over integer slots, stored in one Int32Array.
 *
 * The store keeps every entry's metadata in typed-array rows indexed by a slot number, so the
 * recency queues and the timer wheel buckets are lists of slot numbers rather than of objects: no
 * allocation per entry, 8 bytes of links per entry per list family, and O(1) unlink, move and
 * whole-list splice. A node's `next` and `prev` sit side by side (at 2n and 2n + 1) because
 * relinking on every cache hit reads both: one cache line per node instead of two is most of what
 * a move-to-back costs on a large cache. Each list has a sentinel node; sentinels occupy the first
 * `listCount` nodes and slot s lives at node `listCount + s`, so the array can grow without moving
 * the sentinels. An unlinked slot has `next === -1`.
 */

export class SlotLists {
  /** links[2n] = next node of n, links[2n + 1] = previous node of n. */
  private links: Int32Array;
  private readonly lists: number;

  constructor(listCount: number, slotCapacity: number) {
    this.lists = listCount;
    this.links = new Int32Array(2 * (listCount + slotCapacity)).fill(-1);
    for (let l = 0; l < listCount; l++) {
      this.links[2 * l] = l;
      this.links[2 * l + 1] = l;
    }
  }

  get listCount(): number {
    return this.lists;
  }

  get byteSize(): number {
    return this.links.byteLength;
  }

  /** Makes room for slots below `slotCapacity`. */
  grow(slotCapacity: number): void {
    const size = 2 * (this.lists + slotCapacity);
    if (size <= this.links.length) return;
    const links = new Int32Array(size).fill(-1);
    links.set(this.links);
    this.links = links;
  }

  isLinked(slot: number): boolean {
    return this.links[2 * (this.lists + slot)] !== -1;
  }

  isEmpty(list: number): boolean {
    return this.links[2 * list] === list;
  }

  /** The slot at the front (least recently appended) of a list, or -1 if it is empty. */
  first(list: number): number {
    const node = this.links[2 * list]!;
    return node === list ? -1 : node - this.lists;
  }

  /** The slot at the back (most recently appended) of a list, or -1 if it is empty. */
  last(list: number): number {
    const node = this.links[2 * list + 1]!;
    return node === list ? -1 : node - this.lists;
  }

  /** The slot after `slot` in its list, or -1 at the end. */
  after(slot: number): number {
    const node = this.links[2 * (this.lists + slot)]!;
    return node < this.lists ? -1 : node - this.lists;
  }

  /** Appends an unlinked slot at the back of a list. */
  pushBack(list: number, slot: number): void {
    const links = this.links;
    const node = this.lists + slot;
    const tail = links[2 * list + 1]!;
    links[2 * tail] = node;
    links[2 * node + 1] = tail;
    links[2 * node] = list;
    links[2 * list + 1] = node;
  }

  /** Unlinks a slot from whatever list holds it (no-op when unlinked). */
  remove(slot: number): void {
    const links = this.links;
    const node = this.lists + slot;
    const n = links[2 * node]!;
    if (n === -1) return;
    const p = links[2 * node + 1]!;
    links[2 * p] = n;
    links[2 * n + 1] = p;
    links[2 * node] = -1;
    links[2 * node + 1] = -1;
  }

  /** Moves a linked slot to the back of `list` (its current list or another). */
  moveToBack(list: number, slot: number): void {
    const links = this.links;
    const node = this.lists + slot;
    // Already last: nothing to do (a hot key read twice in a row is common).
    if (links[2 * list + 1] === node) return;
    this.remove(slot);
    this.pushBack(list, slot);
  }

  /** Moves every slot of `from` to the back of `to`, in order, in O(1). */
  spliceAll(from: number, to: number): void {
    const links = this.links;
    if (from === to || links[2 * from] === from) return;
    const firstNode = links[2 * from]!;
    const lastNode = links[2 * from + 1]!;
    const tail = links[2 * to + 1]!;
    links[2 * tail] = firstNode;
    links[2 * firstNode + 1] = tail;
    links[2 * lastNode] = to;
    links[2 * to + 1] = lastNode;
    links[2 * from] = from;
    links[2 * from + 1] = from;
  }
}
