/**
 * `near-cache`: clients with near caches (src/store/near-cache.ts, the SDK's own logic) read and
 * write a replicated cluster under swarm faults while their invalidation streams lose 1% of
 * messages, duplicate 1% and reorder the rest by random delays. The checker records every
 * near-cache hit and judges it against the history:
 *
 * - bounded staleness: no hit returns a version older than a write acknowledged more than
 *   STALENESS_BOUND_MS before the hit;
 * - no hit returns a version older than an invalidation of its key that the client received after
 *   the read that filled the entry had started (the fill race, and drop on invalidation).
 *
 * Clients subscribe to every node's stream (all partitions) and re-subscribe to a restarted node;
 * a value is installed only while two sources stream its partition (N=3, W=2: a write applied on
 * W owners reaches one of them). Sloppy quorum stays off: a stand-in write reaches no owner's
 * stream until its hint is delivered. Writes carry no TTL: expiry makes no message by design.
 */
import type { Consistency, Version } from '../../replication/api.ts';
import type { ShoalNode } from '../../node/node.ts';
import type { InvalidationBatch } from '../../protocol/frames.ts';
import type { InvalidationSubscription } from '../../replication/invalidation.ts';
import { compareVersions } from '../../replication/hlc.ts';
import { decodeRecord } from '../../replication/record.ts';
import { NearCache, type NearCacheBugs } from '../../store/near-cache.ts';
import { runChecked, type Checker, type Violation } from '../checkers.ts';
import { drawSwarmProfile, healEverything } from '../faults.ts';
import { namedStream } from '../rng.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { KvCluster } from './kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS, scheduleKvFaults } from './kv.ts';
import { CLIENT_TIMEOUT_MS } from './kv-workload.ts';

/** The bound the checker holds hits to (the target). */
export const STALENESS_BOUND_MS = 2_000;

export interface NearCacheTuning {
  /** Test-only: near-cache bugs to re-inject, to show the checker catches them. */
  bugs?: NearCacheBugs;
  clients?: number;
  keys?: number;
  /** Fractions of stream messages lost (invalidation batches, heartbeats) and duplicated; all are delayed at random, so reordered. */
  loss?: number;
  heartbeatLoss?: number;
  duplication?: number;
  /** Delay of each stream message, ms, drawn uniformly (default [1, 40]). */
  streamDelayMs?: [number, number];
  /**
   * Hazelcast's distortion test: from the workload's start until this long before the writes stop,
   * half of the stream messages get their seqs and epochs corrupted; at the end of the run every
   * entry a near cache still holds must be the cluster's newest version ('agreement').
   */
  distortUntilBeforeEndOfWritesMs?: number;
}

interface Hit {
  client: number;
  key: string;
  version: Version;
  atMs: number;
  /** When the read that installed the entry started. */
  fillStartMs: number;
}

interface AckedWrite {
  version: Version;
  ackMs: number;
}

/** The checker: every hit against the acknowledged writes and the invalidations the client had received. */
export class NearCacheChecker {
  readonly violations: Violation[] = [];
  /** Per stale hit (a newer write was acknowledged before it): ms from that write's acknowledgement to the hit. */
  readonly staleness: number[] = [];
  hits = 0;
  private readonly writes = new Map<string, AckedWrite[]>();
  /** Per client and key: invalidations received (time, version). */
  private readonly received = new Map<string, { atMs: number; version: Version }[]>();

  acked(key: string, version: Version, ackMs: number): void {
    let list = this.writes.get(key);
    if (list === undefined) this.writes.set(key, (list = []));
    list.push({ version, ackMs });
  }

  invalidationReceived(client: number, key: string, version: Version, atMs: number): void {
    const id = `${client}/${key}`;
    let list = this.received.get(id);
    if (list === undefined) this.received.set(id, (list = []));
    list.push({ atMs, version });
  }

