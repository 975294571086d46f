/**
 * Reversible drain (`shoal drain NODE`, `shoal undrain NODE`): the node gives up ownership of its
 * partitions while it stays a live member that still coordinates requests, then takes its share
 * back. Elasticsearch's allocation exclusion and Kafka's partition reassignment do the same job.
 *
 * It is the graceful leave's handoff without the leave (node.ts `leave`): the node publishes
 * `draining` in its gossip metadata, so every node builds its ring without it (ring-placement.ts
 * `holdsData`) and computes the same owners; the ring lifecycle bumps the epochs of the partitions
 * that move and keeps the previous ring's joint quorum until the old owners have moved past it;
 * sync hands each partition the node no longer owns to its new owners (they catch up from it
 * before their reads count) and drops it once every live owner holds all of it. Undraining
 * removes the flag: the ring with the node comes back (its claim seed is unchanged, so it owns the
 * same partitions as before), and each partition it gains catches up from the owners before its
 * reads count, as after a join. The node itself takes that ring only once a peer is seen on it
 * (ring-lifecycle.ts holdBackSelf: its peers may not have heard of the undrain yet, kv-drain seed
 * 400110). A restart forgets a drain (the flag is not sticky metadata).
 *
 * Safety: a drain is refused while no other live member holds data (the last holder has nobody to
 * hand off to and would drop its data), while the node is still joining, and while it leaves.
 *
 * For code (the automatic drain of a predicted failure): `ShoalNode.drain()`, `undrain()` and
 * `drainProgress()` delegate here; each returns the progress at once, and progress is polled.
 */
import type { Logger } from '../runtime/env.ts';
import { RING_META } from './ring-placement.ts';

export type DrainState = 'serving' | 'draining' | 'drained';

/** What a drain has moved so far (all zero while serving). */
export interface DrainProgress {
  state: DrainState;
  /** Partitions the node owned or held when the drain began: what has to move. */
  partitionsAtStart: number;
  /** Partitions it still owns in its ring or still holds (their handoff has not finished). */
  partitionsLeft: number;
  /** Keys and bytes (key plus record) handed off since the drain began. */
  keysHandedOff: number;
  bytesHandedOff: number;
  /** Since the drain began, or how long it took once drained; 0 while serving. */
  elapsedMs: number;
}

/** A drain or undrain the node cannot do now, and why. */
export class DrainRefusedError extends Error {
  override readonly name = 'DrainRefusedError';
}

/** What the drain needs from its node (ShoalNode implements it). */
export interface DrainHost {
  readonly name: string;
  readonly log: Logger;
  monoMs(): number;
  /** The node's own gossip metadata, and a replacement for it (gossip spreads it). */
  meta(): Readonly<Record<string, string | number>>;
  updateMeta(meta: Readonly<Record<string, string | number>>): void;
  /** Rebuilds the ring now rather than at the next periodic check. */
  requestRingCheck(): void;
  /** Whether the node has joined (its ring is confirmed), and whether it is leaving or stopped. */
  joined(): boolean;
  leaving(): boolean;
  /** Partitions its current ring places on it, or that it still holds. */
  partitionsHere(): number;
  /** Live members other than this one that the ring places data on. */
  otherDataHolders(): number;
  /** Totals of ownership handoff since the node started (sync stats). */
  handoffTotals(): { keys: number; bytes: number };
}

export class NodeDrain {
  private draining = false;
  private start = { atMs: 0, partitions: 0, keys: 0, bytes: 0 };
  /** When the drain was first seen complete (elapsed stops there); null while it moves. */
  private drainedAtMs: number | null = null;
  /** Whether this drain's completion was logged (`check`). */
  private loggedDrained = false;

  constructor(private readonly host: DrainHost) {}

  get active(): boolean {
    return this.draining;
  }

  /** Starts giving the node's partitions away (idempotent); throws DrainRefusedError when it must not. */
  drain(): DrainProgress {
    if (this.draining) return this.progress();
    const h = this.host;
    if (h.leaving()) throw new DrainRefusedError(`${h.name} is leaving the cluster; a drain would change nothing`);
    if (!h.joined()) throw new DrainRefusedError(`${h.name} has not joined its cluster yet; it owns nothing to drain`);
    if (h.otherDataHolders() === 0) throw new DrainRefusedError(`${h.name} is the only live member holding data; with nobody to hand its partitions to, a drain would drop them`);
    const totals = h.handoffTotals();
    this.start = { atMs: h.monoMs(), partitions: h.partitionsHere(), keys: totals.keys, bytes: totals.bytes };
    this.drainedAtMs = null;
    this.loggedDrained = false;
    this.draining = true;
    h.updateMeta({ ...h.meta(), [RING_META.draining]: 1 });
    h.requestRingCheck();
    h.log.info({ event: 'drain', partitions: this.start.partitions }, `draining: handing ${this.start.partitions} partitions off to the other members; this node keeps coordinating requests`);
    return this.progress();
  }

  /** Takes the node's share of partitions back (idempotent); throws DrainRefusedError while it leaves. */
  undrain(): DrainProgress {
    const h = this.host;
    if (h.leaving()) throw new DrainRefusedError(`${h.name} is leaving the cluster; it cannot take partitions back`);
    if (!this.draining) return this.progress();
    this.draining = false;
    const meta = { ...h.meta() };
    delete meta[RING_META.draining];
    h.updateMeta(meta);
    h.requestRingCheck();
    h.log.info({ event: 'undrain' }, "undrained: taking this node's share of partitions back (each catches up before its reads count)");
    return this.progress();
  }

  /** Logs the drain's completion once (the node calls it every ring check). */
  check(): void {
    if (!this.draining || this.loggedDrained) return;
    const p = this.progress();
    if (p.state !== 'drained') return;
    this.loggedDrained = true;
    this.host.log.info({ event: 'drained', ...p }, `drained: ${p.partitionsAtStart} partitions handed off (${p.keysHandedOff} keys, ${p.bytesHandedOff} bytes sent) in ${(p.elapsedMs / 1000).toFixed(1)} s`);
  }

  progress(): DrainProgress {
    if (!this.draining) return { state: 'serving', partitionsAtStart: 0, partitionsLeft: 0, keysHandedOff: 0, bytesHandedOff: 0, elapsedMs: 0 };
    const h = this.host;
    const now = h.monoMs();
    const left = h.partitionsHere();
    // A late record for a partition the node no longer owns is held until handed off: drained again once it is.
    if (left > 0) this.drainedAtMs = null;
    else this.drainedAtMs ??= now;
    const totals = h.handoffTotals();
    return {
      state: left === 0 ? 'drained' : 'draining',
      partitionsAtStart: this.start.partitions,
      partitionsLeft: left,
      keysHandedOff: totals.keys - this.start.keys,
      bytesHandedOff: totals.bytes - this.start.bytes,
      elapsedMs: (this.drainedAtMs ?? now) - this.start.atMs,
    };
  }
}
