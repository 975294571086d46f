/**
 * The answer to `status` requests (what `shoal status` prints): the node's own facts, its view of
 * the membership, and how many partitions each member holds in its ring.
 */
import type { Membership } from '../gossip/membership.ts';
import type { CatchUpStatus, MemberStatus, NodeStatus, RequestStatus } from '../protocol/index.ts';
import type { TopologySnapshot } from '../replication/api.ts';

export interface StatusSources {
  node: string;
  cluster: string;
  zone: string;
  version: string;
  readQuorum: number;
  writeQuorum: number;
  /** Milliseconds since the daemon started. */
  uptimeMs: () => number;
  joined: () => boolean;
  /** Until joined: what the node waits for; null once joined. */
  waitingFor: () => string | null;
  /** Peers the node keeps out and why: members shown as `refused`, and non-members (another cluster) added so. */
  refused: () => readonly { name: string; address: string; reason: string }[];
  membership: Membership;
  topology: () => TopologySnapshot;
  /** Partition replicas held here, and those catching up or waiting to be handed off. */
  progress: () => { held: number; catchingUp: number; toHandOff: number };
  clientConnections: () => number;
  /** Quorums in effect and reads that missed (NodeStatus.requests). */
  requests?: () => RequestStatus;
  /** The node's current (or last) catch-up; omitted from the answer when not given. */
  catchUp?: () => CatchUpStatus;
}

export function nodeStatus(s: StatusSources): NodeStatus {
  const topology = s.topology();
  const slots = new Map<string, { partitions: number; primaries: number }>();
  for (const owners of topology.owners) {
    owners.forEach((name, rank) => {
      let counts = slots.get(name);
      if (counts === undefined) slots.set(name, (counts = { partitions: 0, primaries: 0 }));
      counts.partitions++;
      if (rank === 0) counts.primaries++;
    });
  }
  const refused = new Map(s.refused().map((r) => [r.name, r]));
  const members: MemberStatus[] = s.membership.members().map((m) => {
    // Kept refused after it left too (a refused daemon exits, announcing its leave): the reason is
    // what an operator needs, for as long as gossip remembers the member.
    const refusal = refused.get(m.name);
    refused.delete(m.name);
    return {
      name: m.name,
      address: m.address,
      clientAddress: typeof m.meta['clientAddress'] === 'string' ? m.meta['clientAddress'] : '',
      zone: m.zone,
      // A member kept out is refused whatever gossip says of it (it may well be alive).
      state: refusal ? 'refused' : m.state,
      ...(refusal ? { reason: refusal.reason } : {}),
      incarnation: m.incarnation,
      partitions: slots.get(m.name)?.partitions ?? 0,
      primaries: slots.get(m.name)?.primaries ?? 0,
    };
  });
  // Nodes of another cluster never become members; they are shown so an operator sees who knocks.
  for (const r of refused.values()) {
    members.push({ name: r.name, address: r.address, clientAddress: '', zone: '', state: 'refused', reason: r.reason, incarnation: 0, partitions: 0, primaries: 0 });
  }
  members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const waitingFor = s.waitingFor();
  const progress = s.progress();
  return {
    node: s.node,
    cluster: s.cluster,
    zone: s.zone,
    version: s.version,
    uptimeMs: Math.max(0, Math.round(s.uptimeMs())),
    joined: s.joined(),
    joining: waitingFor === null ? null : { waitingFor },
    ringVersion: topology.version,
    partitions: topology.partitions,
    replicas: topology.replicas,
    readQuorum: s.readQuorum,
    writeQuorum: s.writeQuorum,
    held: progress.held,
    catchingUp: progress.catchingUp,
    toHandOff: progress.toHandOff,
    clientConnections: s.clientConnections(),
    members,
    ...(s.requests ? { requests: s.requests() } : {}),
    ...(s.catchUp ? { catchUp: catchUpStatus(s.catchUp()) } : {}),
  };
}

/** Whole milliseconds, so every field is a uint on the wire. */
function catchUpStatus(c: CatchUpStatus): CatchUpStatus {
  return { ...c, elapsedMs: Math.max(0, Math.round(c.elapsedMs)) };
}
