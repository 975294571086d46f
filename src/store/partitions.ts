/**
 * Per-partition bookkeeping: which slots belong to each partition (an intrusive doubly-linked list
 * per partition, so enumerating or dropping partition p touches only p's entries) and each
 * partition's counters.
 */

export interface PartitionCounters {
  hits: number;
  misses: number;
  /** Entries removed for lack of room. */
  evictedSize: number;
  /** Entries removed because their TTL passed. */
  evictedExpired: number;
  /** Entries removed by delete or overwrite-to-nothing. */
  evictedExplicit: number;
  /** Entries removed by dropping the partition after its handoff (Store.dropPartition). */
  evictedHandoff: number;
  entries: number;
  /** Accounted bytes (see Store.entryCost). */
  bytes: number;
}

export function emptyCounters(): PartitionCounters {
  return { hits: 0, misses: 0, evictedSize: 0, evictedExpired: 0, evictedExplicit: 0, evictedHandoff: 0, entries: 0, bytes: 0 };
}

export class PartitionTable {
  /** Partition id -> dense index into `heads` and `counters`. */
  private readonly indexOf = new Map<number, number>();
  private readonly ids: number[] = [];
  private heads: Int32Array = new Int32Array(16).fill(-1);
  readonly counters: PartitionCounters[] = [];
  private next: Int32Array;
  private prev: Int32Array;

  constructor(slotCapacity: number) {
    this.next = new Int32Array(slotCapacity);
    this.prev = new Int32Array(slotCapacity);
  }

  get byteSize(): number {
    return this.next.byteLength + this.prev.byteLength + this.heads.byteLength;
  }

  grow(slotCapacity: number): void {
    if (slotCapacity <= this.next.length) return;
    const next = new Int32Array(slotCapacity);
    next.set(this.next);
    const prev = new Int32Array(slotCapacity);
    prev.set(this.prev);
    this.next = next;
    this.prev = prev;
  }

  /** The dense index of a partition, creating its bookkeeping on first use. */
  indexFor(partition: number): number {
    const known = this.indexOf.get(partition);
    if (known !== undefined) return known;
    const index = this.ids.length;
    this.ids.push(partition);
    this.indexOf.set(partition, index);
    this.counters.push(emptyCounters());
    if (index >= this.heads.length) {
      const heads = new Int32Array(this.heads.length * 2).fill(-1);
      heads.set(this.heads);
      this.heads = heads;
    }
    return index;
  }

  /** The dense index of a partition, or undefined if it never held anything. */
  lookup(partition: number): number | undefined {
    return this.indexOf.get(partition);
  }

  partitionIds(): number[] {
    return [...this.ids];
  }

  idAt(index: number): number {
    return this.ids[index]!;
  }

  link(index: number, slot: number): void {
    const head = this.heads[index]!;
    this.next[slot] = head;
    this.prev[slot] = -1;
    if (head !== -1) this.prev[head] = slot;
    this.heads[index] = slot;
  }

  unlink(index: number, slot: number): void {
    const n = this.next[slot]!;
    const p = this.prev[slot]!;
    if (p === -1) this.heads[index] = n;
    else this.next[p] = n;
    if (n !== -1) this.prev[n] = p;
  }

  /** The first slot of a partition (most recently added), or -1. */
  first(index: number): number {
    return this.heads[index]!;
  }

  after(slot: number): number {
    return this.next[slot]!;
  }
}
