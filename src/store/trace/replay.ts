/**
 * Replays a trace the way cache papers report hit ratios, with an entry-count capacity: every
 * request is a read, and a miss is followed by a write of the key. The store's policies run as
 * inside the engine (policy-sim.ts: same classes, same key hashes, same decisions).
 */
import type { PolicyName } from '../policy.ts';
import type { StoreOptions } from '../store.ts';
import { arcHits } from './arc.ts';
import { beladyHits } from './belady.ts';
import { caffeineHits } from './caffeine.ts';
import { lirsHits } from './lirs.ts';
import type { Trace } from './parse.ts';
import { keyHashes, policyHits } from './policy-sim.ts';
import type { PolicyTuning } from './policy-sim.ts';
import { s3fifoHits } from './s3fifo.ts';
import { sieveHits } from './sieve.ts';

/**
 * The store's own policies run through the real engine; the reference policies (ARC, S3-FIFO,
 * SIEVE, LIRS and `caffeine`, Caffeine's own W-TinyLFU with its hill climber: simulators over
 * dense ids that share no code with the store, never on a node's path) and `opt` (Belady's offline
 * optimum, the ceiling) are there to hold the store's policies against.
 */
export type ReferencePolicy = 'arc' | 's3fifo' | 'sieve' | 'lirs';
export type ReplayPolicy = Exclude<PolicyName, 'noeviction'> | ReferencePolicy | 'caffeine' | 'opt';
export const REPLAY_POLICIES: readonly ReplayPolicy[] = ['wtinylfu', 'lru', 'lfu', 'arc', 's3fifo', 'sieve', 'lirs', 'caffeine', 'opt'];
/** Every policy but OPT: the ones a cache could actually run. */
export const ONLINE_POLICIES: readonly ReplayPolicy[] = REPLAY_POLICIES.filter((p) => p !== 'opt');

const REFERENCE_SIMULATORS: Record<ReferencePolicy, (ids: Int32Array, capacity: number, uniqueKeys: number) => number> = {
  arc: arcHits,
  s3fifo: s3fifoHits,
  sieve: sieveHits,
  lirs: lirsHits,
};

export interface ReplayResult {
  policy: ReplayPolicy;
  size: number;
  requests: number;
  hits: number;
  /** Hits as a percentage of requests. */
  hitRatio: number;
}

/** The store options that steer W-TinyLFU, as a replay may set them. */
export type ReplayTuning = Pick<StoreOptions, 'seed' | 'windowFraction' | 'windowAdaptation' | 'doorkeeper' | 'climberSampleFactor'>;

const hashesOf = new WeakMap<Trace, Uint32Array>();

export function replay(trace: Trace, size: number, policy: ReplayPolicy, tuning: ReplayTuning = {}): ReplayResult {
  const requests = trace.ids.length;
  let hits: number;
  if (policy === 'opt') hits = beladyHits(trace.ids, size);
  // The seed only feeds Caffeine's random admission of warm candidates (1 in 128).
  else if (policy === 'caffeine') hits = caffeineHits(trace.ids, size, trace.uniqueKeys, tuning.seed);
  else if (policy in REFERENCE_SIMULATORS) hits = REFERENCE_SIMULATORS[policy as ReferencePolicy](trace.ids, size, trace.uniqueKeys);
  else hits = storeHits(trace, size, policy as Exclude<PolicyName, 'noeviction'>, tuning);
  return { policy, size, requests, hits, hitRatio: requests === 0 ? 0 : (100 * hits) / requests };
}

function storeHits(trace: Trace, size: number, policy: Exclude<PolicyName, 'noeviction'>, tuning: ReplayTuning): number {
  let hashes = hashesOf.get(trace);
  if (hashes === undefined) {
    hashes = keyHashes(trace.uniqueKeys);
    hashesOf.set(trace, hashes);
  }
  const { windowAdaptation, ...rest } = tuning;
  const options: PolicyTuning = windowAdaptation === undefined ? rest : { ...rest, adaptation: windowAdaptation };
  return policyHits(trace.ids, size, hashes, policy, options);
}
