/**
 * State-merge precedence: what an update about another member does to what we know of it. The
 * rules are SWIM's, as memberlist applies them. An incarnation number is owned by the member
 * itself (only it increments it, to refute or to announce a restart or new metadata), so a higher
 * incarnation always carries newer news; within one incarnation, alive < suspect < dead, and a
 * graceful leave overrides a failure verdict.
 *
 * - alive(i) replaces anything with incarnation < i (a refutation, a restart, new metadata).
 * - suspect(i) replaces alive(j <= i) or suspect(j < i); suspect(i) on suspect(i) confirms it.
 * - dead(i) replaces alive/suspect(j <= i) or dead(j < i); never a left(j >= i).
 * - left(i) replaces alive/suspect/dead(j <= i) or left(j < i).
 * - Only `alive` introduces an unknown member: a rumor of death about a stranger teaches nothing.
 */
import type { MemberState } from './membership.ts';

export type MergeDecision = 'apply' | 'ignore' | 'confirm';

export interface Versioned {
  readonly state: MemberState;
  readonly incarnation: number;
}

export function decideMerge(current: Versioned | undefined, update: Versioned): MergeDecision {
  if (current === undefined) return update.state === 'alive' ? 'apply' : 'ignore';
  const newer = update.incarnation > current.incarnation;
  const same = update.incarnation === current.incarnation;
  switch (update.state) {
    case 'alive':
      return newer ? 'apply' : 'ignore';
    case 'suspect':
      if (current.state === 'alive') return newer || same ? 'apply' : 'ignore';
      if (current.state === 'suspect') return newer ? 'apply' : same ? 'confirm' : 'ignore';
      return 'ignore';
    case 'dead':
      if (current.state === 'alive' || current.state === 'suspect') return newer || same ? 'apply' : 'ignore';
      return newer ? 'apply' : 'ignore';
    case 'left':
      if (current.state === 'left') return newer ? 'apply' : 'ignore';
      return newer || same ? 'apply' : 'ignore';
  }
}

/**
 * Whether an update about ourselves must be refuted: someone believes us suspect, dead or gone at
 * our current incarnation or later, or has heard of a later incarnation of us (a previous life of
 * this member, before a restart reset our counter). The refutation is alive(max(ours, theirs) + 1).
 */
export function mustRefute(ownIncarnation: number, update: Versioned): boolean {
  if (update.state === 'alive') return update.incarnation > ownIncarnation;
  return update.incarnation >= ownIncarnation;
}
