/**
 * Applying news to the member table (memberlist's aliveNode / suspectNode / deadNode): which
 * update wins (merge.ts), refuting news about ourselves with a higher incarnation, confirming a
 * suspicion with an independent accuser, and what every accepted change sets off: the suspect's
 * timer, a broadcast to disseminate it, an event for subscribers, a log line, and a new join when
 * the last peer we knew is gone.
 */
import type { Awareness } from './awareness.ts';
import { cover } from '../runtime/probes.ts';
import type { SwimContext } from './context.ts';
import { MembershipLog, type MembershipEvents, type TransitionCause } from './events.ts';
import { encodedUpdate, toUpdate, type Entry } from './member-table.ts';
import type { Member } from './membership.ts';
import { decideMerge, mustRefute } from './merge.ts';
import { encodedMetaTooBig, sameIdentity, withStickyMeta } from './meta.ts';
import type { Dissemination } from './dissemination.ts';
import type { SuspicionCause } from './probe.ts';
import { Suspicions } from './suspicion.ts';
import { encodeUpdate, type MemberUpdate } from './wire.ts';

export class MemberUpdates {
  private readonly suspicions: Suspicions;
  private readonly storyLog: MembershipLog;

  constructor(
    private readonly ctx: SwimContext,
    private readonly dissemination: Dissemination,
    private readonly awareness: Awareness,
    private readonly events: MembershipEvents,
    /** Metadata keys a restarted member takes back from its previous life (SwimOptions.stickyMeta). */
    private readonly stickyMeta: readonly string[],
    /** Another member changed state (join.ts rejoins when none is left alive). */
    private readonly onPeerChanged: () => void,
  ) {
    const { env, config } = ctx;
    this.storyLog = new MembershipLog(env.log, ctx.name, () => env.clock.monoMs(), config.maxMembers);
    this.suspicions = new Suspicions(env.timers, () => env.clock.monoMs(), config, (name, incarnation) => this.suspicionExpired(name, incarnation));
  }

  stop(): void {
    this.suspicions.stop();
  }

  /**
   * Applies one update from gossip (or one we raise ourselves, with `via` our own name). Returns
   * true when it was a stale accusation: `via` holds a suspicion or death verdict older than what
   * we know of that member (a refutation it missed), and should be told our newer state.
   */
  apply(u: MemberUpdate, via: string): boolean {
    const { config, stats, table } = this.ctx;
    if (u.name === this.ctx.name) return this.newsAboutSelf(u);
    if (!this.ctx.versions.admits(u.name, u.address, u.meta)) return false;
    const current = table.get(u.name);
    const decision = decideMerge(current?.member, u);
    if (decision === 'ignore') return current !== undefined && u.state !== 'alive' && u.incarnation < current.member.incarnation;
    const accuser = u.state === 'suspect' ? (u.accuser ?? via) : null;
    if (decision === 'confirm') {
      // New confirmations are re-gossiped, so others hear of independent accusers too.
      if (accuser !== null && this.suspicions.confirm(u.name, accuser)) this.dissemination.broadcast(u.name, encodeUpdate({ ...u, accuser }));
      return false;
    }
    if (!current && table.size >= config.maxMembers) {
      stats.tableFull++;
      return false;
    }
    if (encodedMetaTooBig(u.meta)) {
      stats.malformed++;
      return false;
    }
    this.put({ name: u.name, address: u.address, zone: u.zone, state: u.state, incarnation: u.incarnation, meta: u.meta }, accuser, u.state === 'dead' ? { via } : {});
    return false;
  }

  /** Our probe of `target` failed: we accuse it. */
  suspect(target: Entry, why?: SuspicionCause): void {
    this.cause = why ? { ...why } : null;
    try {
      this.apply({ ...toUpdate(target), state: 'suspect', accuser: this.ctx.name }, this.ctx.name);
    } finally {
      this.cause = null;
    }
  }

