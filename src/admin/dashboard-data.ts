/**
 * The dashboard's numbers: what one node reports about itself (`NodeSample`, served at
 * /dashboard/node), and the collector that turns every member's samples into one cluster snapshot a
 * second (rates, hit ratio, latency quantiles, memory, hints, handoff, hot keys, events), with the
 * last five minutes of history.
 *
 * Every other member's sample comes from `DashboardSources.peerSamples`: the daemon asks the
 * members over the node-to-node channel (src/daemon/member-ask.ts says why that channel), each
 * answering with its own `NodeSample`, the JSON /dashboard/node serves.
 *
 * Edge code: it owns an interval; it only reads the node.
 */
import type { TopologySnapshot } from '../replication/api.ts';
import { LATENCY_BUCKETS, latencyQuantileMs } from './metrics.ts';

/** How often the collector samples the cluster while someone watches (1 s). */
export const DASHBOARD_INTERVAL_MS = 1000;
/** History kept for the charts: five minutes of one-second points. */
export const DASHBOARD_HISTORY_POINTS = 300;
const EVENTS_KEPT = 50;
const ALERTS_KEPT = 20;
const HOT_KEYS_SHOWN = 10;

/**
 * What the dashboard reads of the node's own status (ShoalNode.status in src/node/node.ts has these
 * fields and more; declared here so src/admin does not import the node).
 */
export interface DashboardNodeView {
  name: string;
  zone: string;
  joined: boolean;
  leaving: boolean;
  ring: { version: string; partitions: number; replicas: number };
  members: readonly {
    name: string;
    zone: string;
    state: string;
    incarnation: number;
    clientAddress: string | null;
    adminPort?: number | null;
    leaving: boolean;
    /** Drained or draining, as its gossip says (its own sample says which). */
    draining?: boolean;
    inRing: boolean;
    partitionsOwned: number;
    primaries: number;
  }[];
  /** This node's own drain (src/node/drain.ts). */
  drain?: { state: string; partitionsLeft: number };
  /** Every live member's health as this node's view of the peer verdicts adds up (only `members` is read). */
  health?: { members: readonly { name: string; state: string; score: number }[] };
  partitionsHeld: number;
  handoff: { partitionsCatchingUp: number; partitionsToHandOff: number; keysToHandOff: number; partitionsHandedOff: number; keysHandedOff: number };
  hints: { held: number; heldBytes: number; stored: number; delivered: number; droppedForRoom: number; expired: number };
  store: { entries: number; bytes: number; maxMemory: number; evictions: { size: number; expired: number; explicit: number } };
  coordinator: { reads: number; writes: number; missAbsent: number; missDeleted: number; missExpired: number; missEvicted: number; readRepairs: number; unavailable: number; overloaded: number };
}

/** An alert another feature raises (a hot key over its threshold, say); see DashboardSources.subscribeAlerts. */
export interface DashboardAlert {
  kind: string;
  message: string;
}

export interface DashboardSources {
  /** Software version of this node. */
  version: string;
  node(): DashboardNodeView;
  topology(): TopologySnapshot;
  /** This node's hottest keys with their ops/s over the last second (ShoalNode.hotKeys: what `shoal hotkeys` shows), only keys with traffic. */
  hotKeys(n: number): readonly { key: string; rate: number }[];
  clientConnections(): number;
  uptimeMs(): number;
  /** Requests this node coordinated per latency bucket (the metrics' RequestTimer.latencyCounts), or null when not measured. */
  latency: (() => number[]) | null;
  /**
   * The hook for alerts (hot keys, issue 15 item 4): the daemon passes a subscription, and each
   * alert shows in every member's dashboard's events. Returns an unsubscribe.
   */
  subscribeAlerts?: (listener: (alert: DashboardAlert) => void) => () => void;
  /** Every other live member's sample, or why it did not come (members that time out within the second are unreachable). */
  peerSamples(): Promise<readonly PeerSample[]>;
}

export interface PeerSample {
  name: string;
  sample: NodeSample | null;
  error: string | null;
}

