/**
 * A bounded FIFO queue. `push` refuses (returns false) at capacity instead of growing, which is
 * what gives callers backpressure; `highWater` records the deepest it has been, for the
 * simulator's bounded-resources checker.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private deepest = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`queue capacity must be at least 1, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get highWater(): number {
    return this.deepest;
  }

  /** Appends unless full; `force` bypasses the bound (for replies the owner is owed). */
  push(item: T, force = false): boolean {
    if (!force && this.size >= this.capacity) return false;
    this.items.push(item);
    if (this.size > this.deepest) this.deepest = this.size;
    return true;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T; // let it be collected
    this.head++;
    // Compact once the consumed prefix dominates, so memory follows the live size.
    if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns everything queued, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}
