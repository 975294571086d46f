/**
 * What a change in the member table tells the outside: a MembershipEvent for subscribers (the
 * ring, replication) and, for every verdict about a peer, an info log line for operators.
 */
import type { Logger } from '../runtime/env.ts';
import type { Member, MemberState, MembershipEvent } from './membership.ts';
import { sameMeta } from './meta.ts';

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

/** Every verdict about a peer, at info level: joined, suspected, declared dead, alive again, left. */
export function logTransition(log: Logger, selfName: string, previous: Member | undefined, m: Member, accuser: string | null): void {
  const was = previous?.state;
  if (was === m.state) return;
  const fields = { peer: m.name, address: m.address, incarnation: m.incarnation };
  switch (m.state) {
    case 'alive':
      if (was === 'suspect' || was === 'dead') log.info({ ...fields, was }, `peer ${m.name} is alive again (was ${was})`);
      else log.info(fields, `peer ${m.name} joined`);
      return;
    case 'suspect':
      log.info({ ...fields, accuser }, `peer ${m.name} is suspected${accuser === selfName ? ': it did not answer our probe' : ` by ${accuser ?? 'a peer'}`}`);
      return;
    case 'dead':
      log.info(fields, `peer ${m.name} declared dead`);
      return;
    case 'left':
      log.info(fields, `peer ${m.name} left`);
      return;
  }
}