/** One node's report about itself, served at /dashboard/node. Counters only grow (until a restart). */
export interface NodeSample {
  node: string;
  zone: string;
  version: string;
  uptimeMs: number;
  /** Wall clock of the sample (ms since the epoch). */
  atMs: number;
  joined: boolean;
  leaving: boolean;
  ringVersion: string;
  /** Its own drain: serving, draining or drained (absent from a member on an older version). */
  drain?: { state: string; partitionsLeft: number };
  counters: { reads: number; writes: number; hits: number; misses: number; readRepairs: number; unavailable: number; overloaded: number; evictions: number };
  /** Requests per latency bucket since start (metrics.ts LATENCY_BUCKETS, then one for slower), or null. */
  latency: number[] | null;
  memory: { bytes: number; maxMemory: number; entries: number; rss: number; heapUsed: number };
  hints: DashboardNodeView['hints'];
  handoff: DashboardNodeView['handoff'];
  partitionsHeld: number;
  clientConnections: number;
  hotKeys: { key: string; rate: number }[];
  /** The member list as this node's gossip sees it. */
  members: { name: string; zone: string; state: string; clientAddress: string | null; adminPort: number | null; leaving: boolean; draining: boolean; partitionsOwned: number; primaries: number }[];
  /** Live members this node's view of the peer verdicts holds degraded (health routing avoids them), with their health score. */
  degraded: { name: string; score: number }[];
  /** The latest alerts raised on this node, oldest first; `seq` numbers them. */
  alerts: { seq: number; atMs: number; kind: string; message: string }[];
}

export function nodeSample(s: DashboardSources, alerts: NodeSample['alerts']): NodeSample {
  const v = s.node();
  const c = v.coordinator;
  const misses = c.missAbsent + c.missDeleted + c.missExpired + c.missEvicted;
  const mem = process.memoryUsage();
  return {
    node: v.name,
    zone: v.zone,
    version: s.version,
    uptimeMs: Math.round(s.uptimeMs()),
    atMs: Date.now(),
    joined: v.joined,
    leaving: v.leaving,
    ringVersion: v.ring.version,
    drain: v.drain ? { state: v.drain.state, partitionsLeft: v.drain.partitionsLeft } : { state: 'serving', partitionsLeft: 0 },
    counters: {
      reads: c.reads,
      writes: c.writes,
      // Coordinator view: reads this node answered for clients, found or not.
      hits: Math.max(0, c.reads - misses),
      misses,
      readRepairs: c.readRepairs,
      unavailable: c.unavailable,
      overloaded: c.overloaded,
      evictions: v.store.evictions.size,
    },
    latency: s.latency === null ? null : s.latency(),
    memory: { bytes: v.store.bytes, maxMemory: v.store.maxMemory, entries: v.store.entries, rss: mem.rss, heapUsed: mem.heapUsed },
    hints: { ...v.hints },
    handoff: { ...v.handoff },
    partitionsHeld: v.partitionsHeld,
    clientConnections: s.clientConnections(),
    hotKeys: s.hotKeys(HOT_KEYS_SHOWN).map((k) => ({ key: k.key, rate: k.rate })),
    members: v.members.map((m) => ({
      name: m.name,
      zone: m.zone,
      state: m.state,
      clientAddress: m.clientAddress,
      adminPort: m.adminPort ?? null,
      leaving: m.leaving,
      draining: m.draining ?? false,
      partitionsOwned: m.partitionsOwned,
      primaries: m.primaries,
    })),
    degraded: (v.health?.members ?? []).filter((h) => h.state === 'degraded').map((h) => ({ name: h.name, score: h.score })),
    alerts,
  };
}

/** One second of the cluster, for the charts. */
export interface DashboardPoint {
  atMs: number;
  ops: number;
  /** Hits over reads answered in that second, or null without reads. */
  hitRatio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  memoryBytes: number;
  /** Requests per second by node. */
  nodeOps: Record<string, number>;
}

export interface DashboardMember {
  name: string;
  zone: string;
  /** Gossip's state as the serving node sees it: alive, suspect, dead, left. */
  state: string;
  leaving: boolean;
  /**
   * Its drain: `serving`, `draining` or `drained` as it says itself, or `draining` when only gossip's
   * flag is known (it did not answer, or runs an older version).
   */
  drain: string;
  /** Whether the serving node holds it degraded (its peers' verdicts or its own declaration), and its health score (0..1). */
  degraded: boolean;
  healthScore: number | null;
  /** Whether it answered this second over the node-to-node channel (its numbers below are then current). */
  reachable: boolean;
  error: string | null;
  partitionsOwned: number;
  primaries: number;
  ops: number | null;
  hitRatio: number | null;
  p99Ms: number | null;
  memory: NodeSample['memory'] | null;
  hints: NodeSample['hints'] | null;
  handoff: NodeSample['handoff'] | null;
  clientConnections: number | null;
  uptimeMs: number | null;
  version: string | null;
}

export interface DashboardEvent {
  atMs: number;
  kind: string;
  message: string;
}

