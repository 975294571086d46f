/**
 * What the rest of a node (ring, replication, client routing) needs from membership. The SWIM
 * implementation in this folder provides it; tests and the replication simulator may provide a
 * static one.
 */
import type { NodeAddress } from '../runtime/env.ts';

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

export interface Membership {
  /** This node's own entry. */
  self(): Member;
  /** Every known member, including self and dead/left tombstones still remembered. */
  members(): readonly Member[];
  /** Subscribe to changes; returns an unsubscribe function. */
  subscribe(listener: (event: MembershipEvent) => void): () => void;
}
