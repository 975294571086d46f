/**
 * The member table: what we know of every member (ourselves and remembered tombstones included),
 * its running counts (live members, tombstones) and order-independent view digest, and the
 * shuffled round-robin order that probing walks and random sampling draws from. It records states;
 * deciding which state wins is merge.ts's job, and what a change sets off is member-updates.ts's.
 */
import { fnv1aString } from '../protocol/hash.ts';
import type { Random } from '../runtime/env.ts';
import { SAMPLE_TRIES_PER_PICK } from './config.ts';
import type { Member } from './membership.ts';
import { encodeUpdate, type MemberUpdate } from './wire.ts';

export interface Entry {
  member: Member;
  /** For a suspect: who accused it (carried when we gossip the suspicion on). */
  accuser: string | null;
  /** Monotonic ms of the last state change. */
  changedMs: number;
  /** The encoded update for push-pull, built lazily and dropped on change. */
  encoded: Uint8Array | null;
}

export class MemberTable {
  private readonly entries = new Map<string, Entry>();
  /** Every member's name in probe order; reshuffled at the end of each pass. */
  private readonly probeOrder: string[] = [];
  private probeIndex = 0;
  /** Members in state alive or suspect, ourselves included. */
  private live = 0;
  private dead = 0;
  private digest = 0;

  constructor(
    private readonly selfName: string,
    private readonly random: Random,
  ) {}

  get(name: string): Entry | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get size(): number {
    return this.entries.size;
  }

  values(): IterableIterator<Entry> {
    return this.entries.values();
  }

  /** Members alive or suspect, ourselves included. */
  get liveCount(): number {
    return this.live;
  }

  /** Dead and left members still remembered. */
  get tombstones(): number {
    return this.dead;
  }

  /** XOR of the fingerprints of every live member (see Membership.viewDigest). */
  get viewDigest(): number {
    return this.digest >>> 0;
  }

  /** Records a member's new state (frozen), keeping the counts and digest; returns what it replaced. */
  set(member: Member, accuser: string | null, nowMs: number): { entry: Entry; previous: Entry | undefined } {
    const previous = this.entries.get(member.name);
    const entry: Entry = { member, accuser, changedMs: nowMs, encoded: null };
    this.entries.set(member.name, entry);
    if (previous) {
      this.unaccount(previous.member);
    } else {
      this.insertIntoProbeOrder(member.name);
    }
    this.account(member);
    return { entry, previous };
  }

  /** Forgets dead and left members whose last change is at or before `cutoffMs`; returns how many. */
  reclaim(cutoffMs: number): number {
    let removed = 0;
    for (const [name, e] of this.entries) {
      if ((e.member.state === 'dead' || e.member.state === 'left') && e.changedMs <= cutoffMs && name !== this.selfName) {
        this.unaccount(e.member);
        this.entries.delete(name);
        removed++;
      }
    }
    if (removed > 0) {
      const kept = this.probeOrder.filter((n) => this.entries.has(n));
      this.probeOrder.length = 0;
      this.probeOrder.push(...kept);
      this.probeIndex = Math.min(this.probeIndex, kept.length);
    }
    return removed;
  }

  /** The next live member other than ourselves in probe order (one full pass at most), reshuffling after each pass. */
  nextProbeTarget(): Entry | undefined {
    for (let scanned = 0; scanned < this.probeOrder.length; scanned++) {
      if (this.probeIndex >= this.probeOrder.length) {
        this.shuffleProbeOrder();
        this.probeIndex = 0;
      }
      const name = this.probeOrder[this.probeIndex++]!;
      if (name === this.selfName) continue;
      const e = this.entries.get(name);
      if (e && (e.member.state === 'alive' || e.member.state === 'suspect')) return e;
    }
    return undefined;
  }

  /** Up to `k` distinct random members other than ourselves that pass `accept`. */
  sample(k: number, accept: (e: Entry) => boolean): Entry[] {
    const out: Entry[] = [];
    const list = this.probeOrder;
    const n = list.length;
    if (k <= 0 || n <= 1) return out;
    const ok = (name: string): Entry | undefined => {
      if (name === this.selfName) return undefined;
      const e = this.entries.get(name);
      return e && accept(e) ? e : undefined;
    };
    if (n <= 4 * k + 16) {
      // Small table: an exact partial shuffle of the eligible members.
      const eligible: Entry[] = [];
      for (const name of list) {
        const e = ok(name);
        if (e) eligible.push(e);
      }
      for (let i = 0; i < eligible.length && out.length < k; i++) {
        const j = i + this.random.int(eligible.length - i);
        const t = eligible[i]!;
        eligible[i] = eligible[j]!;
        eligible[j] = t;
        out.push(eligible[i]!);
      }
      return out;
    }
    for (let tries = 0; tries < k * SAMPLE_TRIES_PER_PICK && out.length < k; tries++) {
      const e = ok(list[this.random.int(n)]!);
      if (e && !out.includes(e)) out.push(e);
    }
    return out;
  }

  private insertIntoProbeOrder(name: string): void {
    // A random position, so a newcomer is probed within one pass rather than after everyone else.
    const list = this.probeOrder;
    list.push(name);
    const j = this.random.int(list.length);
    list[list.length - 1] = list[j]!;
    list[j] = name;
  }

  private shuffleProbeOrder(): void {
    const list = this.probeOrder;
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const t = list[i]!;
      list[i] = list[j]!;
      list[j] = t;
    }
  }

  private account(m: Member): void {
    if (m.state === 'alive' || m.state === 'suspect') {
      this.live++;
      this.digest ^= memberHash(m);
    } else {
      this.dead++;
    }
  }

  private unaccount(m: Member): void {
    if (m.state === 'alive' || m.state === 'suspect') {
      this.live--;
      this.digest ^= memberHash(m);
    } else {
      this.dead--;
    }
  }
}

/** An entry as a wire update (the accuser travels with a suspicion only). */
export function toUpdate(e: Entry): MemberUpdate {
  const m = e.member;
  return { name: m.name, address: m.address, zone: m.zone, incarnation: m.incarnation, state: m.state, meta: m.meta, accuser: m.state === 'suspect' ? e.accuser : null };
}

/** The entry's encoded update, built once per state and reused by every message that carries it. */
export function encodedUpdate(entry: Entry): Uint8Array {
  entry.encoded ??= encodeUpdate(toUpdate(entry));
  return entry.encoded;
}

/** Member fingerprint XORed into the view digest (any bit pattern will do: the digest is used as an int32). */
function memberHash(m: Member): number {
  return fnv1aString(`${m.name}\u0000${m.state}\u0000${m.incarnation}`);
}
