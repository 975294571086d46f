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
    this.sendWithFirst(to, body, first ? [first] : []);
  }

  /**
   * Answers a member with updates it needs now, ahead of the queue's: our newer state of members
   * it just told us stale accusations about (a refutation it missed), and our accusation of the
   * member itself when we hold it suspect or dead (so it refutes). A refutation or an accusation
   * that every random gossip target missed then reaches it with the next message it sends us, not
   * at a suspicion timeout or the next push-pull.
   */
  correct(to: NodeAddress, updates: readonly Uint8Array[]): void {
    this.sendWithFirst(to, { type: 'gossip' }, updates);
  }

  private sendWithFirst(to: NodeAddress, body: MessageBody, first: readonly Uint8Array[]): void {
    const { config, name, table } = this.ctx;
    const header = encodeHeader(config.clusterName, name, body);
    let budget = config.maxPacketBytes - header.length - UPDATE_LIST_HEADER_ROOM;
    const updates: Uint8Array[] = [];
    const limit = retransmitLimit(config.retransmitMult, table.liveCount);
    for (const u of first) {
      if (u.length > budget) continue;
      updates.push(u);
      budget -= u.length;
    }
    // The buddy system's suspicion counts as one of its transmissions, and is not sent twice.
    const buddy = body.type === 'ping' && first.length > 0 ? body.target : undefined;
    if (buddy !== undefined && updates.length > 0) this.broadcasts.countTransmit(buddy, limit);
    for (const u of this.broadcasts.take(budget, limit, buddy)) updates.push(u);
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
