/**
 * Intrusive doubly-linked lists over integer slots, stored in an Int32Array.
 *
 * The store keeps every entry's metadata in typed-array rows indexed by a slot number, so the
 * recency queues and the timer wheel buckets are lists of slot numbers rather than of objects: no
 * allocation per entry, 8 bytes of links per entry per list family, and O(1) unlink, move and
 * whole-list splice. A node's `next` and `prev` sit side by side because relinking on every cache
 * hit reads both: one cache line per node instead of two is most of what a move-to-back costs on a
 * large cache. Each list has a sentinel node, and an unlinked slot has `next === -1`.
 *
 * Two layouts. On their own (the default), node n's links are at 2n and 2n + 1 of an array of
 * their own; sentinels occupy the first `listCount` nodes and slot s lives at node
 * `listCount + s`, so the array can grow without moving the sentinels. In a host's rows
 * (`PolicyRows`, the store's W-TinyLFU), node n's links are two words of row n, so a hit finds
 * them in the cache line it has just read for the entry's hash; the host keeps its first
 * `reservedSlots` rows free of entries for the sentinels, and slot s is node s.
 */
import type { PolicyRows } from './policy.ts';

export class SlotLists {
  /** links[at(n)] = next node of n, links[at(n) + 1] = previous node of n, where at(n) = n * stride + offset. */
  private links: Int32Array;
  private stride: number;
  private offset: number;
  /** Node of slot 0: listCount on their own, 0 in a host's rows. */
  private readonly base: number;
  private readonly lists: number;
  /** In a host's rows: rows whose links are set up (sentinels included). */
  private nodes: number;

  /** `rows`: keep the links in the host's rows (see the file comment); read again on every `grow`. */
  constructor(
    listCount: number,
    slotCapacity: number,
    private readonly rows?: () => PolicyRows,
  ) {
    this.lists = listCount;
    if (rows === undefined) {
      this.links = new Int32Array(2 * (listCount + slotCapacity)).fill(-1);
      this.stride = 2;
      this.offset = 0;
      this.base = listCount;
      this.nodes = 0;
    } else {
      const r = rows();
      if (r.reservedSlots < listCount) throw new Error(`the host reserves ${r.reservedSlots} rows for ${listCount} list sentinels`);
      this.links = r.words;
      this.stride = r.stride;
      this.offset = r.linkWord;
      this.base = 0;
      this.nodes = 0;
      // A new policy over rows a previous one used (Store.setPolicy): every row starts unlinked.
      this.unlinkFrom(0);
    }
    for (let l = 0; l < listCount; l++) {
      this.links[this.at(l)] = l;
      this.links[this.at(l) + 1] = l;
    }
  }

  get listCount(): number {
    return this.lists;
  }

  /** Bytes of the links' own array (0 in a host's rows: the host counts them). */
  get byteSize(): number {
    return this.rows === undefined ? this.links.byteLength : 0;
  }

  /** Makes room for slots below `slotCapacity`; in a host's rows, takes up the host's current rows (grown or relaid). */
  grow(slotCapacity: number): void {
    if (this.rows !== undefined) {
      const r = this.rows();
      this.links = r.words;
      this.stride = r.stride;
      this.offset = r.linkWord;
      this.unlinkFrom(this.nodes);
      return;
    }
    const size = 2 * (this.lists + slotCapacity);
    if (size <= this.links.length) return;
    const links = new Int32Array(size).fill(-1);
    links.set(this.links);
    this.links = links;
  }

  isLinked(slot: number): boolean {
    return this.links[this.at(this.base + slot)] !== -1;
  }

  isEmpty(list: number): boolean {
    return this.links[this.at(list)] === list;
  }

  /** The slot at the front (least recently appended) of a list, or -1 if it is empty. */
  first(list: number): number {
    const node = this.links[this.at(list)]!;
    return node === list ? -1 : node - this.base;
  }

  /** The slot at the back (most recently appended) of a list, or -1 if it is empty. */
  last(list: number): number {
    const node = this.links[this.at(list) + 1]!;
    return node === list ? -1 : node - this.base;
  }

  /** The slot after `slot` in its list, or -1 at the end. */
  after(slot: number): number {
    const node = this.links[this.at(this.base + slot)]!;
    return node < this.lists ? -1 : node - this.base;
  }

  /** The slot before `slot` in its list, or -1 at the front. */
  before(slot: number): number {
    const node = this.links[this.at(this.base + slot) + 1]!;
    return node < this.lists ? -1 : node - this.base;
  }

  /** Appends an unlinked slot at the back of a list. */
  pushBack(list: number, slot: number): void {
    const links = this.links;
    const node = this.base + slot;
    const sentinel = this.at(list);
    const tail = links[sentinel + 1]!;
    const at = this.at(node);
    links[this.at(tail)] = node;
    links[at + 1] = tail;
    links[at] = list;
    links[sentinel + 1] = node;
  }

  /** Unlinks a slot from whatever list holds it (no-op when unlinked). */
  remove(slot: number): void {
    const links = this.links;
    const at = this.at(this.base + slot);
    const n = links[at]!;
    if (n === -1) return;
    const p = links[at + 1]!;
    links[this.at(p)] = n;
    links[this.at(n) + 1] = p;
    links[at] = -1;
    links[at + 1] = -1;
  }

  /** Moves a linked slot to the back of `list` (its current list or another). */
  moveToBack(list: number, slot: number): void {
    const node = this.base + slot;
    // Already last: nothing to do (a hot key read twice in a row is common).
    if (this.links[this.at(list) + 1] === node) return;
    this.remove(slot);
    this.pushBack(list, slot);
  }

  /** Moves every slot of `from` to the back of `to`, in order, in O(1). */
  spliceAll(from: number, to: number): void {
    const links = this.links;
    const fromAt = this.at(from);
    const toAt = this.at(to);
    if (from === to || links[fromAt] === from) return;
    const firstNode = links[fromAt]!;
    const lastNode = links[fromAt + 1]!;
    const tail = links[toAt + 1]!;
    links[this.at(tail)] = firstNode;
    links[this.at(firstNode) + 1] = tail;
    links[this.at(lastNode)] = to;
    links[toAt + 1] = lastNode;
    links[fromAt] = from;
    links[fromAt + 1] = from;
  }

  /** Index of node n's `next` in `links` (`prev` follows it). */
  private at(node: number): number {
    return node * this.stride + this.offset;
  }

  /** In a host's rows: marks every node from `node` to the rows' end unlinked. */
  private unlinkFrom(node: number): void {
    const end = Math.floor(this.links.length / this.stride);
    for (let n = node; n < end; n++) {
      this.links[this.at(n)] = -1;
      this.links[this.at(n) + 1] = -1;
    }
    this.nodes = Math.max(this.nodes, end);
  }
}
