/**
 * The node's story lines (docs/OPERATIONS.md, "Logs that tell the story"): each ring change with
 * the partitions it moves in and out of this node, a hint backlog crossing its thresholds (and
 * falling back), and eviction pressure in the store. Every line has a stable `event` field and goes
 * through a LogLimiter, so a cluster that keeps changing cannot flood the log.
 *
 * Ring lines held back by the limiter are not lost: once the interval has passed, a trailing line
 * says where the ring ended up (from the last ring logged), so the log never ends on a ring that is
 * no longer in force when no further change comes to carry the count.
 */
import type { Placement } from '../replication/context.ts';
import type { Logger, TimerId, Timers } from '../runtime/env.ts';
import { LogLimiter, suppressedField } from '../runtime/log-limiter.ts';
import type { StoreStats } from '../store/index.ts';

/** At most one ring-changed line per this interval (the lines held back are counted in the next, or in a trailing line once it passes). */
export const RING_LOG_INTERVAL_MS = 1_000;
/** Hint backlog and eviction pressure lines: at most one per kind per this interval. */
export const PRESSURE_LOG_INTERVAL_MS = 30_000;
/** The hint backlog is high past this share of --max-hints or of the hint bytes budget... */
export const HINT_BACKLOG_HIGH = 0.5;
/** ...and back to normal under this share (hysteresis: a backlog hovering at the line logs once). */
export const HINT_BACKLOG_LOW = 0.25;
/** Eviction pressure: entries evicted for room (or refused as too large) per second, at least... */
export const EVICTION_PRESSURE_MIN_PER_SECOND = 1_000;
/** ...and at least this share of the entries held, per second. */
export const EVICTION_PRESSURE_SHARE = 0.01;
/** A ring-changed line lists at most this many partitions moved in or out (the counts are always there). */
const LISTED_PARTITIONS = 32;

export class NodeStoryLog {
  private readonly ringLimiter = new LogLimiter(RING_LOG_INTERVAL_MS);
  private readonly pressureLimiter = new LogLimiter(PRESSURE_LOG_INTERVAL_MS);
  private hintBacklogHigh = false;
  private evictionPressure = false;
  private lastEvictions: { atMs: number; evicted: number; refused: number } | null = null;
  /** The last ring a line was logged for, and the newest ring held back since (null: none). */
  private ringLogged: Placement | null = null;
  private ringHeld: Placement | null = null;
  private ringTrailer: TimerId | null = null;

  constructor(
    private readonly log: Logger,
    private readonly self: string,
    private readonly nowMs: () => number,
    /** The node's timers (Env), for the trailing ring line; without them a held-back ring waits for the next change. */
    private readonly timers: Timers | null = null,
  ) {}

  /** A new ring: versions, members, and the partitions this node gained and lost. */
  ringChanged(previous: Placement | null, next: Placement): void {
    const suppressed = this.ringLimiter.pass('ring', this.nowMs());
    if (suppressed === null) {
      this.ringHeld = next;
      // Armed at the first held-back change: the interval since the last line has passed when it fires.
      if (this.ringTrailer === null && this.timers !== null) this.ringTrailer = this.timers.setTimer(RING_LOG_INTERVAL_MS, () => this.ringTrailing());
      return;
    }
    this.cancelTrailer();
    this.ringHeld = null;
    this.logRing(previous, next, suppressed);
  }

  /** Cancels the pending trailing line (the node stops). */
  stop(): void {
    this.cancelTrailer();
  }

  private cancelTrailer(): void {
    if (this.ringTrailer !== null) this.timers?.cancelTimer(this.ringTrailer);
    this.ringTrailer = null;
  }

  /** The trailing line: the ring in force now, against the last one logged. */
  private ringTrailing(): void {
    this.ringTrailer = null;
    const held = this.ringHeld;
    if (held === null) return;
    const suppressed = this.ringLimiter.pass('ring', this.nowMs());
    if (suppressed === null) {
      this.ringTrailer = this.timers!.setTimer(RING_LOG_INTERVAL_MS, () => this.ringTrailing());
      return;
    }
    this.ringHeld = null;
    // Back on the ring logged last (a change and its undoing within the interval): the log already ends on the ring in force.
    if (this.ringLogged !== null && this.ringLogged.version === held.version) return;
    // This line is the last change held back; the ones before it are the suppressed ones.
    this.logRing(this.ringLogged, held, Math.max(0, suppressed - 1));
  }

