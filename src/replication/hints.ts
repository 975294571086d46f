/**
 * Hinted handoff's store: writes meant for a replica that was down or did not answer, kept until
 * that replica is reachable again. Bounded by count and bytes (the oldest hint is dropped to make
 * room, and counted), expired after the hint window, and deduplicated per (target, key): only the
 * newest version per key needs to travel.
 *
 * Hints live in memory: a node that crashes loses its hints, and anti-entropy (sync.ts) is what
 * repairs the target then. Hints make repair fast; anti-entropy makes it certain.
 *
 * A hint is only worth keeping while its target may still receive it: when the target leaves the
 * cluster, the node takes its hints back (`take`) and passes a sloppy-quorum hint's write on to
 * the partition's current owners, or drops an ordinary hint (see ShoalNode.rehomeHints). A node
 * that leaves does the same for a target that is down, and drops its ordinary hints once it has
 * handed its partitions off.
 */
import { compareVersions } from './hlc.ts';
import { versionOfEncoded } from './record.ts';

export interface Hint {
  readonly id: number;
  readonly target: string;
  readonly partition: number;
  readonly key: string;
  readonly record: Uint8Array;
  readonly storedAtMs: number;
  /**
   * Kept by a sloppy-quorum stand-in: this node is not an owner, and the hint may be one of the
   * copies that made the write's quorum. An ordinary hint (kept by a coordinator for an owner that
   * did not acknowledge) adds nothing to the owners that did.
   */
  readonly fallback: boolean;
  /** Monotonic ms of the last delivery attempt, or -1 if never sent. */
  sentAtMs: number;
}

export interface HintStats {
  stored: number;
  delivered: number;
  droppedForRoom: number;
  expired: number;
  /** A newer hint for the same (target, key) replaced an older one. */
  superseded: number;
  /** Ordinary hints dropped: their target left the cluster, or this node left (see ShoalNode.leave). */
  abandoned: number;
  /** Stand-in hints whose target left, passed on to the partition's current owners (or, with none, dropped and counted abandoned). */
  readdressed: number;
}

/** Bytes a hint is charged: its record, its key and a fixed allowance for bookkeeping. */
const HINT_OVERHEAD_BYTES = 64;

export class HintStore {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly byId = new Map<number, Hint>();
  private readonly byTargetKey = new Map<string, number>();
  /** Each target's hints, oldest first, so a delivery round reads only that target's hints. */
  private readonly byTarget = new Map<string, Map<number, Hint>>();
  private nextId: number;
  private bytesHeld = 0;
  private standIns = 0;
  readonly stats: HintStats = { stored: 0, delivered: 0, droppedForRoom: 0, expired: 0, superseded: 0, abandoned: 0, readdressed: 0 };
  /** The most hints and bytes ever held at once, for the bounded-resources checker. */
  peakCount = 0;
  peakBytes = 0;

  constructor(
    readonly maxHints: number,
    readonly maxBytes: number,
    readonly windowMs: number,
    /** The first hint id (request-ids.ts); 1 in tests that build a store alone. */
    firstId = 1,
  ) {
    this.nextId = firstId;
  }

