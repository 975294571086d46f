/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): a timestamp is the
 * largest wall-clock reading seen so far (ours or one carried by a message) plus a logical counter
 * that orders events sharing that reading, plus the node id as the final tiebreak. It stays close
 * to wall time, never goes backwards on one node even when the wall clock steps back, and orders a
 * receive after the send that caused it. Every write is stamped with one; conflicts resolve
 * last-writer-wins on this order.
 */
import type { Clock, Env } from '../runtime/env.ts';
import { invariant, MAX_REMOTE_CLOCK_AHEAD_MS } from '../runtime/probes.ts';
import { murmur3String } from '../protocol/hash.ts';

/** A write's version. Ordered by (wallMs, logical, node). */
export interface Version {
  /** Milliseconds since the epoch: the largest wall reading known when the version was made. */
  readonly wallMs: number;
  /** Orders versions sharing `wallMs`. */
  readonly logical: number;
  /** Numeric id of the stamping node (see `nodeIdOf`); breaks ties between nodes. */
  readonly node: number;
}

/** Older than every real version: what a key that was never written compares as. */
export const ZERO_VERSION: Version = { wallMs: 0, logical: 0, node: 0 };

/** The largest logical counter; past it the clock borrows one millisecond from the future. */
export const MAX_LOGICAL = 0xffff_ffff;

/** Seed for node ids, so the id space is independent of the ring's name hashes. */
const NODE_ID_SEED = 0x686c_6321; // "hlc!"

/** A node's numeric HLC id, derived from its stable name. */
export function nodeIdOf(name: string): number {
  return murmur3String(name, NODE_ID_SEED);
}

/** Negative, zero or positive as `a` is older than, equal to, or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return 0;
}

export function versionToString(v: Version): string {
  return `${v.wallMs}.${v.logical}@${v.node.toString(16)}`;
}

/** The version `versionToString` wrote, or null when `text` is not one (from a peer: checked, never trusted). */
export function versionFromString(text: string): Version | null {
  const match = /^(\d+)\.(\d+)@([0-9a-f]+)$/.exec(text);
  return match === null ? null : { wallMs: Number(match[1]), logical: Number(match[2]), node: parseInt(match[3]!, 16) };
}

/** Told of every move of a clock (src/replication/clock-ceiling.ts keeps its ceiling ahead of it). */
export interface ClockWatcher {
  /** The clock now reads `wallMs`; `stamped`: a version was handed out at that reading. */
  advanced(wallMs: number, stamped: boolean): void;
}

export class HybridLogicalClock {
  private wallMs = 0;
  private logical = 0;
  /** Told after each move (null: none). */
  watcher: ClockWatcher | null = null;

  /** `env`: where the clock's assertions report (src/runtime/probes.ts); none in unit tests. */
  constructor(
    private readonly clock: Clock,
    readonly nodeId: number,
    private readonly env: Pick<Env, 'probes' | 'log'> | null = null,
  ) {}

  /** A fresh version for a local event (a write this node coordinates), newer than any seen. */
  now(): Version {
    const wallBefore = this.wallMs;
    const logicalBefore = this.logical;
    const physical = Math.floor(this.clock.wallMs());
    if (physical > this.wallMs) {
      this.wallMs = physical;
      this.logical = 0;
    } else {
      this.tick();
    }
    this.assertForward(wallBefore, logicalBefore, true);
    this.watcher?.advanced(this.wallMs, true);
    return { wallMs: this.wallMs, logical: this.logical, node: this.nodeId };
  }

  /**
   * Before the first version: the clock reads `ceilingMs` (logical 0) when that is ahead of it, so
   * every version it hands out is above every version stamped below that millisecond, whatever the
   * wall clock reads. A wall clock behind it leaves the clock on logical ticks until it catches up.
   */
  startAbove(ceilingMs: number): void {
    if (ceilingMs <= this.wallMs) return;
    this.wallMs = ceilingMs;
    this.logical = 0;
  }

  /** Folds in a version carried by a message, so later local versions order after it. */
  observe(remote: Version): void {
    const wallBefore = this.wallMs;
    const logicalBefore = this.logical;
    const physical = Math.floor(this.clock.wallMs());
    if (this.env) {
      const ahead = remote.wallMs - physical;
      invariant(this.env, ahead <= MAX_REMOTE_CLOCK_AHEAD_MS, 'hlc-remote-bounded', () => `remote version ${versionToString(remote)} is ${ahead} ms ahead of this node's wall clock`);
    }
    this.fold(remote, physical);
    this.assertForward(wallBefore, logicalBefore, false);
    this.watcher?.advanced(this.wallMs, false);
  }

  private fold(remote: Version, physical: number): void {
    const top = Math.max(this.wallMs, remote.wallMs, physical);
    if (top === this.wallMs && top === remote.wallMs) {
      this.logical = Math.max(this.logical, remote.logical);
    } else if (top === remote.wallMs) {
      this.wallMs = top;
      this.logical = remote.logical;
    } else if (top !== this.wallMs) {
      this.wallMs = top;
      this.logical = 0;
      return;
    }
    // The max is an existing reading: the counter must move past it.
    this.tick();
  }

  /** The clock never goes back; a version handed out (`strictly`) is after every earlier reading. */
  private assertForward(wallBefore: number, logicalBefore: number, strictly: boolean): void {
    if (!this.env) return;
    const order = this.wallMs !== wallBefore ? this.wallMs - wallBefore : this.logical - logicalBefore;
    invariant(this.env, strictly ? order > 0 : order >= 0, 'hlc-monotone', () => `the clock moved from ${wallBefore}.${logicalBefore} to ${this.wallMs}.${this.logical}`);
  }

  /** The last version handed out or observed (for tests and diagnostics). */
  peek(): Version {
    return { wallMs: this.wallMs, logical: this.logical, node: this.nodeId };
  }

  private tick(): void {
    if (this.logical < MAX_LOGICAL) {
      this.logical++;
    } else {
      this.wallMs++;
      this.logical = 0;
    }
  }
}
