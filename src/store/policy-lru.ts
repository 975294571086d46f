/** Plain least-recently-used eviction: the baseline every cache is measured against. */
import type { EvictionPolicy, PolicyHost } from './policy.ts';
import { SlotLists } from './slot-lists.ts';

const QUEUE = 0;

export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru' as const;
  private readonly lists: SlotLists;

  constructor(
    private readonly host: PolicyHost,
    slotCapacity: number,
  ) {
    this.lists = new SlotLists(1, slotCapacity);
  }

  grow(slotCapacity: number): void {
    this.lists.grow(slotCapacity);
  }

  setMaximum(): void {}

  onInsert(slot: number): void {
    this.lists.pushBack(QUEUE, slot);
  }

  onAccess(slot: number): void {
    this.lists.moveToBack(QUEUE, slot);
  }

  onUpdate(slot: number): void {
    this.onAccess(slot);
  }

  onMiss(): void {}

  onReweigh(): void {}

  onRemove(slot: number): void {
    this.lists.remove(slot);
  }

  evict(): void {
    while (this.host.overBudget()) {
      const victim = this.lists.first(QUEUE);
      if (victim === -1) return;
      this.host.evictForSize(victim);
    }
  }

  describe(): Record<string, number> {
    return {};
  }
}
