/**
 * The contract between the store and an eviction policy.
 *
 * The store owns entries (slots) and the budget; a policy owns the order in which slots are given
 * up. Policies never delete anything themselves: `evict` asks the host to remove slots, one at a
 * time, until the host reports it is back within budget, so accounting lives in one place.
 */

export type PolicyName = 'wtinylfu' | 'lru' | 'lfu' | 'noeviction';
export const POLICY_NAMES: readonly PolicyName[] = ['wtinylfu', 'lru', 'lfu', 'noeviction'];

/**
 * Room a host gives a policy in its own per-slot rows, so that what a hit changes (list links and
 * a byte of state) shares the cache line the host reads for the entry anyway (docs/research/store-speed.md,
 * "Issue 19, sixth pass"). The arrays are replaced when the host's rows grow or change layout; it
 * calls the policy's `grow` after each change, and the policy asks for them again.
 */
export interface PolicyRows {
  /** The rows as 32-bit words: slot s's row is words s * stride to s * stride + stride - 1. */
  readonly words: Int32Array;
  /** The same rows as bytes. */
  readonly bytes: Uint8Array;
  /** Words per row. */
  readonly stride: number;
  /** Word offset in a row of two words for list links (next, then previous). */
  readonly linkWord: number;
  /** Byte offset in a row of one byte the policy owns. */
  readonly policyByte: number;
  /** Slots below this never hold an entry: their rows hold the policy's list sentinels. */
  readonly reservedSlots: number;
}

/** What a policy may ask of the store that hosts it. */
export interface PolicyHost {
  /** The entry's 32-bit key hash (see hash.ts), as an int32 or a uint32: policies use only its bits. */
  hashOf(slot: number): number;
  /** The entry's weight in the policy's units (bytes, or 1 per entry when counting entries). */
  weightOf(slot: number): number;
  /** True while the store holds more than its budget. */
  overBudget(): boolean;
  /** Removes a slot for lack of room; the store calls the policy's `onRemove` in turn. */
  evictForSize(slot: number): void;
  /** Room in the host's rows for links and a byte per slot (the store gives it; W-TinyLFU uses it when there). */
  rows?(): PolicyRows;
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
  /**
   * How often the key with hash `hash`, held in `slot` (-1: not held), has been used, as this
   * policy counts it, without counting a use (OBJECT FREQ). Absent from a policy that counts no
   * frequency (lru, noeviction).
   */
  accessFrequency?(slot: number, hash: number): number;
  /**
   * Whether a key not held, with hash `hash`, would be kept over the entry the next eviction takes:
   * it must be clearly more frequent (more than the one use that asked for it ahead). Asked before
   * a copy the store may decline is stored over the budget (Store.admitsCopy). Absent from a
   * policy with no admission duel (lru, lfu, noeviction): those take every newcomer.
   */
  keepsOverNextVictim?(hash: number): boolean;
  /** A read wanted the key with hash `hash`, which is not held (Store.noteWanted): count it as a use. */
  noteWanted?(hash: number): void;
  /** Policy-specific numbers for stats and benchmarks. */
  describe(): Record<string, number>;
}
