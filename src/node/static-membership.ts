/**
 * A membership whose view is set from outside: by a simulator scenario (which knows when it
 * crashes or restarts a node) or by a test. It stands in for SWIM where a run wants the kv layer
 * judged on its own, with a view that every node shares and that changes at one instant.
 */
import type { Member, MemberState, Membership, MembershipEvent } from '../gossip/membership.ts';

type Listener = (event: MembershipEvent) => void;

export class ClusterView {
  private readonly members = new Map<string, Member>();
  /** One listener per node name: a restarted node's process replaces its predecessor's. */
  private readonly listeners = new Map<string, Listener>();

  add(member: Omit<Member, 'state' | 'incarnation'> & { state?: MemberState }): void {
    const m: Member = { state: 'alive', incarnation: 0, ...member };
    this.members.set(m.name, m);
    this.emit({ type: 'joined', member: m });
  }

  setState(name: string, state: MemberState): void {
    const m = this.members.get(name);
    if (!m || m.state === state) return;
    const next: Member = { ...m, state, incarnation: m.incarnation + 1 };
    this.members.set(name, next);
    this.emit({ type: state === 'suspect' ? 'suspect' : state, member: next });
  }

  setMeta(name: string, meta: Record<string, string | number>): void {
    const m = this.members.get(name);
    if (!m) return;
    const next: Member = { ...m, meta: { ...m.meta, ...meta }, incarnation: m.incarnation + 1 };
    this.members.set(name, next);
    this.emit({ type: 'updated', member: next });
  }

  get(name: string): Member | undefined {
    return this.members.get(name);
  }

  all(): readonly Member[] {
    return [...this.members.values()];
  }

  /** The Membership one node sees. */
  forNode(name: string): Membership {
    return {
      self: () => {
        const m = this.members.get(name);
        if (!m) throw new Error(`"${name}" is not in the cluster view; add it before building its node`);
        return m;
      },
      members: () => this.all(),
      subscribe: (listener) => {
        this.listeners.set(name, listener);
        return () => {
          if (this.listeners.get(name) === listener) this.listeners.delete(name);
        };
      },
    };
  }

  private emit(event: MembershipEvent): void {
    for (const listener of [...this.listeners.values()]) listener(event);
  }
}