  get count(): number {
    return this.byId.size;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Hints kept as a sloppy-quorum stand-in (`fallback`): copies a write's quorum may have counted. */
  get standInCount(): number {
    return this.standIns;
  }

  /** Keeps `record` for `target`; a newer hint for the same key replaces an older one. */
  add(target: string, partition: number, key: string, record: Uint8Array, nowMs: number, fallback = false): void {
    const tk = `${target}\u0000${key}`;
    const existingId = this.byTargetKey.get(tk);
    if (existingId !== undefined) {
      const existing = this.byId.get(existingId)!;
      if (compareVersions(versionOfEncoded(existing.record), versionOfEncoded(record)) >= 0) return;
      this.remove(existingId);
      this.stats.superseded++;
    }
    const cost = hintCost(key, record);
    if (cost > this.maxBytes) {
      this.stats.droppedForRoom++;
      return;
    }
    while (this.byId.size >= this.maxHints || this.bytesHeld + cost > this.maxBytes) {
      const oldest = this.byId.keys().next().value as number;
      this.remove(oldest);
      this.stats.droppedForRoom++;
    }
    const id = this.nextId++;
    // A copy: a received record is a view into the network buffer it arrived in, which a long-lived
    // hint would otherwise keep alive whole while being charged only for the record.
    const hint: Hint = { id, target, partition, key, record: record.slice(), storedAtMs: nowMs, fallback, sentAtMs: -1 };
    this.byId.set(id, hint);
    let forTarget = this.byTarget.get(target);
    if (!forTarget) this.byTarget.set(target, (forTarget = new Map()));
    forTarget.set(id, hint);
    this.byTargetKey.set(tk, id);
    this.bytesHeld += cost;
    if (fallback) this.standIns++;
    this.stats.stored++;
    this.peakCount = Math.max(this.peakCount, this.byId.size);
    this.peakBytes = Math.max(this.peakBytes, this.bytesHeld);
  }

  /** Drops hints older than the window. */
  expire(nowMs: number): void {
    for (const hint of this.byId.values()) {
      if (hint.storedAtMs + this.windowMs > nowMs) break; // age order: the rest are younger
      this.remove(hint.id);
      this.stats.expired++;
    }
  }

  /** The bytes the hints held cost, summed afresh (the byte-accounting assertion compares it with `bytes`). */
  recountBytes(): number {
    let sum = 0;
    for (const hint of this.byId.values()) sum += hintCost(hint.key, hint.record);
    return sum;
  }

  /** Targets that have hints waiting, in the order they started waiting. */
  targets(): string[] {
    return [...this.byTarget.keys()];
  }

  /**
   * Up to `max` hints for `target` due for (re)sending at `nowMs`: never sent, or sent more than
   * `resendMs` ago. `inFlight` counts those sent and not yet due, so the caller can throttle.
   */
  due(target: string, nowMs: number, resendMs: number, max: number): { due: Hint[]; inFlight: number } {
    const due: Hint[] = [];
    let inFlight = 0;
    for (const hint of this.byTarget.get(target)?.values() ?? []) {
      if (hint.sentAtMs >= 0 && hint.sentAtMs + resendMs > nowMs) inFlight++;
      else if (due.length < max) due.push(hint);
    }
    return { due: due.slice(0, Math.max(0, max - inFlight)), inFlight };
  }

  /** How many hints wait for each target, in the order the targets started waiting. */
  countsByTarget(): Map<string, number> {
    return new Map([...this.byTarget].map(([target, hints]) => [target, hints.size]));
  }

  /**
   * Removes and returns every hint for `target` (only the ordinary ones with `ordinaryOnly`),
   * oldest first: the caller passes them on or drops them, and counts which.
   */
  take(target: string, ordinaryOnly = false): Hint[] {
    const taken = [...(this.byTarget.get(target)?.values() ?? [])].filter((hint) => !(ordinaryOnly && hint.fallback));
    for (const hint of taken) this.remove(hint.id);
    return taken;
  }

  /** The target acknowledged the hint: forgets it and returns it (undefined if already forgotten). */
  delivered(id: number): Hint | undefined {
    const hint = this.byId.get(id);
    if (hint && this.remove(id)) this.stats.delivered++;
    return hint;
  }

  private remove(id: number): boolean {
    const hint = this.byId.get(id);
    if (!hint) return false;
    this.byId.delete(id);
    this.byTargetKey.delete(`${hint.target}\u0000${hint.key}`);
    const forTarget = this.byTarget.get(hint.target)!;
    forTarget.delete(id);
    if (forTarget.size === 0) this.byTarget.delete(hint.target);
    this.bytesHeld -= hintCost(hint.key, hint.record);
    if (hint.fallback) this.standIns--;
    return true;
  }
}

function hintCost(key: string, record: Uint8Array): number {
  return key.length + record.length + HINT_OVERHEAD_BYTES;
}
