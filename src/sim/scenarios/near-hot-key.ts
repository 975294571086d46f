/**
 * `near-hot-key`: hot keys go near, measured (issue 17 item 4; docs/CLIENT.md, "Hot keys go
 * near"). Clients read a 5-node cluster with one key taking half of all reads; like the SDK they
 * send each request to the key's primary. The same seed runs three ways:
 *
 * - `off`: no near cache, every read of the hot key goes to its primary;
 * - `spread`: the clients learn the hot key from the nodes' hot-key alerts and send its reads to
 *   its replicas in turn;
 * - `near`: as `spread`, and each client keeps the hot key in its near cache (near-cache.ts,
 *   near-hot-keys.ts: the SDK's own logic) for HOT_NEAR_TTL_MS per fill, dropped on invalidation
 *   (its stream subscribed with the hot key as a prefix; the near cache's prefixes match no key,
 *   so only the hot key is near).
 *
 * The load of a node is the requests it handles: those it coordinates, plus the replica requests
 * coordinators send it (every live owner of the key, as the coordinator asks them). Reported per
 * arm over the measured window: the hottest node's load over the average (the issue's target:
 * within 1.5x with hot keys near) and the requests that reached the cluster.
 */
import type { ShoalNode } from '../../node/node.ts';
import type { InvalidationSubscription } from '../../replication/invalidation.ts';
import { NearCache } from '../../store/near-cache.ts';
import { HOT_NEAR_TTL_MS, HotNearKeys } from '../../store/near-hot-keys.ts';
import { namedStream } from '../rng.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { KvCluster } from './kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_WORKLOAD_START_MS } from './kv.ts';

export type HotKeyArm = 'off' | 'spread' | 'near';

const HOT_KEY = 'hot:item';
const COLD_KEYS = 500;
const CLIENTS = 8;
const THINK_MS = 5;
const HOT_SHARE = 0.5;
const WRITE_SHARE = 0.05;
/** ops/s on one key at one node that raise an alert (the daemon's --hot-key-alert-rate, scaled to this load). */
const ALERT_RATE = 200;
/** Reads and writes run from the workload's start for this long; the load is counted after WARMUP_MS of it. */
const RUN_MS = 12_000;
const WARMUP_MS = 4_000;
/** A push (alert, invalidation batch) reaches a client after this long. */
const PUSH_DELAY_MS = 5;

export interface HotKeyArmFigures {
  /** Requests handled per node in the measured window (coordinated plus replica requests). */
  loadByNode: number[];
  /** The hottest node's load over the average. */
  hottestOverAverage: number;
  /** Client reads in the window, and how many reached the cluster. */
  reads: number;
  readsReachingCluster: number;
  nearHits: number;
}

