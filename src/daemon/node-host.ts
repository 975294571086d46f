/**
 * Builds the node a daemon hosts: SWIM membership and the replicated key-value node on one real
 * Env, sharing one node-to-node transport by the one-byte family prefix of src/node/wire.ts.
 *
 * This is the daemon's only contact with the node's internals; everything else in src/daemon sees
 * the `HostedNode` interface.
 */
import { PROFILES } from '../gossip/config.ts';
import type { Membership } from '../gossip/membership.ts';
import { SwimMembership } from '../gossip/swim.ts';
import { ShoalNode } from '../node/node.ts';
import { frame, MessageFamily } from '../node/wire.ts';
import type { KvService } from '../replication/api.ts';
import type { Env, ReceiveHandler, Transport } from '../runtime/env.ts';
import type { WsTransport } from '../runtime/ws-transport.ts';
import type { DaemonConfig } from './config.ts';

/** How often a leaving node checks whether it has handed everything off (100 ms). */
export const LEAVE_POLL_MS = 100;
/**
 * After announcing `left`, how long the node keeps its sockets open so the announcement leaves
 * the process (250 ms: a few gossip intervals of the local profile).
 */
export const LEAVE_LINGER_MS = 250;

export interface HostedNode {
  readonly kv: KvService;
  readonly membership: Membership;
  /** Partition replicas held, catching up, and still to be handed off. */
  progress(): { held: number; catchingUp: number; toHandOff: number };
  /** Graceful leave: hand partitions off, announce `left`, then call `done`. */
  leave(done: () => void): void;
  stop(): void;
}

export function createHostedNode(env: Env, config: DaemonConfig, clientAddress: string, transport: WsTransport): HostedNode {
  let onGossip: ReceiveHandler = () => {};
  let onKv: ReceiveHandler = () => {};
  transport.onReceive((from, bytes) => {
    if (bytes[0] === MessageFamily.gossip) onGossip(from, bytes.subarray(1));
    else onKv(from, bytes);
  });
  const gossipTransport: Transport = {
    send: (to, bytes, lane) => transport.send(to, frame(MessageFamily.gossip, bytes), lane),
    onReceive: (handler) => (onGossip = handler),
  };
  // ShoalNode frames its own messages with the kv family byte and checks it on receipt.
  const kvTransport: Transport = { send: (to, bytes, lane) => transport.send(to, bytes, lane), onReceive: (handler) => (onKv = handler) };

  const meta = { clientAddress, partitions: config.partitions };
  const membership = new SwimMembership(
    { ...env, transport: gossipTransport },
    { name: config.name, zone: config.zone, meta, seeds: config.seeds, config: { ...PROFILES[config.gossipProfile], clusterName: config.cluster } },
  );
  transport.onUnreachable((address) => membership.reportUnreachable(address));
  const node = new ShoalNode({ ...env, transport: kvTransport }, membership, {
    partitions: config.partitions,
    replication: { replicas: config.replicas },
  });
  membership.start();

  let leaving = false;
  return {
    kv: node.kv,
    membership,
    progress: () => {
      const p = node.handoffProgress();
      return { held: node.heldPartitions().size, catchingUp: p.partitionsCatchingUp, toHandOff: p.partitionsToHandOff };
    },
    leave(done) {
      if (leaving) return;
      leaving = true;
      const announceLeft = (): void => {
        // The kv node stops first: it has handed everything off, and a ring rebuilt without this
        // node (the last one, possibly) is of no use to it.
        node.stop();
        membership.leave();
        env.timers.setTimer(LEAVE_LINGER_MS, done);
      };
      // Alone, there is nobody to hand partitions to.
      if (membership.liveMembers() <= 1) return announceLeft();
      // Marked leaving, this node drops out of every ring, so its partitions move to their new owners.
      membership.updateMeta({ ...meta, leaving: 1 });
      const poll = (): void => {
        if (node.handoffProgress().partitionsToHandOff > 0) env.timers.setTimer(LEAVE_POLL_MS, poll);
        else announceLeft();
      };
      env.timers.setTimer(LEAVE_POLL_MS, poll);
    },
    stop() {
      node.stop();
      membership.stop();
    },
  };
}
