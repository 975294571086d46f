/**
 * The contract between the store and an eviction policy.
 *
 * The store owns entries (slots) and the budget; a policy owns the order in which slots are given
 * up. Policies never delete anything themselves: `evict` asks the host to remove slots, one at a
 * time, until the host reports it is back within budget, so accounting lives in one place.
 */

export type PolicyName = 'wtinylfu' | 'lru' | 'lfu' | 'noeviction';
export const POLICY_NAMES: readonly PolicyName[] = ['wtinylfu', 'lru', 'lfu', 'noeviction'];

/** What a policy may ask of the store that hosts it. */
export interface PolicyHost {
  /** The entry's 32-bit key hash (see hash.ts). */
  hashOf(slot: number): number;
  /** The entry's weight in the policy's units (bytes, or 1 per entry when counting entries). */
  weightOf(slot: number): number;
  /** True while the store holds more than its budget. */
  overBudget(): boolean;
  /** Removes a slot for lack of room; the store calls the policy's `onRemove` in turn. */
  evictForSize(slot: number): void;
}

export interface EvictionPolicy {
  readonly name: PolicyName;
  /** Makes room for slots below `slotCapacity`. */
  grow(slotCapacity: number): void;
  /** The budget in weight units changed (or was first set). */
  setMaximum(maximumWeight: number): void;
  /** A new entry was stored in `slot`. */
  onInsert(slot: number): void;
  /** An entry was read (a `get` hit). */
  onAccess(slot: number): void;
  /** An existing entry was overwritten (a `set` of a present key). */
  onUpdate(slot: number): void;
  /** A read missed (feeds the adaptive window's hit-ratio samples). */
  onMiss(): void;
  /** An existing entry's weight is about to change from `oldWeight` (the host already reports the new one). */
  onReweigh(slot: number, oldWeight: number): void;
  /** The slot is being removed (any cause); forget it. */
  onRemove(slot: number): void;
  /** Evicts until the host is within budget (or nothing is left). */
  evict(): void;
  /** Policy-specific numbers for stats and benchmarks. */
  describe(): Record<string, number>;
}
