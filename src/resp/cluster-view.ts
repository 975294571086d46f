/**
 * What the Redis Cluster commands and the MOVED decision need to know about the node's cluster:
 * its members (liveness, RESP address, stable 40-hex id), its ring, and how long that ring has
 * been unchanged. The daemon builds it from the node (`createClusterView` over a
 * `ClusterSource`); tests build it from plain data. src/resp never imports src/node.
 */
import { createHash } from 'node:crypto';
import type { TopologySnapshot } from '../replication/api.ts';
import { ClusterLayout } from './cluster-layout.ts';

/** A member's liveness in this node's gossip view ('left' members are not listed at all). */
export type Liveness = 'alive' | 'suspect' | 'dead';

export interface ClusterMember {
  readonly name: string;
  /** Redis's node id: 40 hex digits, derived from the name so it survives restarts. */
  readonly id: string;
  readonly zone: string;
  readonly liveness: Liveness;
  /** Its Redis protocol listener, or null when it has none (`--resp-port 0`). */
  readonly resp: { readonly host: string; readonly port: number } | null;
  /** Port of its node-to-node endpoint: what CLUSTER NODES prints as the cluster bus port. */
  readonly busPort: number;
  /** This node. */
  readonly self: boolean;
}

/** What the daemon feeds the view with (cheap reads: they run on every keyed command, cached). */
export interface ClusterSource {
  /** This node's name. */
  readonly self: string;
  nowMs(): number;
  /** The ring as this node sees it (cached by the node until it changes). */
  topology(): TopologySnapshot;
  /** Every member gossip knows, this node included. */
  members(): readonly SourceMember[];
  /** Subscribes to ring changes so the stability clock restarts at once; returns an unsubscribe. */
  onTopologyChange?(listener: (version: string) => void): () => void;
  /** One gossip round (the probe interval), in ms. */
  readonly gossipRoundMs: number;
}

export interface SourceMember {
  name: string;
  zone: string;
  state: Liveness | 'left';
  /** `host:port` of its node-to-node endpoint. */
  peerAddress: string;
  /** `host:port` of its RESP listener, or null. */
  respAddress: string | null;
}

export interface ClusterView {
  readonly selfName: string;
  readonly selfId: string;
  /** The ring (version, partition count, owners per partition). */
  topology(): TopologySnapshot;
  /** Members not known to have left, by name. */
  members(): ReadonlyMap<string, ClusterMember>;
  /** Slot ranges, primaries and replicas as Redis clients see them; rebuilt when ring or members change. */
  layout(): ClusterLayout;
  /** How long this node's ring version has been unchanged, in ms. */
  ringStableMs(): number;
  /** The ring must have been stable this long before this node redirects (`MOVED`). */
  readonly stableAfterMs: number;
}

/** Gossip rounds a ring must stay unchanged before MOVED: every member has most likely seen it by then. */
export const STABLE_ROUNDS = 3;
/** Member liveness is re-read at most this often: route() runs on every keyed command. */
export const MEMBER_REFRESH_MS = 100;

const ids = new Map<string, string>();

/** The Redis node id of a member: sha1 of its name, 40 hex digits (stable across restarts). */
export function nodeIdOf(name: string): string {
  let id = ids.get(name);
  if (id === undefined) {
    id = createHash('sha1').update(`shoal-node:${name}`).digest('hex');
    ids.set(name, id);
  }
  return id;
}

/**
 * Splits `host:port` (IPv6 hosts may be bracketed) into the host Redis prints (no brackets, as
 * Redis prints IPv6 addresses) and the port; null when it is not an address.
 */
export function splitAddress(address: string): { host: string; port: number } | null {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return null;
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

export function createClusterView(source: ClusterSource, stableRounds = STABLE_ROUNDS): ClusterView {
  const selfName = source.self;
  let ringVersion = source.topology().version;
  let ringChangedAt = source.nowMs();
  const noteVersion = (version: string): void => {
    if (version === ringVersion) return;
    ringVersion = version;
    ringChangedAt = source.nowMs();
  };
  source.onTopologyChange?.(noteVersion);

  let members: Map<string, ClusterMember> = new Map();
  let membersKey = '';
  let membersReadAt = Number.NEGATIVE_INFINITY;
  const readMembers = (): Map<string, ClusterMember> => {
    const now = source.nowMs();
    if (now - membersReadAt < MEMBER_REFRESH_MS) return members;
    membersReadAt = now;
    const next = new Map<string, ClusterMember>();
    let key = '';
    for (const m of source.members()) {
      if (m.state === 'left') continue;
      const resp = m.respAddress === null ? null : splitAddress(m.respAddress);
      next.set(m.name, {
        name: m.name,
        id: nodeIdOf(m.name),
        zone: m.zone,
        liveness: m.state,
        resp,
        busPort: splitAddress(m.peerAddress)?.port ?? 0,
        self: m.name === selfName,
      });
      key += `${m.name}\u0000${m.state}\u0000${m.respAddress}\u0000${m.peerAddress}\u0001`;
    }
    // Same members, same states, same addresses: keep the old map so the layout cache holds.
    if (key !== membersKey) {
      members = next;
      membersKey = key;
    }
    return members;
  };

  let layout: ClusterLayout | null = null;
  let layoutTopology: TopologySnapshot | null = null;
  let layoutMembers: ReadonlyMap<string, ClusterMember> | null = null;

  return {
    selfName,
    selfId: nodeIdOf(selfName),
    stableAfterMs: stableRounds * source.gossipRoundMs,
    topology: () => source.topology(),
    members: readMembers,
    layout() {
      const topology = source.topology();
      noteVersion(topology.version);
      const current = readMembers();
      if (layout === null || layoutTopology !== topology || layoutMembers !== current) {
        layout = new ClusterLayout(topology, current, selfName);
        layoutTopology = topology;
        layoutMembers = current;
      }
      return layout;
    },
    ringStableMs() {
      noteVersion(source.topology().version);
      return source.nowMs() - ringChangedAt;
    },
  };
}
