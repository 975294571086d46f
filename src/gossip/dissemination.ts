/**
 * Dissemination (memberlist's broadcast.go): every accepted change is queued and piggybacked on
 * the control messages we send anyway (pings, acks, ping-reqs, nacks), and every gossip interval
 * pushed in `gossip` messages to `gossipNodes` random members (alive, suspect, or recently dead,
 * so a member wrongly declared dead hears it and refutes). This is also the one place messages
 * leave the member, so traffic is counted here.
 */
import type { Lane, NodeAddress, TimerId } from '../runtime/env.ts';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.ts';
import type { SwimContext } from './context.ts';
import { encodeHeader, encodeMessage, listHeaderBytes, type MessageBody } from './wire.ts';

/** Room kept for the header of the update list: enough for up to 0xffff piggybacked updates. */
const UPDATE_LIST_HEADER_ROOM = listHeaderBytes(64);

export class Dissemination {
  private readonly broadcasts = new BroadcastQueue();
  private timer: TimerId | null = null;

  constructor(private readonly ctx: SwimContext) {}

  /** Arms the gossip tick at a random phase, so a cluster started at once does not gossip in lockstep. */
  start(): void {
    const { env, config } = this.ctx;
    this.timer = env.timers.setTimer(env.random.int(config.gossipIntervalMs), () => this.tick());
  }

  stop(): void {
    if (this.timer !== null) this.ctx.env.timers.cancelTimer(this.timer);
  }

  /** Queues an encoded update about `name`, replacing any pending one about the same member. */
  broadcast(name: string, bytes: Uint8Array): void {
    this.broadcasts.queue(name, bytes);
  }

  /**
   * Sends a control message with as many piggybacked updates as fit the datagram budget; `first`
   * (the buddy system's suspicion, on a ping to a suspect) goes before the queue's.
   */
  send(to: NodeAddress, body: MessageBody, first: Uint8Array | null = null): void {
    const { config, name, table } = this.ctx;
    const header = encodeHeader(config.clusterName, name, body);
    let budget = config.maxPacketBytes - header.length - UPDATE_LIST_HEADER_ROOM;
    const updates: Uint8Array[] = [];
    const limit = retransmitLimit(config.retransmitMult, table.liveCount);
    if (first && first.length <= budget) {
      updates.push(first);
      budget -= first.length;
      if (body.type === 'ping') this.broadcasts.countTransmit(body.target, limit);
    }
    const skip = first && body.type === 'ping' ? body.target : undefined;
    for (const u of this.broadcasts.take(budget, limit, skip)) updates.push(u);
    this.transmit(to, encodeMessage(header, updates), 'control');
  }

  /** Sends an encoded message as it is, counted. */
  transmit(to: NodeAddress, bytes: Uint8Array, lane: Lane): void {
    const { env, stats } = this.ctx;
    stats.messagesSent++;
    stats.bytesSent += bytes.length;
    env.transport.send(to, bytes, lane);
  }

  private tick(): void {
    const { env, config, life, table } = this.ctx;
    if (life.stopped) return;
    this.timer = env.timers.setTimer(config.gossipIntervalMs, () => this.tick());
    if (this.broadcasts.size === 0) return;
    const now = env.clock.monoMs();
    const targets = table.sample(config.gossipNodes, (e) => {
      const s = e.member.state;
      return s === 'alive' || s === 'suspect' || (s === 'dead' && now - e.changedMs < config.gossipToTheDeadMs);
    });
    for (const t of targets) {
      if (this.broadcasts.size === 0) break;
      this.send(t.member.address, { type: 'gossip' });
    }
  }
}
