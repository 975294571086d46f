/** What the replication components share: the node's view of the ring and of liveness, and a way to send. */
import type { Env, Lane } from '../runtime/env.ts';
import type { ReplicationConfig } from './config.ts';
import type { KvMessage } from './messages.ts';

/** The ring as replication needs it (built by src/node from src/ring's claim). */
export interface Placement {
  /** Digest of the ring's inputs. */
  readonly version: string;
  readonly partitions: number;
  /** Replicas per partition actually held: min(N, members). */
  readonly width: number;
  /** Member names with their zones, in name order. */
  readonly members: readonly { name: string; zone: string }[];
  /** Partition p's preference list, primary first. */
  owners(p: number): readonly string[];
  /** Every member in partition p's ranking order: the preference list, then the nodes past N. */
  ranking(p: number): readonly string[];
  partitionOfKey(key: Uint8Array): number;
}

export interface ReplicationContext {
  readonly env: Env;
  readonly config: ReplicationConfig;
  readonly selfName: string;
  placement(): Placement;
  /** Whether membership currently believes `name` is up (alive or merely suspected). */
  isAlive(name: string): boolean;
  /**
   * Whether `name` may take a sloppy write as a stand-in: up, and not stopping for a restart (such
   * a node would have to pass the hint on before it stops, and one taken after it passed them
   * on would be lost). Absent: every node `isAlive` names.
   */
  mayStandIn?(name: string): boolean;
  /**
   * Whether this node's ring is confirmed: a peer answered a sync on the same ring version (or
   * the node is alone). A joining node hears of its cluster member by member, and a ring built
   * from a partial view names the wrong owners; until confirmed, the node coordinates nothing
   * and its replicas' read answers do not count.
   */
  ringConfirmed(): boolean;
  /**
   * Whether the node waits to see a peer's ring version (it is back in the ring after an undrain
   * and routes by its peers' ring until one shows it has heard: src/node/ring-lifecycle.ts): its
   * sync rounds ask peers even with nothing to compare. Absent: never.
   */
  awaitsPeerRing?(): boolean;
  /** Peers outside the ring whose sync answers may confirm it (a ring change left the node alone: src/node/ring-lifecycle.ts). Absent: none. */
  confirmingPeers?(): readonly string[];
  /**
   * Members a write's joint quorum waits to see past an older ring (src/node/ring-lifecycle.ts
   * retireJointRings): sync rounds ask them even with nothing to compare, since the answer carries
   * their ring version. Absent: none.
   */
  ringWitnesses?(): ReadonlySet<string>;
  /**
   * The replica's ring-version check of a request for `partition` routed by ring `version`: null
   * to accept it, or this node's newer ring (its version and the partition's owners in it) to
   * refuse it with, because this node has moved past that ring and the partition's owners changed
   * since. Absent: accept everything. See src/node/ring-lifecycle.ts.
   */
  checkRoute?(version: string | undefined, partition: number): { version: string; owners: readonly string[] } | null;
  /**
   * The rings before this node's current one that readers may still route by, newest first: each
   * one's version, the partition's owners in it, and those known to have moved past it (a write's
   * joint quorum). Empty when none.
   */
  previousRings?(partition: number): readonly { version: string; owners: readonly string[]; movedPast: ReadonlySet<string> }[];
  /**
   * Whether `name` runs a protocol version that decodes flush floor messages (`fl`): an older peer
   * could not, so nothing sends it one. Absent: every peer does.
   */
  knowsFloors?(name: string): boolean;
  /**
   * The node protocol version `name` announces (src/gossip/protocol-version.ts), 0 when it is not
   * a member this node knows. Absent: every peer runs this node's version.
   */
  protocolOf?(name: string): number;
  /** A peer refused a request routed by ring `version`: it has moved past that ring. */
  peerMovedPast?(name: string, version: string): void;
  /**
   * Sends to a member by name; sending to oneself is delivered asynchronously through a timer.
   * A message is a value: never change one after sending it. Local delivery hands over the
   * object itself, and a message sent to several members is encoded once (KvMessageEncoder).
   */
  send(name: string, message: KvMessage, lane?: Lane): void;
}