  hit(h: Hit): void {
    this.hits++;
    let firstNewerAck = Number.POSITIVE_INFINITY;
    for (const w of this.writes.get(h.key) ?? []) if (compareVersions(w.version, h.version) > 0 && w.ackMs < firstNewerAck) firstNewerAck = w.ackMs;
    if (firstNewerAck !== Number.POSITIVE_INFINITY) {
      const stale = h.atMs - firstNewerAck;
      this.staleness.push(stale);
      if (stale > STALENESS_BOUND_MS) this.fail('bounded-staleness', h.atMs, `client ${h.client} hit ${h.key} at ${fmt(h.version)}, ${stale} ms after a newer write was acknowledged (bound ${STALENESS_BOUND_MS} ms)`);
    }
    for (const r of this.received.get(`${h.client}/${h.key}`) ?? []) {
      if (r.atMs >= h.fillStartMs && r.atMs <= h.atMs && compareVersions(r.version, h.version) > 0) {
        this.fail('invalidation-respected', h.atMs, `client ${h.client} hit ${h.key} at ${fmt(h.version)} after receiving (at ${r.atMs} ms, during or after the fill that began at ${h.fillStartMs} ms) an invalidation of ${fmt(r.version)}`);
        break;
      }
    }
  }

  /** p50, p99 and max of the stale hits' staleness (ms), and how many hits were stale. */
  distribution(): { staleHits: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null } {
    const s = [...this.staleness].sort((a, b) => a - b);
    const at = (q: number) => (s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
    return { staleHits: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s.length === 0 ? null : s[s.length - 1]! };
  }

  private fail(checker: string, atMs: number, message: string): void {
    if (this.violations.length < 20) this.violations.push({ checker, atMs, message });
  }
}

function fmt(v: Version): string {
  return `${v.wallMs}.${v.logical}@${v.node}`;
}

interface ClientStreams {
  /** Per node index: the process subscribed to and the subscription. */
  subscriptions: Map<number, { process: ShoalNode; subscription: InvalidationSubscription; source: string }>;
  incarnation: number;
}

export function runNearCache(options: ScenarioOptions, trace: EventTrace, tuning: NearCacheTuning = {}): ScenarioResult {
  const profile = options.faults === 'swarm' ? drawSwarmProfile(options.seed, options.durationMs) : null;
  const replication = { ...KV_SIM_REPLICATION };
  const cluster = new KvCluster({ seed: options.seed, nodes: options.nodes, partitions: KV_SIM_PARTITIONS, replication, network: profile?.network ?? {}, trace });
  const sim = cluster.sim;
  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);
  const random = namedStream(options.seed, 'near-cache/clients');
  const wire = namedStream(options.seed, 'near-cache/streams');
  const clientCount = tuning.clients ?? 4;
  const keyCount = tuning.keys ?? 40;
  const loss = tuning.loss ?? 0.01;
  const heartbeatLoss = tuning.heartbeatLoss ?? loss;
  const duplication = tuning.duplication ?? 0.01;
  const [minDelay, maxDelay] = tuning.streamDelayMs ?? [1, 40];
  const distortion = tuning.distortUntilBeforeEndOfWritesMs;
  const distorting = () => distortion !== undefined && sim.now < faultPhaseEndMs - distortion;
  const distort = (batch: InvalidationBatch): InvalidationBatch => ({
    heartbeat: batch.heartbeat,
    partitions: batch.partitions.map((e) => ({ ...e, seq: Math.max(0, e.seq + wire.int(101) - 50), epoch: Math.max(0, e.epoch + wire.int(3) - 1) })),
  });
  const checker = new NearCacheChecker();
  const encoder = new TextEncoder();
  const figures = { reads: 0, nearHits: 0, clusterReads: 0, writesIssued: 0, writesAcked: 0, streamMessages: 0, streamMessagesLost: 0, invalidationKeysDelivered: 0, resubscriptions: 0 };
  const clock = { wallMs: () => sim.now, monoMs: () => sim.now };
  const allPartitions = new Uint8Array(Math.ceil(KV_SIM_PARTITIONS / 8)).fill(0xff);
  const cuts: [number, number][] = [];
  scheduleKvFaults(cluster, options, profile, cuts);
  let running = true;

