/**
 * Which process of each member this node last heard of (its `started` metadata, META.started), so
 * a restarted member (a new process under the same name and address) is told from the same
 * process back after being declared dead. Gossip alone does not tell them apart: both come back
 * with an `alive` at an incarnation above the death's (the restarted one refutes the death it
 * hears of its previous life).
 */
import type { Member } from '../gossip/membership.ts';

type MetaValue = string | number | undefined;

export class MemberLives {
  private readonly started = new Map<string, MetaValue>();

  constructor(
    private readonly ownName: string,
    private readonly startedKey: string,
  ) {}

  /**
   * Whether `member` is another process than the one last heard of under its name. The first
   * news of a member is not (nothing was learnt of a previous one); a member without the key (a
   * version before it) never is, until it starts with one.
   */
  newProcess(member: Member): boolean {
    if (member.name === this.ownName) return false;
    const started = member.meta[this.startedKey];
    const known = this.started.has(member.name);
    const previous = this.started.get(member.name);
    this.started.set(member.name, started);
    return known && previous !== started;
  }

  /** Forgets a member that left the cluster (its verdicts are forgotten with it). */
  forget(name: string): void {
    this.started.delete(name);
  }
}
