/**
 * Replays a trace through one of the store's eviction policies without the rest of the store: the
 * policy sees the same key hashes (`unitHashString` of the key's decimal id, as replay.ts's keys)
 * and the same host calls as inside a `Store` with `maxEntries`, so it makes the same decisions
 * (test/unit/store-reference-policies.test.ts checks the hit counts are equal), at a fraction of
 * the cost: no string keys, no value arena, no TTL or partition bookkeeping. The hit-ratio
 * benchmark needs that to replay tens of millions of requests per (trace, size, policy) in minutes.
 */
import { unitHashString } from '../../protocol/hash.ts';
import { SeededRandom } from '../../runtime/seeded-random.ts';
import { LfuPolicy } from '../policy-lfu.ts';
import { LruPolicy } from '../policy-lru.ts';
import { WTinyLfuPolicy } from '../policy-wtinylfu.ts';
import { DEFAULT_STORE_SEED } from '../store.ts';
import type { WTinyLfuOptions } from '../policy-wtinylfu.ts';
import type { EvictionPolicy, PolicyHost, PolicyName } from '../policy.ts';

export type PolicyTuning = Omit<WTinyLfuOptions, 'random' | 'expectedEntries'> & { seed?: number };

class IdHost implements PolicyHost {
  /** Slot of each key id (-1: absent) and key id of each slot. */
  readonly slotOf: Int32Array;
  readonly idOf: Int32Array;
  readonly free: number[] = [];
  next = 0;
  entries = 0;
  policy!: EvictionPolicy;
  constructor(
    private readonly hashes: Uint32Array,
    private readonly maximum: number,
  ) {
    this.slotOf = new Int32Array(hashes.length).fill(-1);
    this.idOf = new Int32Array(maximum + 2);
  }
  hashOf(slot: number): number {
    return this.hashes[this.idOf[slot]!]!;
  }
  weightOf(): number {
    return 1;
  }
  overBudget(): boolean {
    return this.entries > this.maximum;
  }
  evictForSize(slot: number): void {
    this.policy.onRemove(slot);
    this.slotOf[this.idOf[slot]!] = -1;
    this.free.push(slot);
    this.entries--;
  }
}

/** Key hashes of ids 0..uniqueKeys-1, as the store computes them for the keys String(id). */
export function keyHashes(uniqueKeys: number): Uint32Array {
  const hashes = new Uint32Array(uniqueKeys);
  for (let id = 0; id < uniqueKeys; id++) hashes[id] = unitHashString(String(id));
  return hashes;
}

/** Hits of the store's `policy` (one that evicts) on `ids` with room for `capacity` entries. */
export function policyHits(ids: Int32Array, capacity: number, hashes: Uint32Array, policy: Exclude<PolicyName, 'noeviction'>, tuning: PolicyTuning = {}): number {
  const host = new IdHost(hashes, capacity);
  const slots = capacity + 2;
  const { seed, ...options } = tuning;
  host.policy =
    policy === 'lru'
      ? new LruPolicy(host, slots)
      : policy === 'lfu'
        ? new LfuPolicy(host, slots)
        : new WTinyLfuPolicy(host, slots, { ...options, random: SeededRandom.mulberry32(seed ?? DEFAULT_STORE_SEED), expectedEntries: capacity });
  host.policy.setMaximum(capacity);
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const slot = host.slotOf[id]!;
    if (slot !== -1) {
      hits++;
      host.policy.onAccess(slot);
      continue;
    }
    host.policy.onMiss();
    const fresh = host.free.length > 0 ? host.free.pop()! : host.next++;
    host.idOf[fresh] = id;
    host.slotOf[id] = fresh;
    host.entries++;
    host.policy.onInsert(fresh);
    if (host.entries > capacity) host.policy.evict();
  }
  return hits;
}
