/**
 * The clock ceiling: versions never go back across a restart (docs/REPLICATION.md, "Versions
 * across restarts"). As a timestamp oracle does (TiDB PD's TSO, Percolator's), the node persists a
 * wall millisecond above every version its clock may stamp, `CLOCK_CEILING_WINDOW_MS` ahead of it,
 * and extends it in the background as the clock comes within half a window of it. A later process
 * of the node starts its clock at the persisted ceiling (HybridLogicalClock.startAbove), so every
 * version it stamps is above every version its earlier processes stamped, whatever its wall clock
 * did meanwhile and whoever it has heard from, as long as the store survived.
 *
 * The write path never waits for the store: a version stamped at or above the durable ceiling
 * (the clock outran a save that was slow, failed, or still in flight) is counted in `overruns` and
 * logged once; such a version is covered only once a later save lands. A failed save is counted,
 * logged once, and tried again on a later move of the clock, `RETRY_AFTER_MS` after the failure.
 */
import type { ClockCeilingStore, Env } from '../runtime/env.ts';
import type { ClockWatcher, HybridLogicalClock } from './hlc.ts';

/** How far ahead of the clock a save puts the ceiling, in ms: how far ahead of its wall clock a restarted node's clock may start. */
export const CLOCK_CEILING_WINDOW_MS = 2_000;
/** A save starts once the clock comes within this of the ceiling asked for (so about one save per second while the clock moves). */
const EXTEND_WITHIN_MS = CLOCK_CEILING_WINDOW_MS / 2;
/** After a failed save, the next one waits at least this long (monotonic ms). */
const RETRY_AFTER_MS = 1_000;

export interface ClockCeilingStats {
  /** Saves that landed. */
  saves: number;
  /** Saves that failed. */
  saveFailures: number;
  /** Versions stamped at or above the durable ceiling: a restart before the next save lands could stamp below them. */
  overruns: number;
}

export class ClockCeiling implements ClockWatcher {
  readonly stats: ClockCeilingStats = { saves: 0, saveFailures: 0, overruns: 0 };
  /** The ceiling durable in the store (wall ms; 0 while none was loaded and no save of this process landed). */
  durableMs = 0;
  /** The ceiling this process started its clock at (wall ms), or null: none was persisted. */
  startedAtMs: number | null = null;
  /** The highest ceiling asked of the store (durable or in flight). */
  private askedMs = 0;
  private saving = false;
  private retryAtMono = -Infinity;
  private overrunLogged = false;
  private failureLogged = false;

  /**
   * Loads the persisted ceiling and starts `hlc` at it; then watches `hlc` and saves a ceiling
   * ahead of it.
   */
  constructor(
    private readonly store: ClockCeilingStore,
    private readonly env: Pick<Env, 'clock' | 'log'>,
    private readonly hlc: HybridLogicalClock,
  ) {
    const loaded = store.load();
    if (loaded !== null && Number.isSafeInteger(loaded) && loaded > 0) {
      this.durableMs = loaded;
      this.askedMs = loaded;
      hlc.startAbove(loaded);
      this.startedAtMs = loaded;
      const ahead = loaded - Math.floor(env.clock.wallMs());
      if (ahead > CLOCK_CEILING_WINDOW_MS) {
        env.log.warn({ ceilingMs: loaded, aheadMs: ahead }, `the clock starts at its persisted ceiling, ${ahead} ms ahead of the wall clock (stepped back?): versions count logical ticks until the wall clock catches up`);
      }
    }
    hlc.watcher = this;
    // The clock has handed nothing out yet; its first version comes from the wall clock, or above the loaded ceiling.
    this.advanced(Math.max(hlc.peek().wallMs, Math.floor(env.clock.wallMs())), false);
  }

  advanced(wallMs: number, stamped: boolean): void {
    if (stamped && wallMs >= this.durableMs) this.overran(wallMs);
    if (wallMs + EXTEND_WITHIN_MS < this.askedMs || this.saving) return;
    if (this.env.clock.monoMs() < this.retryAtMono) return;
    this.extend(wallMs + CLOCK_CEILING_WINDOW_MS);
  }

  private extend(ceilingMs: number): void {
    this.saving = true;
    this.askedMs = Math.max(this.askedMs, ceilingMs);
    this.store.save(ceilingMs, (error) => {
      this.saving = false;
      if (error === null) {
        this.stats.saves++;
        this.durableMs = Math.max(this.durableMs, ceilingMs);
      } else {
        this.stats.saveFailures++;
        this.askedMs = this.durableMs;
        this.retryAtMono = this.env.clock.monoMs() + RETRY_AFTER_MS;
        if (!this.failureLogged) {
          this.failureLogged = true;
          this.env.log.warn({ ceilingMs, error }, `cannot persist the clock ceiling (${error}): a restart may stamp versions below this process's (counted in clockCeiling.saveFailures; logged once)`);
        }
      }
      // The clock may have come near the ceiling while the save was in flight.
      this.advanced(this.hlc.peek().wallMs, false);
    });
  }

  private overran(wallMs: number): void {
    this.stats.overruns++;
    if (this.overrunLogged) return;
    this.overrunLogged = true;
    this.env.log.warn({ wallMs, durableMs: this.durableMs }, 'a version was stamped at or above the persisted clock ceiling before its extension was saved (slow or failing store): until it is, a restart may stamp below it (counted in clockCeiling.overruns; logged once)');
  }
}
