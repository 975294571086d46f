/**
 * The answer to `status` requests (what `shoal status` prints): the node's own view
 * (`ShoalNode.status()`: membership, ring and partition counts, progress), which is the one place
 * those are gathered, told in the wire's terms and completed with what only the daemon knows
 * (cluster, version, uptime, client connections, peers it refused).
 */
import type { NodeStatus as NodeView } from '../node/node.ts';
import type { DrainProgress } from '../node/drain.ts';
import type { StoreStats } from '../store/index.ts';
import type { AccessAnalytics, CatchUpStatus, DiskStatus, DrainStatus, MemberStatus, MemoryStatus, NodeStatus, RequestStatus, WireNodeHealth } from '../protocol/index.ts';

export interface StatusSources {
  node: string;
  cluster: string;
  zone: string;
  version: string;
  readQuorum: number;
  writeQuorum: number;
  /** Milliseconds since the daemon started. */
  uptimeMs: () => number;
  /** The node's own view of itself and the cluster (ShoalNode.status), the parts shown here. */
  view: () => Pick<NodeView, 'joined' | 'waitingFor' | 'ring' | 'members' | 'partitionsHeld' | 'handoff'> & Partial<Pick<NodeView, 'health' | 'disk' | 'drain' | 'hints' | 'store'>>;
  /** Peers the node keeps out and why: members shown as `refused`, and non-members (another cluster) added so. */
  refused: () => readonly { name: string; address: string; reason: string }[];
  clientConnections: () => number;
  /** Quorums in effect and reads that missed (NodeStatus.requests). */
  requests?: () => RequestStatus;
  /** The node's current (or last) catch-up; omitted from the answer when not given. */
  catchUp?: () => CatchUpStatus;
  /** Access analytics (`shoal stats`); omitted when not given or null (analytics off). */
  analytics?: () => AccessAnalytics | null;
}

export function nodeStatus(s: StatusSources): NodeStatus {
  const view = s.view();
  const refused = new Map(s.refused().map((r) => [r.name, r]));
  const health = new Map(
    (view.health?.members ?? []).map((h) => [
      h.name,
      {
        degraded: h.state === 'degraded',
        score: h.score,
        ...(typeof h.failureProbability === 'number' ? { failureProbability: h.failureProbability } : {}),
        ...(typeof h.secondsToFailure === 'number' ? { secondsToFailure: h.secondsToFailure } : {}),
      },
    ]),
  );
  const members: MemberStatus[] = view.members.map((m) => {
    // Kept refused after it left too (a refused daemon exits, announcing its leave): the reason is
    // what an operator needs, for as long as gossip remembers the member.
    const refusal = refused.get(m.name);
    refused.delete(m.name);
    return {
      name: m.name,
      address: m.address,
      clientAddress: m.clientAddress ?? '',
      zone: m.zone,
      // A member kept out is refused whatever gossip says of it (it may well be alive).
      state: refusal ? 'refused' : m.state,
      ...(refusal ? { reason: refusal.reason } : {}),
      incarnation: m.incarnation,
      partitions: m.partitionsOwned,
      primaries: m.primaries,
      ...(health.has(m.name) ? { health: health.get(m.name)! } : {}),
      ...(m.draining ? { draining: true } : {}),
      ...(m.onAnotherRing ? { onAnotherRing: true } : {}),
    };
  });
  // Nodes of another cluster never become members; they are shown so an operator sees who knocks.
  for (const r of refused.values()) {
    members.push({ name: r.name, address: r.address, clientAddress: '', zone: '', state: 'refused', reason: r.reason, incarnation: 0, partitions: 0, primaries: 0 });
  }
  members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    node: s.node,
    cluster: s.cluster,
    zone: s.zone,
    version: s.version,
    uptimeMs: Math.max(0, Math.round(s.uptimeMs())),
    joined: view.joined,
    joining: view.waitingFor === null ? null : { waitingFor: view.waitingFor },
    ringVersion: view.ring.version,
    partitions: view.ring.partitions,
    replicas: view.ring.replicas,
    readQuorum: s.readQuorum,
    writeQuorum: s.writeQuorum,
    held: view.partitionsHeld,
    catchingUp: view.handoff.partitionsCatchingUp,
    toHandOff: view.handoff.partitionsToHandOff,
    clientConnections: s.clientConnections(),
    members,
    ...(s.requests ? { requests: s.requests() } : {}),
    ...(s.catchUp ? { catchUp: catchUpStatus(s.catchUp()) } : {}),
    ...analyticsOf(s),
    ...(view.disk ? { disk: diskStatus(view.disk) } : {}),
    ...(view.drain && view.drain.state !== 'serving' ? { drain: drainStatus(view.drain) } : {}),
    ...(view.health ? { health: healthStatus(view.health) } : {}),
    ...(view.hints ? { hints: { held: view.hints.held, heldBytes: view.hints.heldBytes } } : {}),
    ...(view.store ? { memory: memoryStatus(view.store) } : {}),
  };
}

/** The store against its budget, in the wire's terms (a budget of Infinity, a store counting entries, goes as 0). */
function memoryStatus(s: StoreStats): MemoryStatus {
  return { bytes: s.bytes, maxBytes: Number.isFinite(s.maxMemory) ? s.maxMemory : 0, entries: s.entries, policy: s.policy, evicted: s.evictions.size };
}

/** The node's health view in the wire's terms (a copy: the answer is encoded later, the view may move on). */
function healthStatus(h: NonNullable<NodeView['health']>): WireNodeHealth {
  return {
    routing: h.routing,
    peers: h.peers.map((p) => ({ ...p })),
    counters: { ...h.counters },
    members: h.members.map((m) => ({ ...m, reportedBy: m.reportedBy.map((r) => ({ ...r })) })),
    self: { ...h.self },
    prediction: h.prediction && { ...h.prediction },
  };
}

/** Whole milliseconds, so every field is a uint on the wire. */
export function drainStatus(d: DrainProgress): DrainStatus {
  return { ...d, elapsedMs: Math.max(0, Math.round(d.elapsedMs)) };
}

/** Whole milliseconds, so every field is a uint on the wire. */
function catchUpStatus(c: CatchUpStatus): CatchUpStatus {
  return { ...c, elapsedMs: Math.max(0, Math.round(c.elapsedMs)) };
}

function analyticsOf(s: StatusSources): { analytics?: AccessAnalytics } {
  const analytics = s.analytics?.() ?? null;
  return analytics === null ? {} : { analytics };
}

function diskStatus(d: NonNullable<NodeView['disk']>): DiskStatus {
  return { entries: d.entries, puts: d.puts, hits: d.hits, deviceReads: d.deviceReads, corrupt: d.corrupt, deviceBytesWritten: d.deviceBytesWritten, appBytes: d.appBytes, writeErrors: d.writeErrors };
}
