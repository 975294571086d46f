/**
 * `kv-buckets`: the kv scenario (workload, swarm faults, checkers) with anti-entropy comparing
 * partitions by bucket (docs/REPLICATION.md, "Anti-entropy of large partitions") wherever it can:
 * every differing partition of more than BUCKETS_ABOVE entries goes by bucket digests, then the
 * lists of its differing buckets, within a small answer budget, so answers cut short and resumed
 * in later rounds are the rule. More keys than `kv` (about 16 a partition), so a partition spans
 * several buckets. The kv checkers judge it as they judge `kv`; convergence is the one a broken
 * bucket comparison fails (bugs.bucketDigestSkipsNewKeys: a replica missing a key its hint lost
 * never gets it).
 */
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { DEFAULT_KV_WORKLOAD } from './kv-workload.ts';
import { runKv, type KvTuning } from './kv.ts';

/** Partitions over this many entries are compared by bucket: nearly every one that holds keys. */
export const BUCKETS_ABOVE = 2;
/** (key, version) entries per answer, records per data message: a few buckets' worth. */
export const BUCKETS_SYNC_BATCH = 16;

export const BUCKETS_TUNING: KvTuning = {
  replication: { syncBucketsAbove: BUCKETS_ABOVE, syncBatch: BUCKETS_SYNC_BATCH },
  workload: { ...DEFAULT_KV_WORKLOAD, keys: 1024 },
};

export function runKvBuckets(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  return runKv(options, trace, BUCKETS_TUNING);
}

export const kvBucketsScenario: Scenario = {
  name: 'kv-buckets',
  summary: 'kv with anti-entropy by bucket digests and a small answer budget: no lost acknowledged write, replicas converge',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  keyedDraws: true,
  run: runKvBuckets,
};