  const caches: NearCache[] = [];
  const streams: ClientStreams[] = [];
  /** Per client and key: when the read that installed the entry held now started. */
  const fillStarts: Map<string, number>[] = [];
  for (let c = 0; c < clientCount; c++) {
    caches.push(new NearCache({ clock, partitions: KV_SIM_PARTITIONS, maxEntries: 1000, ttlMs: 60_000, minStreams: 2, ...(tuning.bugs ? { bugs: tuning.bugs } : {}) }));
    streams.push({ subscriptions: new Map(), incarnation: 0 });
    fillStarts.push(new Map());
  }

  /** Delivers a batch to client `c` over the lossy, duplicating, reordering stream. */
  const deliver = (c: number, source: string, batch: InvalidationBatch) => {
    figures.streamMessages++;
    if (wire.chance(batch.heartbeat ? heartbeatLoss : loss)) {
      figures.streamMessagesLost++;
      return;
    }
    const copies = wire.chance(duplication) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      sim.after(wire.between(minDelay, maxDelay), () => {
        for (const entry of batch.partitions) {
          for (const k of entry.keys) {
            figures.invalidationKeysDelivered++;
            checker.invalidationReceived(c, k.key, k.version, sim.now);
          }
        }
        caches[c]!.receive(source, distorting() && wire.chance(0.5) ? distort(batch) : batch);
      }, 'near-stream');
    }
  };

  /** Subscribes client `c` to every up node it is not subscribed to (a restarted node is a new process). */
  const resubscribe = (c: number) => {
    const s = streams[c]!;
    for (const n of sim.nodes) {
      const process = n.up ? sim.process(n.index) : null;
      const current = s.subscriptions.get(n.index);
      if (current && current.process === process) continue;
      if (current) {
        current.subscription.close();
        caches[c]!.sourceLost(current.source);
        s.subscriptions.delete(n.index);
      }
      if (!process) continue;
      const source = `${n.address}#${++s.incarnation}`;
      const subscription = process.invalidations.subscribe((batch) => deliver(c, source, batch));
      subscription.update(allPartitions, []);
      s.subscriptions.set(n.index, { process, subscription, source });
      figures.resubscriptions++;
    }
    if (running || sim.now < options.durationMs) sim.after(250, () => resubscribe(c), 'near-resubscribe');
  };

  const coordinator = (): ShoalNode | null => {
    const up = sim.upNodes();
    return up.length === 0 ? null : up[random.int(up.length)]!.process!;
  };

  const step = (c: number) => {
    if (!running) return;
    const node = coordinator();
    const next = () => sim.after(random.exponential(25), () => step(c), 'near-client');
    if (node === null) return next();
    const key = `k${Math.min(keyCount - 1, Math.floor(keyCount * random.next() ** 2))}`;
    const keyBytes = encoder.encode(key);
    const partition = node.placement().partitionOfKey(keyBytes);
    const cache = caches[c]!;
    const consistency: Consistency = 'quorum';
    let finished = false;
    const once = (fn: () => void) => () => {
      if (finished) return;
      finished = true;
      fn();
      next();
    };
    if (random.chance(0.9)) {
      figures.reads++;
      const hit = cache.get(key, partition);
      if (hit) {
        figures.nearHits++;
        checker.hit({ client: c, key, version: hit.version, atMs: sim.now, fillStartMs: fillStarts[c]!.get(key) ?? 0 });
        return next();
      }
      figures.clusterReads++;
      const startMs = sim.now;
      const token = cache.beginFill(key, partition);
      const timeout = once(() => cache.abandonFill(token));
      sim.after(CLIENT_TIMEOUT_MS, timeout, 'near-read-timeout');
      node.kv.get(keyBytes, { consistency }, (error, result) => {
        once(() => {
          if (error || !result) return cache.abandonFill(token);
          if (cache.completeFill(token, result.value, result.version ?? null, result.expiresAtMs)) fillStarts[c]!.set(key, startMs);
        })();
      });
      return;
    }
    figures.writesIssued++;
    cache.forget(key);
    const value = encoder.encode(`c${c}:${sim.now}:${random.int(1e9)}`);
    const done = once(() => {});
    sim.after(CLIENT_TIMEOUT_MS, done, 'near-write-timeout');
    const onWritten = (error: unknown, result?: { version?: Version }) => {
      if (finished) return;
      if (!error && result?.version) {
        figures.writesAcked++;
        checker.acked(key, result.version, sim.now);
      }
      done();
    };
    if (random.chance(0.1)) node.kv.delete(keyBytes, { consistency }, onWritten);
    else node.kv.set(keyBytes, value, { consistency, ttlMs: 0 }, onWritten);
  };

  for (let c = 0; c < clientCount; c++) {
    sim.after(KV_WORKLOAD_START_MS, () => resubscribe(c), 'near-subscribe');
    sim.after(KV_WORKLOAD_START_MS + random.exponential(25), () => step(c), 'near-client');
  }
  sim.at(faultPhaseEndMs, () => {
    running = false;
    healEverything(sim);
  }, 'heal');

  const world = { checker };
  const checkers: Checker<typeof world>[] = [
    {
      name: 'near-cache',
      invariant: (w) => {
        const v = w.checker.violations[0];
        return v ? `${v.checker}: ${v.message}` : null;
      },
    },
  ];
  // Agreement (with distortion): once writes have stopped and streams had time to heal, every entry held is the cluster's newest version.
  const disagreements: Violation[] = [];
  if (distortion !== undefined) {
    sim.at(options.durationMs - 1, () => {
      const up = sim.upNodes();
      if (up.length === 0) return;
      const placement = up[0]!.process!.placement();
      for (let c = 0; c < clientCount; c++) {
        for (let k = 0; k < keyCount; k++) {
          const key = `k${k}`;
          const p = placement.partitionOfKey(encoder.encode(key));
          const hit = caches[c]!.get(key, p);
          if (!hit) continue;
          let newest: Version | null = null;
          for (const owner of placement.owners(p)) {
            const bytes = sim.process(sim.indexOf(owner)!)?.heldPartitions().get(p)?.peek(key) ?? null;
            const v = bytes ? decodeRecord(bytes).version : null;
            if (v && (newest === null || compareVersions(v, newest) > 0)) newest = v;
          }
          if (newest === null || compareVersions(hit.version, newest) !== 0) {
            disagreements.push({ checker: 'agreement', atMs: sim.now, message: `client ${c} holds ${key} at ${fmt(hit.version)}, the cluster's newest is ${newest ? fmt(newest) : 'none'}` });
          }
        }
      }
    }, 'near-agreement');
  }
  const result = runChecked({ sim, world, checkers, faultPhaseEndMs, durationMs: options.durationMs });
  const hubs = sim.upNodes().map((n) => n.process!.invalidations.stats);
  const stats = caches.map((c) => c.stats);
  const sum = (f: (s: (typeof stats)[number]) => number) => stats.reduce((t, s) => t + f(s), 0);
  return {
    violations: [...result.violations, ...disagreements.slice(0, 20), ...checker.violations.slice(1).map((v) => ({ ...v, checker: `near-cache/${v.checker}` }))],
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile } : {},
    figures: {
      ...figures,
      hitRatio: figures.reads === 0 ? 0 : figures.nearHits / figures.reads,
      staleness: checker.distribution(),
      /** Every stale hit's staleness (ms after the newer write's acknowledgement), for distributions over seeds. */
      staleHitsMs: checker.staleness.map((ms) => Math.round(ms)),
      streamMessagesPerAckedWrite: figures.writesAcked === 0 ? 0 : figures.streamMessages / figures.writesAcked,
      invalidationKeysPerAckedWrite: figures.writesAcked === 0 ? 0 : figures.invalidationKeysDelivered / figures.writesAcked,
      heartbeatsSentByLiveNodes: hubs.reduce((t, h) => t + h.heartbeatsSent, 0),
      gaps: sum((s) => s.gaps),
      epochChanges: sum((s) => s.epochChanges),
      flushes: sum((s) => s.flushes),
      fillsRefused: sum((s) => s.fillsRefused),
      networkPartitions: cuts.length,
    },
  };
}

export const nearCacheScenario: Scenario = {
  name: 'near-cache',
  summary: 'near caches under swarm faults and lossy, duplicating, reordering invalidation streams: every hit within the staleness bound, none older than an invalidation received',
  defaults: { nodes: 5, durationMs: 10_000, faults: 'swarm' },
  minNodes: 3,
  run: (options, trace) => runNearCache(options, trace),
};
