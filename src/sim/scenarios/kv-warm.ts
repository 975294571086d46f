/**
 * `kv-warm`: predictive warming measured (issue 17 item 5; docs/REPLICATION.md, "Warming"). A node
 * joins a 4-node cluster whose clients read with a Zipf skew; the catch-up is throttled (a small
 * sync batch stands in for a large data set on a real link), so the joiner spends its first
 * seconds partly empty. Every read of a key in a partition the joiner now owns is sampled: a hit
 * when the joiner's replica already holds the key, i.e. a read it could answer from memory.
 *
 * The run is made twice from the same seed, with warming off and on (config.warmHotKeys), and
 * reports the hit ratio of each second of the first 10 s after the join side by side: with
 * warming, the old owners push their hottest keys of each partition the joiner asks for while it
 * is empty, ahead of the partition lists. Virtual time: the figures do not depend on the machine.
 */
import type { ScenarioOptions, ScenarioResult, Scenario } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { namedStream } from '../rng.ts';
import { KvCluster } from './kv-cluster.ts';
import { KV_WORKLOAD_START_MS } from './kv.ts';

const WARM_PARTITIONS = 256;
const WARM_KEYS = 10_000;
/** Entries per sync answer and data message: small, so the catch-up of the joiner takes seconds. */
const WARM_SYNC_BATCH = 16;
/** Sync rounds while catching up: slower than the default (100 ms), as on a busy link. */
const WARM_SYNC_INTERVAL_MS = 1_000;
const READERS = 8;
const READER_THINK_MS = 5;
const ZIPF_EXPONENT = 1;
/** The keys are written in this long, then read for this long before the join (so the sketches rank them). */
const LOAD_MS = 2_000;
const LOAD_TRIES = 5;
const READ_BEFORE_JOIN_MS = 5_000;
/** Seconds after the join that are measured. */
export const WARM_MEASURED_SECONDS = 10;

export interface WarmJoinFigures {
  /** Per second after the join: reads of the joiner's partitions whose key the joiner held. */
  hitRatioBySecond: number[];
  /** Over the whole measured window. */
  hitRatio: number;
  sampledReads: number;
  /** Keys the load phase wrote (acknowledged). */
  keysLoaded: number;
  /** Hot keys the old owners pushed ahead of the catch-up. */
  keysWarmed: number;
  /** Seconds from the join until the joiner caught up (null: not within the run). */
  catchUpSeconds: number | null;
}

