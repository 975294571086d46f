/**
 * Redis's `noeviction`: nothing already stored is given up to make room. A write that would take
 * the store over its budget is refused instead (`set` returns false, counted in the store's
 * `refusedOverBudget`; as with every refused set, no older value of that key is kept). Reads and
 * deletes go on as usual, and deletes or expiries make room for later writes.
 */
import type { EvictionPolicy, PolicyHost } from './policy.ts';

export class NoEvictionPolicy implements EvictionPolicy {
  readonly name = 'noeviction' as const;
  /** The slot the store wrote last: the only one `evict` may remove (refusing that write). */
  private lastWritten = -1;

  constructor(private readonly host: PolicyHost) {}

  grow(): void {}
  setMaximum(): void {}
  onInsert(slot: number): void {
    this.lastWritten = slot;
  }
  onAccess(): void {}
  onUpdate(slot: number): void {
    this.lastWritten = slot;
  }
  onMiss(): void {}
  onReweigh(): void {}
  onRemove(slot: number): void {
    if (slot === this.lastWritten) this.lastWritten = -1;
  }
  evict(): void {
    if (this.lastWritten !== -1 && this.host.overBudget()) this.host.evictForSize(this.lastWritten);
  }
  describe(): Record<string, number> {
    return {};
  }
}