export function runHotKeyArm(seed: number, nodes: number, arm: HotKeyArm, trace: EventTrace): { figures: HotKeyArmFigures; simMs: number } {
  const cluster = new KvCluster({ seed, nodes, partitions: KV_SIM_PARTITIONS, replication: {}, network: {}, trace, nodeConfig: () => ({ hotKeyAlertRate: ALERT_RATE }) });
  const sim = cluster.sim;
  const random = namedStream(seed, 'near-hot-key/clients');
  const encoder = new TextEncoder();
  const value = encoder.encode('v'.repeat(32));
  const start = KV_WORKLOAD_START_MS;
  const measureFrom = start + WARMUP_MS;
  const end = start + RUN_MS;
  const load = new Array<number>(nodes).fill(0);
  const counts = { reads: 0, readsReachingCluster: 0, nearHits: 0 };
  const measuring = () => sim.now >= measureFrom && sim.now < end;
  const clock = { wallMs: () => sim.now, monoMs: () => sim.now };
  const allPartitions = new Uint8Array(Math.ceil(KV_SIM_PARTITIONS / 8)).fill(0xff);

  const hot = Array.from({ length: CLIENTS }, () => new HotNearKeys());
  const caches = Array.from({ length: CLIENTS }, () => new NearCache({ clock, partitions: KV_SIM_PARTITIONS, maxEntries: 100, ttlMs: 60_000, minStreams: 2 }));
  const subscriptions = Array.from({ length: CLIENTS }, () => new Map<number, InvalidationSubscription>());
  let spreadTurn = 0;

  /** Client c's stream from every node, naming its hot keys as prefixes (the SDK's subscription). */
  const subscribe = (c: number) => {
    for (const n of sim.upNodes()) {
      let subscription = subscriptions[c]!.get(n.index);
      if (subscription === undefined) {
        const source = n.address;
        subscription = n.process!.invalidations.subscribe((batch) => sim.after(PUSH_DELAY_MS, () => caches[c]!.receive(source, batch), 'hot-stream'));
        subscriptions[c]!.set(n.index, subscription);
      }
      subscription.update(allPartitions, hot[c]!.keys(sim.now));
    }
  };
  if (arm !== 'off') {
    // The nodes' alert pushes, as the client port delivers them to SDK clients.
    sim.at(start, () => {
      for (const n of sim.upNodes()) {
        n.process!.onHotKeyAlert((alert) => {
          if (alert.cleared) return;
          for (let c = 0; c < CLIENTS; c++) sim.after(PUSH_DELAY_MS, () => void (hot[c]!.add(alert.key, sim.now) && arm === 'near' && subscribe(c)), 'hot-alert');
        });
      }
      // A stream carries nothing until subscribed: every client subscribes (to no prefix yet) so its heartbeats start.
      if (arm === 'near') for (let c = 0; c < CLIENTS; c++) subscribe(c);
    }, 'hot-subscribe');
  }

  /** The node a client sends `key`'s request to: its primary, or for a hot key's read the next replica in turn. */
  const route = (c: number, key: Uint8Array, keyName: string, read: boolean): { node: ShoalNode; owners: readonly string[] } | null => {
    const any = sim.upNodes()[0]?.process;
    if (!any) return null;
    const placement = any.placement();
    const owners = placement.owners(placement.partitionOfKey(key));
    if (owners.length === 0) return null;
    const turn = read && hot[c]!.has(keyName, sim.now) ? spreadTurn++ : 0;
    const name = owners[turn % owners.length]!;
    const index = sim.upNodes().find((n) => n.process!.name === name)?.index;
    return index === undefined ? null : { node: sim.process(index)!, owners };
  };
  const count = (coordinator: ShoalNode, owners: readonly string[]) => {
    if (!measuring()) return;
    load[sim.indexOf(coordinator.name) ?? 0]!++;
    for (const owner of owners) {
      const i = sim.indexOf(owner);
      if (i !== undefined) load[i]!++;
    }
  };

  const step = (c: number) => {
    if (sim.now >= end) return;
    const next = () => sim.after(random.exponential(THINK_MS), () => step(c), 'hot-client');
    const keyName = random.chance(HOT_SHARE) ? HOT_KEY : `cold:${random.int(COLD_KEYS)}`;
    const key = encoder.encode(keyName);
    const write = random.chance(WRITE_SHARE);
    const target = route(c, key, keyName, !write);
    if (target === null) return next();
    const partition = target.node.placement().partitionOfKey(key);
    if (write) {
      caches[c]!.forget(keyName);
      count(target.node, target.owners);
      target.node.kv.set(key, value, { ttlMs: 0 }, () => {});
      return next();
    }
    if (measuring()) counts.reads++;
    const near = arm === 'near' && hot[c]!.has(keyName, sim.now);
    if (near && caches[c]!.get(keyName, partition)) {
      if (measuring()) counts.nearHits++;
      return next();
    }
    if (measuring()) counts.readsReachingCluster++;
    count(target.node, target.owners);
    const token = near ? caches[c]!.beginFill(keyName, partition) : null;
    target.node.kv.get(key, {}, (error, result) => {
      if (token === null) return;
      if (error || !result) caches[c]!.abandonFill(token);
      else caches[c]!.completeFill(token, result.value, result.version ?? null, result.expiresAtMs, HOT_NEAR_TTL_MS);
    });
    next();
  };
  for (let c = 0; c < CLIENTS; c++) sim.at(start + random.exponential(THINK_MS), () => step(c), 'hot-client');
  sim.runUntil(end + 1_000);
  const average = load.reduce((a, b) => a + b, 0) / nodes;
  return {
    simMs: sim.now,
    figures: { loadByNode: load, hottestOverAverage: average === 0 ? 0 : round(Math.max(...load) / average), ...counts },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function runNearHotKey(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const arms = (['off', 'spread', 'near'] as const).map((arm) => ({ arm, ...runHotKeyArm(options.seed, options.nodes, arm, trace) }));
  return {
    violations: [],
    simMs: arms.reduce((t, a) => t + a.simMs, 0),
    derived: { hotShare: HOT_SHARE, coldKeys: COLD_KEYS, clients: CLIENTS, alertRate: ALERT_RATE },
    figures: Object.fromEntries(arms.map((a) => [a.arm, a.figures])),
  };
}

export const nearHotKeyScenario: Scenario = {
  name: 'near-hot-key',
  summary: 'one key takes half the reads: the hottest node\'s load over the average with hot keys off, spread over replicas, and near-cached',
  defaults: { nodes: 5, durationMs: RUN_MS, faults: 'none' },
  minNodes: 3,
  measurement: true,
  run: runNearHotKey,
};