  /** Why our own probe failed, while suspect() applies its accusation (for the log line). */
  private cause: TransitionCause | null = null;

  /** Records a member's new state: counts, digest, suspicion timer, dissemination and events. */
  put(member: Member, accuser: string | null, cause: TransitionCause = {}): void {
    const { env, name, table } = this.ctx;
    const frozen: Member = Object.freeze({ ...member, meta: Object.freeze({ ...member.meta }) });
    const { entry, previous } = table.set(frozen, accuser, env.clock.monoMs());
    if (member.state === 'suspect' && member.name !== name) this.startSuspicion(entry, previous?.member);
    else this.suspicions.cancel(member.name);
    this.dissemination.broadcast(member.name, encodedUpdate(entry));
    if (member.name !== name) this.storyLog.transition(previous?.member, frozen, accuser, { ...cause, ...(this.cause ?? {}) });
    this.events.emit(previous?.member, frozen);
    if (member.name !== name) this.onPeerChanged();
  }

  /** Refutes what must be refuted; returns true for a stale accusation (see apply). */
  private newsAboutSelf(u: MemberUpdate): boolean {
    const { life, stats, table } = this.ctx;
    if (life.leaving) return false;
    const me = table.get(this.ctx.name)!.member;
    // An `alive` claim at our own incarnation that does not match us is an echo of a previous life
    // (a restart with new metadata, say): refute it, or peers would keep the old metadata forever.
    const staleEcho = u.state === 'alive' && u.incarnation === me.incarnation && !sameIdentity(me, u);
    if (!mustRefute(me.incarnation, u) && !staleEcho) {
      if (u.state !== 'alive') this.reannounce();
      return u.state !== 'alive';
    }
    stats.refutations++;
    if (u.state !== 'alive') cover(this.ctx.env, 'suspect-refuted');
    // Being suspected is a hint that we are the slow one (Lifeguard); a restart's echo is not.
    if (u.state !== 'alive') this.awareness.apply(1);
    const meta = withStickyMeta(me.meta, u.meta, this.stickyMeta);
    const incarnation = Math.max(me.incarnation, u.incarnation) + 1;
    this.put({ ...me, meta, state: 'alive', incarnation }, null);
    if (u.state !== 'alive') this.storyLog.refuted(u.state, u.accuser, incarnation, this.awareness.score);
    return false;
  }

  /**
   * An accusation at an incarnation we already refuted: someone still holds it, so our refutation
   * missed them (sent while they could not hear us, and its retransmits are spent). Memberlist just
   * ignores it; then the accuser keeps us suspect until its timer (up to 18 s on LAN with 3 members,
   * where nobody can confirm) or a push-pull, which goes to alive members only. We queue our alive
   * state again instead: it rides on our next messages, the ack to the accuser's next probe included
   * (that probe carries the suspicion, Lifeguard's buddy system). kv-rmw seed 230168.
   */
  private reannounce(): void {
    this.dissemination.broadcast(this.ctx.name, encodedUpdate(this.ctx.table.get(this.ctx.name)!));
  }

  private startSuspicion(entry: Entry, previous: Member | undefined): void {
    const { name, stats, table } = this.ctx;
    const started = this.suspicions.start(entry.member.name, entry.member.incarnation, entry.accuser ?? name, table.liveCount);
    if (started && (entry.accuser === name || previous?.state === 'alive')) stats.suspicionsRaised++;
  }

  private suspicionExpired(name: string, incarnation: number): void {
    if (this.ctx.life.stopped) return;
    const e = this.ctx.table.get(name);
    if (!e || e.member.state !== 'suspect' || e.member.incarnation !== incarnation) return;
    this.ctx.stats.deathsDeclared++;
    cover(this.ctx.env, 'member-declared-dead');
    this.put({ ...e.member, state: 'dead' }, null, { reason: 'suspicion-timeout' });
  }
}
