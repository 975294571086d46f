/**
 * Builds the node a daemon hosts (`createNode` from src/node: SWIM membership, partition actors,
 * the store, replication) from the daemon's configuration. This is the daemon's only contact with
 * the node's construction; everything else in src/daemon sees the `HostedNode` interface.
 */
import type { Membership } from '../gossip/membership.ts';
import { SwimMembership } from '../gossip/swim.ts';
import { createNode } from '../node/create-node.ts';
import type { CatchUpStatus } from '../protocol/index.ts';
import type { Consistency, KvService } from '../replication/api.ts';
import type { Env } from '../runtime/env.ts';
import type { WsTransport } from '../runtime/ws-transport.ts';
import { ConfigError, type DaemonConfig } from './config.ts';

export interface HostedNode {
  readonly kv: KvService;
  readonly membership: Membership;
  /** Whether the node has joined its cluster and serves requests (see ShoalNode.joined). */
  joined(): boolean;
  /** Partition replicas held, catching up, and still to be handed off. */
  progress(): { held: number; catchingUp: number; toHandOff: number };
  /** The current (or last) catch-up's progress (see ShoalNode.catchUpProgress). */
  catchUp(): CatchUpStatus;
  /** Graceful leave: hand partitions off, announce `left`, stop, then call `done`. */
  leave(done: () => void): void;
  stop(): void;
  /**
   * Why this node cannot join the cluster its seeds lead to, or null. Today the one reason is a
   * different partition count: the cluster refuses the node and the node refuses the cluster, so
   * it would sit alone forever. A node started without seeds founds its own cluster and is never
   * the one refused.
   */
  refusal(): string | null;
}

/**
 * The node takes R and W as consistency levels; the daemon's options are counts (as operators
 * think of them). 1 is `one`, N is `all`, a majority of N is `quorum`; other counts are refused.
 */
export function consistencyFor(option: 'read-quorum' | 'write-quorum', count: number, replicas: number): Consistency {
  const majority = Math.floor(replicas / 2) + 1;
  if (count === majority) return 'quorum';
  if (count === 1) return 'one';
  if (count === replicas) return 'all';
  throw new ConfigError(`--${option} ${count} is not supported with --replicas ${replicas}: use 1 (one), ${majority} (a majority) or ${replicas} (all)`);
}

export function createHostedNode(env: Env, config: DaemonConfig, clientAddress: string, transport: WsTransport): HostedNode {
  const node = createNode({
    env,
    config: {
      name: config.name,
      zone: config.zone,
      seeds: config.seeds,
      partitions: config.partitions,
      replicas: config.replicas,
      readQuorum: consistencyFor('read-quorum', config.readQuorum, config.replicas),
      writeQuorum: consistencyFor('write-quorum', config.writeQuorum, config.replicas),
      maxMemory: config.maxMemory,
      gossipProfile: config.gossipProfile,
      clusterName: config.cluster,
      clientAddress,
    },
  });
  // A failed dial fails a direct probe at once instead of after the probe timeout.
  const membership = node.membership;
  if (membership instanceof SwimMembership) transport.onUnreachable((address) => membership.reportUnreachable(address));
  return {
    kv: node.kv,
    membership,
    joined: () => node.joined,
    progress: () => {
      const s = node.status();
      return { held: s.partitionsHeld, catchingUp: s.handoff.partitionsCatchingUp, toHandOff: s.handoff.partitionsToHandOff };
    },
    catchUp: () => node.catchUpProgress(),
    leave: (done) => node.leave(done),
    stop: () => node.stop(),
    refusal: () => {
      if (config.seeds.length === 0) return null;
      // Cheap reads only: this runs every half second.
      const [first] = node.refusedMembers();
      if (first === undefined || node.placement().members.length > 1) return null;
      return `cannot join the cluster of ${config.seeds.join(', ')}: ${first.reason}; start this node with the cluster's --partitions`;
    },
  };
}
