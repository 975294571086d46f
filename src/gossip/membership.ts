/**
 * What the rest of a node (ring, replication, client routing, status, the daemon's transport)
 * needs from membership, and all it may use: nothing outside src/gossip reaches past this
 * interface into the SWIM implementation (swim.ts), which only the composition roots construct.
 */
import type { NodeAddress } from '../runtime/env.ts';
import type { SwimStats } from './stats.ts';

/** Whether metadata is over what gossip carries (`updateMeta` throws for it), and the check that throws. */
export { checkedMeta, encodedMetaTooBig } from './meta.ts';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member {
  /** Stable across restarts; the ring places partitions by name, not by address. */
  readonly name: string;
  readonly address: NodeAddress;
  readonly zone: string;
  readonly state: MemberState;
  /** Bumped by the member itself to refute suspicion or announce a restart. */
  readonly incarnation: number;
  /** Application metadata such as client port and protocol version. */
  readonly meta: Readonly<Record<string, string | number>>;
}

export type MembershipEvent =
  | { type: 'joined'; member: Member }
  | { type: 'updated'; member: Member }
  | { type: 'suspect'; member: Member }
  | { type: 'alive'; member: Member }
  | { type: 'dead'; member: Member }
  | { type: 'left'; member: Member };

/** A peer of another cluster (another cluster name) that sent us gossip: never in the view, shown apart. */
export interface ForeignPeer {
  name: string;
  address: NodeAddress;
  cluster: string;
}

/** A seed of another cluster that refused our join, and why in words (a configuration error: cluster names differ). */
export interface ClusterRefusal {
  seed: NodeAddress;
  name: string;
  cluster: string;
  reason: string;
}

/** A seed of our cluster that refused our join for our protocol version, and why in words. */
export interface VersionRefusal {
  seed: NodeAddress;
  name: string;
  reason: string;
}

/** A peer kept out for its protocol version (never in the view), for status. */
export interface VersionRefusedPeer {
  name: string;
  address: NodeAddress;
  reason: string;
}

export interface Membership {
  /** The cluster name this member gossips under; messages under any other are refused. */
  readonly clusterName: string;
  /** Counters for operators and checkers (traffic, drops, protocol verdicts). */
  readonly stats: Readonly<SwimStats>;

  /** Lifeguard's local health score (0 healthy; probe timeouts are multiplied by score + 1). */
  healthScore(): number;

  /** Starts probing, gossiping and joining through the seeds. */
  start(): void;
  /**
   * Announces a graceful leave to a few members at once and stops every timer. Idempotent. With
   * `leave: false` (a stop for a restart) it announces nothing: the others find it down, as after
   * a crash, and it keeps its place.
   */
  stop(options?: { leave?: boolean }): void;

  /** This node's own entry. */
  self(): Member;
  /** Every known member, including self and dead/left tombstones still remembered. */
  members(): readonly Member[];
  member(name: string): Member | undefined;
  /** Members alive or suspect, ourselves included. */
  liveMembers(): number;
  /**
   * An order-independent digest of the live view (name, state, incarnation of every alive or
   * suspect member): two members with equal digests and counts see the same live cluster.
   */
  viewDigest(): number;
  /** Subscribe to changes; returns an unsubscribe function. */
  subscribe(listener: (event: MembershipEvent) => void): () => void;
  /** New metadata for ourselves: a new incarnation, gossiped like any state change. Throws when it is too big (encodedMetaTooBig). */
  updateMeta(meta: Readonly<Record<string, string | number>>): void;

  /** Whether we still wait for a seed to answer. */
  readonly joining: boolean;
  /** Whether a peer's full member table (a push-pull) has been merged since start (Lifecycle.heardFullState). */
  readonly heardFullState: boolean;
  /**
   * While we have seeds and see no live peer (joining, or every peer we knew is gone): why no
   * seed has let us in, in words. Null when not joining.
   */
  joinProblem(): string | null;
  /** While joining: a seed of another cluster that refused us; null otherwise. */
  clusterRefusal(): ClusterRefusal | null;
  /** While joining: a seed that refused us for our protocol version; null otherwise (protocol-version.ts). */
  versionRefusal(): VersionRefusal | null;
  /** Peers kept out for their protocol version, heard of lately. */
  versionRefusedPeers(): VersionRefusedPeer[];
  /** Peers of other clusters heard from lately (their messages were dropped). */
  foreignPeers(): ForeignPeer[];
  /**
   * Transport hook: a connection to `address` failed (`reason`: why, in a few words), so a direct
   * probe in flight to it fails at once; for a seed, the reason is what joinProblem() reports.
   */
  reportUnreachable(address: NodeAddress, reason?: string): void;
}