export interface DashboardSnapshot {
  self: string;
  atMs: number;
  ring: { version: string; partitions: number; replicas: number; nodes: string[]; primaries: number[] };
  members: DashboardMember[];
  cluster: {
    alive: number;
    members: number;
    memory: { bytes: number; maxMemory: number; entries: number };
    hints: { held: number; stored: number; delivered: number; droppedForRoom: number };
    handoff: { partitionsCatchingUp: number; partitionsToHandOff: number; keysToHandOff: number; keysHandedOff: number };
  };
  point: DashboardPoint;
  /** Ops/s at the key's busiest node, and the nodes that report it (as `shoal hotkeys` merges). */
  hotKeys: { key: string; rate: number; nodes: string[] }[];
  events: DashboardEvent[];
  /** Whether the listeners' latency is measured (p50/p99 are null otherwise). */
  latencyMeasured: boolean;
}

/** What a watcher gets: a snapshot, and in the first message the history to draw at once. */
export type DashboardMessage = DashboardSnapshot & { history?: DashboardPoint[] };

/** Samples the cluster every second while anybody watches; one collector per node, shared by all its watchers. */
export class DashboardCollector {
  private readonly listeners = new Set<(message: DashboardMessage) => void>();
  private readonly history: DashboardPoint[] = [];
  private readonly events: DashboardEvent[] = [];
  private readonly alerts: NodeSample['alerts'] = [];
  private alertSeq = 0;
  private readonly seenAlerts = new Map<string, number>();
  private readonly previous = new Map<string, NodeSample>();
  private lastStates: Map<string, string> | null = null;
  private lastRingVersion: string | null = null;
  private lastDrains = new Map<string, string>();
  private lastDegraded = new Set<string>();
  private readonly unreachable = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private latest: DashboardSnapshot | null = null;
  private readonly unsubscribeAlerts: () => void;

  constructor(private readonly sources: DashboardSources) {
    this.unsubscribeAlerts = sources.subscribeAlerts?.((alert) => this.raise(alert)) ?? (() => {});
  }

  /** This node's own sample (/dashboard/node). */
  sample(): NodeSample {
    return nodeSample(this.sources, this.alerts.slice());
  }

  /** Notes an alert raised on this node: kept for the members' dashboards, newest ALERTS_KEPT. */
  raise(alert: DashboardAlert): void {
    this.alerts.push({ seq: ++this.alertSeq, atMs: Date.now(), kind: alert.kind, message: alert.message });
    if (this.alerts.length > ALERTS_KEPT) this.alerts.shift();
  }

