/**
 * Push-pull state sync (memberlist's pushPull): every (scaled) push-pull interval we send our full
 * table, on the bulk lane, to one random alive member, one remembered dead or left member (if it
 * is alive on the far side of a healed partition or back after a restart, the two sides merge) and
 * one seed we do not see alive (once a partition outlasts deadReclaimMs, only the seeds are left to
 * bridge it); the receiver merges it and answers with its own. Joining is the same exchange with
 * the seeds (join.ts).
 */
import type { NodeAddress, TimerId } from '../runtime/env.ts';
import { scaledPushPullIntervalMs } from './config.ts';
import type { SwimContext } from './context.ts';
import type { Dissemination } from './dissemination.ts';
import { encodedUpdate } from './member-table.ts';
import type { Seeds } from './seeds.ts';
import { encodeHeader, encodeMessage, type MemberUpdate } from './wire.ts';

export class PushPull {
  private timer: TimerId | null = null;

  constructor(
    private readonly ctx: SwimContext,
    private readonly dissemination: Dissemination,
    private readonly seeds: Seeds,
    /** Applies one update from a peer's state (see member-updates.ts). */
    private readonly apply: (update: MemberUpdate, via: string) => void,
  ) {}

  /** Arms the sync tick at a random phase, so a cluster started at once does not sync in lockstep. */
  start(): void {
    const { env } = this.ctx;
    this.timer = env.timers.setTimer(env.random.int(this.intervalMs()), () => this.tick());
  }

  stop(): void {
    if (this.timer !== null) this.ctx.env.timers.cancelTimer(this.timer);
  }

  /** Sends our full table to `to`; `reply` marks the answer to a peer's sync (which is not answered again). */
  sendState(to: NodeAddress, reply: boolean): void {
    const { config, name, stats, table } = this.ctx;
    stats.pushPulls++;
    const header = encodeHeader(config.clusterName, name, { type: 'sync', reply });
    const states = Array.from(table.values(), (e) => encodedUpdate(e));
    const bytes = encodeMessage(header, states);
    stats.pushPullBytes += bytes.length;
    this.dissemination.transmit(to, bytes, 'bulk');
  }

  /**
   * Merges a peer's full state. A remote verdict of death becomes a suspicion here: the member
   * (if alive) gets to refute it, which is how the halves of a healed partition revive each other.
   */
  merge(states: readonly MemberUpdate[], sender: string): void {
    for (const u of states) {
      this.apply(u.state === 'dead' ? { ...u, state: 'suspect', accuser: sender } : u, sender);
    }
  }

  private intervalMs(): number {
    return scaledPushPullIntervalMs(this.ctx.config, this.ctx.table.liveCount);
  }

  private tick(): void {
    const { env, life, table } = this.ctx;
    if (life.stopped) return;
    this.timer = env.timers.setTimer(this.intervalMs(), () => this.tick());
    if (life.leaving) return;
    const [peer] = table.sample(1, (e) => e.member.state === 'alive');
    if (peer) this.sendState(peer.member.address, false);
    // One remembered dead or left member per round: if it is alive on the far side of a healed
    // partition, or restarted after a crash or a leave, the two sides merge. Left ones too: a member
    // that left and came back knows only its seeds, and when they are all down nobody else would
    // ever call it (swim-churn seed 300163: five restarted members stayed alone for good).
    const [gone] = table.sample(1, (e) => e.member.state === 'dead' || e.member.state === 'left');
    if (gone) this.sendState(gone.member.address, false);
    // And one seed we do not see alive: once a partition outlasts deadReclaimMs, both sides have
    // forgotten each other's tombstones and only the seeds are left to bridge them (as serf's reconnect).
    const lostSeed = this.sampleLostSeed();
    if (lostSeed !== undefined) this.sendState(lostSeed, false);
  }

  private sampleLostSeed(): NodeAddress | undefined {
    const seeds = this.seeds.list;
    if (seeds.length === 0) return undefined;
    const seen = new Set<NodeAddress>();
    for (const e of this.ctx.table.values()) if (e.member.state === 'alive' || e.member.state === 'suspect') seen.add(e.member.address);
    const lost = seeds.filter((seed) => !seen.has(seed));
    return lost.length === 0 ? undefined : lost[this.ctx.env.random.int(lost.length)];
  }
}
