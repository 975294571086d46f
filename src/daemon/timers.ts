/**
 * The daemon's Timers: Node timers behind numeric ids (as `RealTimers` in src/runtime/real.ts),
 * except that a zero delay runs on `setImmediate`, not `setTimeout(0)`.
 *
 * Why: core code uses `setTimer(0)` for "after the current turn" (a message to the node's own
 * replica, a callback that must not run inside the call that caused it). Node clamps
 * `setTimeout(0)` to 1 ms, so every such hop cost a millisecond of latency: two of them per
 * request on a single node, which alone kept p99 above 1 ms. `setImmediate` runs after the
 * current I/O callbacks, the same "later, never inside" guarantee without the clamp.
 */
import type { TimerId, Timers } from '../runtime/env.ts';

export class DaemonTimers implements Timers {
  private nextId = 1;
  private readonly timeouts = new Map<TimerId, NodeJS.Timeout>();
  private readonly immediates = new Map<TimerId, NodeJS.Immediate>();

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    if (delayMs <= 0) {
      this.immediates.set(
        id,
        setImmediate(() => {
          this.immediates.delete(id);
          fn();
        }),
      );
    } else {
      this.timeouts.set(
        id,
        setTimeout(() => {
          this.timeouts.delete(id);
          fn();
        }, delayMs),
      );
    }
    return id;
  }

  cancelTimer(id: TimerId): void {
    const timeout = this.timeouts.get(id);
    if (timeout !== undefined) {
      clearTimeout(timeout);
      this.timeouts.delete(id);
      return;
    }
    const immediate = this.immediates.get(id);
    if (immediate !== undefined) {
      clearImmediate(immediate);
      this.immediates.delete(id);
    }
  }

  /** Timers still pending (for tests). */
  get pendingCount(): number {
    return this.timeouts.size + this.immediates.size;
  }

  /** Cancels every pending timer; used on shutdown so the process can exit. */
  cancelAll(): void {
    for (const timeout of this.timeouts.values()) clearTimeout(timeout);
    for (const immediate of this.immediates.values()) clearImmediate(immediate);
    this.timeouts.clear();
    this.immediates.clear();
  }
}
