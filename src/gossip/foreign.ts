/**
 * Messages from another cluster (another clusterName). They never touch the view: the sender is
 * remembered for status (foreignPeers) and logged, rate-limited; a join or push-pull from it is
 * answered with `refuse`, so the other side can say why it is not let in; and a `refuse` from one
 * of our seeds is why we cannot join (join.ts reports it).
 */
import type { NodeAddress } from '../runtime/env.ts';
import { MAX_FOREIGN_PEERS, PROBLEM_LOG_INTERVAL_MS } from './config.ts';
import type { SwimContext } from './context.ts';
import type { Dissemination } from './dissemination.ts';
import type { Join } from './join.ts';
import { LogLimiter } from '../runtime/log-limiter.ts';
import type { ForeignPeer } from './membership.ts';
import { encodeHeader, encodeMessage, type GossipMessage } from './wire.ts';

export class ForeignClusters {
  /** Foreign peers by address, least recently heard first; forgotten after deadReclaimMs. */
  private readonly peers = new Map<NodeAddress, ForeignPeer & { heardMs: number }>();
  private readonly logLimiter = new LogLimiter(PROBLEM_LOG_INTERVAL_MS);

  constructor(
    private readonly ctx: SwimContext,
    private readonly dissemination: Dissemination,
    private readonly join: Join,
  ) {}

  receive(from: NodeAddress, msg: GossipMessage): void {
    const { env, config, name, life } = this.ctx;
    const now = env.clock.monoMs();
    const ours = config.clusterName;
    if (msg.body.type === 'refuse') {
      if (!this.join.isSeed(from)) return;
      const problem = { kind: 'refused', name: msg.sender, cluster: msg.cluster } as const;
      this.join.refusedBy(from, problem);
      if (this.logLimiter.allow(`refused-by ${from}`, now)) {
        env.log.error({ seed: from, seedName: msg.sender, seedCluster: msg.cluster, cluster: ours }, `cannot join: ${this.join.refusalText(from, problem)}`);
      }
      return;
    }
    this.peers.delete(from);
    this.peers.set(from, { name: msg.sender, address: from, cluster: msg.cluster, heardMs: now });
    if (this.peers.size > MAX_FOREIGN_PEERS) this.peers.delete(this.peers.keys().next().value!);
    if (this.logLimiter.allow(`foreign ${from}`, now)) {
      env.log.warn(
        { peer: msg.sender, address: from, peerCluster: msg.cluster, cluster: ours },
        `refusing node ${msg.sender} at ${from}: it belongs to cluster "${msg.cluster}", this node to cluster "${ours}" (cluster names must match)`,
      );
    }
    if (msg.body.type === 'sync' && !msg.body.reply && !life.leaving) {
      this.dissemination.transmit(from, encodeMessage(encodeHeader(ours, name, { type: 'refuse' }), []), 'control');
    }
  }

  /** Peers of other clusters heard from within deadReclaimMs (their messages were dropped). */
  list(): ForeignPeer[] {
    const cutoff = this.ctx.env.clock.monoMs() - this.ctx.config.deadReclaimMs;
    for (const [address, p] of this.peers) if (p.heardMs <= cutoff) this.peers.delete(address);
    return Array.from(this.peers.values(), ({ name, address, cluster }) => ({ name, address, cluster }));
  }
}
