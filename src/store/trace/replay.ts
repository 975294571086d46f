/**
 * Replays a trace through the real storage engine with an entry-count capacity, the way cache
 * papers report hit ratios: every request is a read, and a miss is followed by a write of the key.
 */
import type { Clock } from '../../runtime/env.ts';
import type { PolicyName } from '../policy.ts';
import { Store } from '../store.ts';
import type { StoreOptions } from '../store.ts';
import { beladyHits } from './belady.ts';
import type { Trace } from './parse.ts';

export type ReplayPolicy = PolicyName | 'opt';
export const REPLAY_POLICIES: readonly ReplayPolicy[] = ['wtinylfu', 'lru', 'lfu', 'opt'];

export interface ReplayResult {
  policy: ReplayPolicy;
  size: number;
  requests: number;
  hits: number;
  /** Hits as a percentage of requests. */
  hitRatio: number;
}

/** A clock that never moves: trace entries have no TTL. */
const FROZEN_CLOCK: Clock = { wallMs: () => 0, monoMs: () => 0 };
const VALUE = new Uint8Array(0);

export type ReplayTuning = Pick<StoreOptions, 'seed' | 'windowFraction' | 'windowAdaptation' | 'doorkeeper' | 'climberSampleFactor'>;

export function replay(trace: Trace, size: number, policy: ReplayPolicy, tuning: ReplayTuning = {}): ReplayResult {
  const requests = trace.ids.length;
  const hits = policy === 'opt' ? beladyHits(trace.ids, size) : replayStore(trace, size, policy, tuning);
  return { policy, size, requests, hits, hitRatio: requests === 0 ? 0 : (100 * hits) / requests };
}

function replayStore(trace: Trace, size: number, policy: PolicyName, tuning: ReplayTuning): number {
  const store = new Store({ maxEntries: size, policy, clock: FROZEN_CLOCK, hotKeys: false, ...tuning });
  const keys: string[] = [];
  for (let id = 0; id < trace.uniqueKeys; id++) keys.push(String(id));
  const ids = trace.ids;
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const key = keys[ids[i]!]!;
    if (store.getView(key) !== undefined) hits++;
    else store.set(key, VALUE, { partition: 0 });
  }
  return hits;
}
