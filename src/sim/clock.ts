/**
 * A simulated node's clocks. Monotonic time is the simulator's virtual time and never goes back.
 * Wall time is virtual time plus faults that only this node suffers: a fixed offset, a drift rate
 * (parts per million) and step jumps — the kinds of error NTP leaves behind or introduces.
 */
import type { Clock } from '../runtime/env.ts';

/** Virtual time 0 is this wall-clock instant (2026-01-01T00:00:00Z), so wall times look real. */
export const SIM_EPOCH_MS = 1_767_225_600_000;

export class SimClock implements Clock {
  private offsetMs = 0;
  private driftPpm = 0;
  /** Virtual time at which the current drift started, so changing drift does not rewrite the past. */
  private driftSince = 0;
  private driftAccumulatedMs = 0;

  constructor(private readonly now: () => number) {}

  wallMs(): number {
    const t = this.now();
    return Math.floor(SIM_EPOCH_MS + t + this.offsetMs + this.driftAccumulatedMs + ((t - this.driftSince) * this.driftPpm) / 1e6);
  }

  monoMs(): number {
    return this.now();
  }

  /** The wall clock's current error against true (virtual) time, in ms. */
  skewMs(): number {
    return this.wallMs() - Math.floor(SIM_EPOCH_MS + this.now());
  }

  setOffset(ms: number): void {
    this.offsetMs = ms;
  }

  step(ms: number): void {
    this.offsetMs += ms;
  }

  setDrift(ppm: number): void {
    const t = this.now();
    this.driftAccumulatedMs += ((t - this.driftSince) * this.driftPpm) / 1e6;
    this.driftSince = t;
    this.driftPpm = ppm;
  }

  /** Clears every fault: the wall clock reads true time again. */
  reset(): void {
    this.offsetMs = 0;
    this.driftPpm = 0;
    this.driftAccumulatedMs = 0;
    this.driftSince = this.now();
  }
}
