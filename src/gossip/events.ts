/**
 * What a change in the member table tells the outside: a MembershipEvent for subscribers (the
 * ring, replication) and, for every verdict about a peer, a story line for operators.
 */
import type { Logger } from '../runtime/env.ts';
import type { Member, MemberState, MembershipEvent } from './membership.ts';
import { sameMeta } from './meta.ts';
import { LogLimiter, suppressedField } from '../runtime/log-limiter.ts';

export class MembershipEvents {
  private readonly listeners: ((event: MembershipEvent) => void)[] = [];

  subscribe(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Tells every subscriber of the change from `previous` to `m`, if it is one they care about. */
  emit(previous: Member | undefined, m: Member): void {
    if (this.listeners.length === 0) return;
    const event = eventFor(previous, m);
    if (!event) return;
    for (const l of [...this.listeners]) l(event);
  }
}

function eventFor(previous: Member | undefined, m: Member): MembershipEvent | null {
  const was: MemberState | undefined = previous?.state;
  switch (m.state) {
    case 'alive':
      if (was === undefined || was === 'left') return { type: 'joined', member: m };
      if (was === 'suspect' || was === 'dead') return { type: 'alive', member: m };
      return previous!.address !== m.address || previous!.zone !== m.zone || !sameMeta(previous!.meta, m.meta) ? { type: 'updated', member: m } : null;
    case 'suspect':
      return was === 'suspect' ? null : { type: 'suspect', member: m };
    case 'dead':
      return was === 'dead' ? null : { type: 'dead', member: m };
    case 'left':
      return was === 'left' ? null : { type: 'left', member: m };
  }
}

/** Story lines about one peer pass at most once per this interval per peer and kind (a flapping peer cannot flood the log). */
export const MEMBER_LOG_INTERVAL_MS = 10_000;

/** What else a transition's log line tells: why a peer is suspected or declared dead. */
export type TransitionCause = Record<string, string | number | boolean | null>;

/**
 * Every verdict about a peer, at info level (warn for a death): joined, suspected (by whom and
 * why), declared dead, alive again, left; and this node refuting a suspicion of itself. Each line
 * has a stable `event` field (member-joined, member-suspect, member-alive, member-dead, member-left,
 * member-refuted) and goes through a LogLimiter keyed by peer and event (docs/OPERATIONS.md).
 */
export class MembershipLog {
  /**
   * Keyed by peer and event: room for every kind of line about the largest cluster (maxMembers), so
   * a large cluster starting up logs every join; past it, lines wait for old keys to expire.
   */
  private readonly limiter: LogLimiter;

  constructor(
    private readonly log: Logger,
    private readonly selfName: string,
    private readonly nowMs: () => number,
    maxMembers = 10_000,
  ) {
    this.limiter = new LogLimiter(MEMBER_LOG_INTERVAL_MS, maxMembers * 6);
  }

  transition(previous: Member | undefined, m: Member, accuser: string | null, cause: TransitionCause = {}): void {
    const was = previous?.state;
    if (was === m.state) return;
    const base = { peer: m.name, address: m.address, incarnation: m.incarnation };
    switch (m.state) {
      case 'alive':
        if (was === 'suspect' || was === 'dead') this.line('info', 'member-alive', m.name, { ...base, was }, `peer ${m.name} is alive again (was ${was})`);
        else this.line('info', 'member-joined', m.name, { ...base, zone: m.zone }, `peer ${m.name} joined`);
        return;
      case 'suspect': {
        const by = accuser === this.selfName ? `: it did not answer our probe${cause.reason === 'indirect-probe-failed' ? ` nor ${String(cause.indirectHelpers)} indirect probe${cause.indirectHelpers === 1 ? '' : 's'}` : ''}` : ` by ${accuser ?? 'a peer'}`;
        this.line('info', 'member-suspect', m.name, { ...base, accuser, reason: accuser === this.selfName ? 'missed-probe' : 'gossip', ...cause }, `peer ${m.name} is suspected${by}`);
        return;
      }
      case 'dead':
        this.line('warn', 'member-dead', m.name, { ...base, was: was ?? null, reason: 'gossip', ...cause }, `peer ${m.name} declared dead`);
        return;
      case 'left':
        this.line('info', 'member-left', m.name, base, `peer ${m.name} left`);
        return;
    }
  }

  /** This node heard it is suspected (or dead) and answered with a higher incarnation. */
  refuted(accusation: string, accuser: string | null, incarnation: number, healthScore: number): void {
    this.line('info', 'member-refuted', this.selfName, { peer: this.selfName, accusation, accuser, incarnation, healthScore }, `refuted ${accusation === 'dead' ? 'a death notice' : 'a suspicion'} of this node${accuser ? ` by ${accuser}` : ''}: now at incarnation ${incarnation}`);
  }

  private line(level: 'info' | 'warn', event: string, peer: string, fields: object, msg: string): void {
    const suppressed = this.limiter.pass(`${peer} ${event}`, this.nowMs());
    if (suppressed === null) return;
    this.log[level]({ event, ...fields, ...suppressedField(suppressed) }, msg);
  }
}
