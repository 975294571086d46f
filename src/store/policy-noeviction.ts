/**
 * Redis's `noeviction`: nothing already stored is given up to make room. The store itself refuses
 * a write that would take it over its budget, before changing anything (`set` returns false,
 * counted in `refusedOverBudget`; an older value of that key stays, as Redis's OOM error leaves
 * it). So this policy keeps no order and never has anything to evict. Reads and deletes go on as
 * usual, and deletes or expiries make room for later writes.
 */
import type { EvictionPolicy } from './policy.ts';

export class NoEvictionPolicy implements EvictionPolicy {
  readonly name = 'noeviction' as const;

  grow(): void {}
  setMaximum(): void {}
  onInsert(): void {}
  onAccess(): void {}
  onUpdate(): void {}
  onMiss(): void {}
  onReweigh(): void {}
  onRemove(): void {}
  evict(): void {}
  describe(): Record<string, number> {
    return {};
  }
}