/** One run: a join under reads, warming on (`warmHotKeys` > 0) or off; `size` shrinks it (tests). */
export function runWarmJoin(seed: number, warmHotKeys: number, trace: EventTrace, size = { keys: WARM_KEYS, partitions: WARM_PARTITIONS }): { figures: WarmJoinFigures; simMs: number } {
  const cluster = new KvCluster({ seed, nodes: 5, initialNodes: 4, partitions: size.partitions, replication: { syncBatch: WARM_SYNC_BATCH, catchUpSyncIntervalMs: WARM_SYNC_INTERVAL_MS, warmHotKeys }, network: {}, trace });
  const sim = cluster.sim;
  const random = namedStream(seed, 'kv-warm/readers');
  const encoder = new TextEncoder();
  const keys = Array.from({ length: size.keys }, (_, i) => `item:${i}`);
  const keyBytes = keys.map((k) => encoder.encode(k));
  // Zipf over the keys: cumulative weights, drawn by binary search.
  const cdf = new Float64Array(size.keys);
  let total = 0;
  for (let i = 0; i < size.keys; i++) cdf[i] = total += 1 / (i + 1) ** ZIPF_EXPONENT;
  const draw = () => {
    const x = random.next() * total;
    let lo = 0;
    let hi = size.keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const value = encoder.encode('v'.repeat(64));
  const loadStart = KV_WORKLOAD_START_MS;
  let loaded = 0;
  // A write refused while the cluster settles is tried again (at most LOAD_TRIES times).
  const load = (i: number, tries: number) =>
    sim.upNodes()[i % 4]!.process!.kv.set(keyBytes[i]!, value, { ttlMs: 0 }, (error) => {
      if (!error) loaded++;
      else if (tries < LOAD_TRIES) sim.after(100, () => load(i, tries + 1), 'warm-load');
    });
  keys.forEach((_, i) => sim.at(loadStart + (i * LOAD_MS) / size.keys, () => load(i, 1), 'warm-load'));
  const joinAt = loadStart + LOAD_MS + READ_BEFORE_JOIN_MS;
  const endAt = joinAt + WARM_MEASURED_SECONDS * 1000;
  let joiner = -1;
  const hits = new Array<number>(WARM_MEASURED_SECONDS).fill(0);
  const samples = new Array<number>(WARM_MEASURED_SECONDS).fill(0);
  let catchUpSeconds: number | null = null;

  const read = () => {
    if (sim.now >= endAt) return;
    const up = sim.upNodes();
    const i = draw();
    up[random.int(up.length)]!.process!.kv.get(keyBytes[i]!, {}, () => {});
    const process = joiner < 0 ? null : sim.process(joiner);
    if (process && sim.now >= joinAt) {
      const p = process.placement().partitionOfKey(keyBytes[i]!);
      if (process.placement().owners(p).includes(process.name)) {
        const second = Math.floor((sim.now - joinAt) / 1000);
        samples[second]!++;
        if (process.heldPartitions().get(p)?.peek(keys[i]!)) hits[second]!++;
      }
    }
    sim.after(random.exponential(READER_THINK_MS), read, 'warm-read');
  };
  for (let r = 0; r < READERS; r++) sim.at(loadStart + LOAD_MS + random.exponential(READER_THINK_MS), read, 'warm-read');
  sim.at(joinAt, () => {
    joiner = cluster.addNode();
    const poll = () => {
      const process = sim.process(joiner);
      if (process && process.placement().members.some((m) => m.name === process.name) && !process.catchingUp()) catchUpSeconds = (sim.now - joinAt) / 1000;
      else if (sim.now < endAt) sim.after(100, poll, 'warm-poll');
    };
    sim.after(100, poll, 'warm-poll');
  }, 'join');
  sim.runUntil(endAt);
  const sampled = samples.reduce((a, b) => a + b, 0);
  const hit = hits.reduce((a, b) => a + b, 0);
  return {
    simMs: sim.now,
    figures: {
      hitRatioBySecond: samples.map((n, s) => (n === 0 ? 0 : round(hits[s]! / n))),
      hitRatio: sampled === 0 ? 0 : round(hit / sampled),
      sampledReads: sampled,
      keysLoaded: loaded,
      keysWarmed: cluster.totals().sync.keysWarmed,
      catchUpSeconds,
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function runKvWarm(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const cold = runWarmJoin(options.seed, 0, trace);
  const warm = runWarmJoin(options.seed, 64, trace);
  return {
    violations: [],
    simMs: cold.simMs + warm.simMs,
    derived: { partitions: WARM_PARTITIONS, keys: WARM_KEYS, syncBatch: WARM_SYNC_BATCH, catchUpSyncIntervalMs: WARM_SYNC_INTERVAL_MS, zipfExponent: ZIPF_EXPONENT },
    figures: {
      withoutWarming: cold.figures,
      withWarming: warm.figures,
      hitRatioFirst10s: { without: cold.figures.hitRatio, with: warm.figures.hitRatio, ratio: cold.figures.hitRatio === 0 ? null : round(warm.figures.hitRatio / cold.figures.hitRatio) },
    },
  };
}

export const kvWarmScenario: Scenario = {
  name: 'kv-warm',
  summary: 'a node joins under Zipf reads with a throttled catch-up, run with predictive warming off and on: the joiner\'s hit ratio in each of its first 10 s',
  defaults: { nodes: 5, durationMs: 20_000, faults: 'none' },
  minNodes: 5,
  measurement: true,
  run: runKvWarm,
};