  private logRing(previous: Placement | null, next: Placement, suppressed: number): void {
    this.ringLogged = next;
    const gained: number[] = [];
    const lost: number[] = [];
    let owned = 0;
    for (let p = 0; p < next.partitions; p++) {
      const now = next.owners(p).includes(this.self);
      const before = previous !== null && previous.owners(p).includes(this.self);
      if (now) owned++;
      if (now && !before) gained.push(p);
      else if (!now && before) lost.push(p);
    }
    const before = new Set(previous?.members.map((m) => m.name) ?? []);
    const after = new Set(next.members.map((m) => m.name));
    const membersAdded = [...after].filter((n) => !before.has(n));
    const membersRemoved = [...before].filter((n) => !after.has(n));
    this.log.info(
      {
        event: 'ring-changed',
        oldVersion: previous?.version ?? null,
        version: next.version,
        members: next.members.length,
        membersAdded,
        membersRemoved,
        partitionsOwned: owned,
        partitionsIn: gained.length,
        partitionsOut: lost.length,
        partitionsInList: gained.slice(0, LISTED_PARTITIONS),
        partitionsOutList: lost.slice(0, LISTED_PARTITIONS),
        ...suppressedField(suppressed),
      },
      `ring ${previous ? `changed from ${previous.version} ` : ''}to ${next.version}: ${next.members.length} member${next.members.length === 1 ? '' : 's'}, this node owns ${owned} partitions (${gained.length} in, ${lost.length} out)`,
    );
  }

  /** Called about once a second with the hints held and their bounds. */
  checkHints(count: number, bytes: number, maxHints: number, maxBytes: number): void {
    const share = Math.max(maxHints > 0 ? count / maxHints : 0, maxBytes > 0 ? bytes / maxBytes : 0);
    const fields = { hints: count, hintBytes: bytes, maxHints, maxHintBytes: maxBytes, share: Math.round(share * 1000) / 1000 };
    if (!this.hintBacklogHigh && share >= HINT_BACKLOG_HIGH) {
      const suppressed = this.pressureLimiter.pass('hints-high', this.nowMs());
      if (suppressed === null) return;
      this.hintBacklogHigh = true;
      this.log.warn(
        { event: 'hint-backlog-high', ...fields, ...suppressedField(suppressed) },
        `hint backlog high: ${count} hints (${bytes} bytes), ${Math.round(share * 100)}% of the bound; past it the oldest hints are dropped and anti-entropy must repair their writes`,
      );
    } else if (this.hintBacklogHigh && share < HINT_BACKLOG_LOW) {
      this.hintBacklogHigh = false;
      this.log.info({ event: 'hint-backlog-normal', ...fields }, `hint backlog back to normal: ${count} hints (${bytes} bytes)`);
    }
  }

  /** Called about once a second with the store's counters. */
  checkEviction(stats: StoreStats): void {
    const now = this.nowMs();
    const evicted = stats.evictions.size;
    const refused = stats.refusedTooLarge;
    const last = this.lastEvictions;
    this.lastEvictions = { atMs: now, evicted, refused };
    if (last === null || now <= last.atMs) return;
    const seconds = (now - last.atMs) / 1000;
    const evictedPerSecond = Math.round((evicted - last.evicted) / seconds);
    const refusedPerSecond = Math.round((refused - last.refused) / seconds);
    const threshold = Math.max(EVICTION_PRESSURE_MIN_PER_SECOND, EVICTION_PRESSURE_SHARE * stats.entries);
    const fields = { evictedPerSecond, refusedPerSecond, entries: stats.entries, bytes: stats.bytes, maxMemory: stats.maxMemory, policy: stats.policy };
    if (evictedPerSecond + refusedPerSecond >= threshold) {
      const suppressed = this.pressureLimiter.pass('eviction', now);
      if (suppressed === null) return;
      this.evictionPressure = true;
      this.log.warn(
        { event: 'eviction-pressure', ...fields, ...suppressedField(suppressed) },
        `eviction pressure: ${evictedPerSecond} entries evicted and ${refusedPerSecond} writes refused per second at ${stats.bytes} of ${stats.maxMemory} bytes; the working set does not fit the store's budget (--max-memory, or CONFIG SET maxmemory)`,
      );
    } else if (this.evictionPressure && evictedPerSecond + refusedPerSecond < threshold / 4) {
      this.evictionPressure = false;
      this.log.info({ event: 'eviction-pressure-end', ...fields }, `eviction pressure over: ${evictedPerSecond} entries evicted per second`);
    }
  }
}