  /**
   * Calls `listener` with a snapshot every second (the first with the history) until the returned
   * function is called. Sampling runs while there is at least one listener.
   */
  subscribe(listener: (message: DashboardMessage) => void): () => void {
    this.listeners.add(listener);
    if (this.latest !== null) listener({ ...this.latest, history: this.history.slice() });
    else void this.tick().catch(() => {});
    if (this.timer === null) this.timer = setInterval(() => void this.tick().catch(() => {}), DASHBOARD_INTERVAL_MS);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  /** A snapshot no older than `maxAgeMs` (GET /dashboard/cluster: a second), with the history. */
  async snapshot(maxAgeMs = DASHBOARD_INTERVAL_MS): Promise<DashboardMessage> {
    if (this.latest === null || Date.now() - this.latest.atMs >= maxAgeMs) await this.tick();
    return { ...this.latest!, history: this.history.slice() };
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
    this.unsubscribeAlerts();
  }

  /** One round of sampling; a call while one runs waits for that one instead of starting another. */
  private tick(): Promise<void> {
    this.running ??= this.collect()
      .then((snapshot) => {
        this.latest = snapshot;
        for (const listener of this.listeners) listener(snapshot);
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async collect(): Promise<DashboardSnapshot> {
    const own = this.sample();
    const topology = this.sources.topology();
    const answers = await this.sources.peerSamples();
    const samples = new Map<string, NodeSample>([[own.node, own]]);
    const errors = new Map<string, string>();
    for (const a of answers) {
      if (a.sample !== null && a.sample.node === a.name) samples.set(a.name, a.sample);
      else errors.set(a.name, a.error ?? `answered as ${a.sample?.node}`);
    }
    const atMs = Date.now();
    this.noteEvents(own, [...samples.values()], topology.version, errors, atMs);

    // Rates from each node's counters over its own uptime clock, so a late answer does not skew them.
    let ops = 0;
    let hits = 0;
    let reads = 0;
    const nodeOps: Record<string, number> = {};
    const latency = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
    const rates = new Map<string, { ops: number; hitRatio: number | null; p99Ms: number | null }>();
    for (const [name, sample] of samples) {
      const prev = this.previous.get(name);
      this.previous.set(name, sample);
      if (prev === undefined || sample.uptimeMs <= prev.uptimeMs) continue;
      const seconds = (sample.uptimeMs - prev.uptimeMs) / 1000;
      const d = (k: keyof NodeSample['counters']): number => Math.max(0, sample.counters[k] - prev.counters[k]);
      const nodeRate = (d('reads') + d('writes')) / seconds;
      ops += nodeRate;
      nodeOps[name] = nodeRate;
      hits += d('hits');
      reads += d('hits') + d('misses');
      let nodeLatency: number[] | null = null;
      if (sample.latency !== null && prev.latency !== null && sample.latency.length === LATENCY_BUCKETS.length + 1) {
        nodeLatency = sample.latency.map((c, i) => Math.max(0, c - (prev.latency![i] ?? 0)));
        nodeLatency.forEach((c, i) => (latency[i]! += c));
      }
      const nodeReads = d('hits') + d('misses');
      rates.set(name, { ops: nodeRate, hitRatio: nodeReads === 0 ? null : d('hits') / nodeReads, p99Ms: nodeLatency === null ? null : latencyQuantileMs(nodeLatency, 0.99) });
    }
    for (const name of [...this.previous.keys()]) if (!own.members.some((m) => m.name === name)) this.previous.delete(name);

    const point: DashboardPoint = {
      atMs,
      ops,
      hitRatio: reads === 0 ? null : hits / reads,
      p50Ms: latencyQuantileMs(latency, 0.5),
      p99Ms: latencyQuantileMs(latency, 0.99),
      memoryBytes: [...samples.values()].reduce((sum, s) => sum + s.memory.bytes, 0),
      nodeOps,
    };
    this.history.push(point);
    if (this.history.length > DASHBOARD_HISTORY_POINTS) this.history.shift();

    const members: DashboardMember[] = own.members
      .map((m) => {
        const s = samples.get(m.name) ?? null;
        const r = rates.get(m.name) ?? null;
        const health = own.degraded.find((d) => d.name === m.name);
        return {
          name: m.name,
          zone: m.zone,
          state: m.state,
          leaving: m.leaving,
          drain: memberDrain(m.draining, s),
          degraded: health !== undefined,
          healthScore: health?.score ?? null,
          reachable: s !== null,
          error: errors.get(m.name) ?? null,
          partitionsOwned: m.partitionsOwned,
          primaries: m.primaries,
          ops: r?.ops ?? null,
          hitRatio: r?.hitRatio ?? null,
          p99Ms: r?.p99Ms ?? null,
          memory: s?.memory ?? null,
          hints: s?.hints ?? null,
          handoff: s?.handoff ?? null,
          clientConnections: s?.clientConnections ?? null,
          uptimeMs: s?.uptimeMs ?? null,
          version: s?.version ?? null,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const all = [...samples.values()];
    const sum = (f: (s: NodeSample) => number): number => all.reduce((acc, s) => acc + f(s), 0);
    const nodes = [...new Set(topology.nodes.map((n) => n.name))].sort();
    const index = new Map(nodes.map((n, i) => [n, i]));
    return {
      self: own.node,
      atMs,
      ring: { version: topology.version, partitions: topology.partitions, replicas: topology.replicas, nodes, primaries: topology.owners.map((o) => (o[0] === undefined ? -1 : (index.get(o[0]) ?? -1))) },
      members,
      cluster: {
        alive: own.members.filter((m) => m.state === 'alive').length,
        members: own.members.filter((m) => m.state !== 'left').length,
        memory: { bytes: sum((s) => s.memory.bytes), maxMemory: sum((s) => s.memory.maxMemory), entries: sum((s) => s.memory.entries) },
        hints: { held: sum((s) => s.hints.held), stored: sum((s) => s.hints.stored), delivered: sum((s) => s.hints.delivered), droppedForRoom: sum((s) => s.hints.droppedForRoom) },
        handoff: {
          partitionsCatchingUp: sum((s) => s.handoff.partitionsCatchingUp),
          partitionsToHandOff: sum((s) => s.handoff.partitionsToHandOff),
          keysToHandOff: sum((s) => s.handoff.keysToHandOff),
          keysHandedOff: sum((s) => s.handoff.keysHandedOff),
        },
      },
      point,
      hotKeys: mergeHotKeys(all),
      events: this.events.slice().reverse(),
      latencyMeasured: all.some((s) => s.latency !== null),
    };
  }

  /** Joins, leaves, state changes and ring changes seen by this node's gossip, members that stop answering, and alerts. */
  private noteEvents(own: NodeSample, samples: readonly NodeSample[], ringVersion: string, errors: Map<string, string>, atMs: number): void {
    // Kept in time order (oldest first): members' alerts arrive with their own, earlier times, one
    // member after another, and the list must read by time across members.
    const add = (kind: string, message: string, at = atMs): void => {
      let i = this.events.length;
      while (i > 0 && this.events[i - 1]!.atMs > at) i--;
      this.events.splice(i, 0, { atMs: at, kind, message });
      if (this.events.length > EVENTS_KEPT) this.events.shift();
    };
    const states = new Map(own.members.map((m) => [m.name, m.state]));
    const drains = new Map(own.members.map((m) => [m.name, memberDrain(m.draining, samples.find((s) => s.node === m.name) ?? null)]));
    const degraded = new Set(own.degraded.map((d) => d.name));
    if (this.lastStates === null) {
      add('watch', `${own.node} started watching: ${[...states].map(([n, s]) => `${n} ${s}`).join(', ')}`);
    } else {
      for (const [name, state] of states) {
        const before = this.lastStates.get(name);
        if (before === undefined) add('join', `${name} joined (${state})`);
        else if (before !== state) add(state === 'suspect' ? 'suspect' : state === 'dead' ? 'dead' : state === 'left' ? 'leave' : 'alive', `${name}: ${before} → ${state}`);
      }
      for (const name of this.lastStates.keys()) if (!states.has(name)) add('forgotten', `${name} forgotten by gossip`);
      for (const [name, drain] of drains) {
        const before = this.lastDrains.get(name) ?? 'serving';
        if (drain !== before) add(drain === 'serving' ? 'undrain' : 'drain', `${name}: ${before} → ${drain}`);
      }
      for (const name of degraded) if (!this.lastDegraded.has(name)) add('degraded', `${name} is degraded: health score ${(own.degraded.find((d) => d.name === name)?.score ?? 0).toFixed(2)}`);
      for (const name of this.lastDegraded) if (!degraded.has(name) && states.get(name) === 'alive') add('healthy', `${name} is no longer degraded`);
    }
    this.lastStates = states;
    this.lastDrains = drains;
    this.lastDegraded = degraded;
    if (this.lastRingVersion !== null && this.lastRingVersion !== ringVersion) add('ring', `ring changed: version ${ringVersion.slice(0, 12)}`);
    this.lastRingVersion = ringVersion;
    // Members are asked over the node-to-node channel (member-ask.ts), not their admin port.
    for (const [name, error] of errors) {
      if (!this.unreachable.has(name)) add('unreachable', `${name} does not answer the dashboard's request (node-to-node channel): ${error}`);
    }
    for (const name of this.unreachable) if (!errors.has(name) && samples.some((s) => s.node === name)) add('reachable', `${name} answers again`);
    this.unreachable.clear();
    for (const name of errors.keys()) this.unreachable.add(name);
    // Alerts of every member that answered, each once.
    for (const sample of samples) {
      const last = sample.alerts.at(-1)?.seq ?? 0;
      // A member that restarted numbers its alerts from 1 again.
      const seen = Math.min(this.seenAlerts.get(sample.node) ?? 0, last);
      for (const alert of sample.alerts) if (alert.seq > seen) add(`alert:${alert.kind}`, `${sample.node}: ${alert.message}`, alert.atMs);
      this.seenAlerts.set(sample.node, last);
    }
  }
}

/** A member's drain: what it says itself when it answered, else `draining` if gossip flags it (drained or draining). */
function memberDrain(gossipDraining: boolean, sample: NodeSample | null): string {
  if (sample?.drain !== undefined) return sample.drain.state;
  return gossipDraining ? 'draining' : 'serving';
}

/**
 * The cluster's hottest keys, merged as `shoal hotkeys` merges (src/daemon/cluster-hot-keys.ts): a
 * key's rate is the one at its busiest node, since a write reaches every replica and summing would
 * count it N times. A member on an older version sends counts, not rates: its keys are left out.
 */
function mergeHotKeys(samples: readonly NodeSample[]): DashboardSnapshot['hotKeys'] {
  const merged = new Map<string, { key: string; rate: number; nodes: string[] }>();
  for (const s of samples) {
    for (const k of s.hotKeys) {
      if (typeof k.rate !== 'number' || !(k.rate > 0)) continue;
      const m = merged.get(k.key) ?? { key: k.key, rate: 0, nodes: [] };
      m.rate = Math.max(m.rate, k.rate);
      m.nodes.push(s.node);
      merged.set(k.key, m);
    }
  }
  return [...merged.values()].sort((a, b) => b.rate - a.rate || (a.key < b.key ? -1 : 1)).slice(0, HOT_KEYS_SHOWN);
}
