/**
 * The SDK's timers: every timeout, backoff, retry delay and keepalive of a client goes through one
 * `Timers` of the runtime seam (src/runtime/env.ts), so that the simulator can run real clients in
 * virtual time (the `timers` option; src/sim/client-links.ts). The default is the platform's
 * setTimeout behind numeric ids, which browsers, Deno, Bun and Node.js all have.
 */
import type { TimerId, Timers } from '../runtime/env.ts';

export interface ClientTimers extends Timers {
  /**
   * Lets a pending timer fire without keeping the process alive by itself (Node's `unref`; the
   * keepalive timers use it). Absent where there is no such notion (browsers, the simulator).
   */
  unref?(id: TimerId): void;
  /**
   * The wall clock (epoch ms) a call's deadline is stamped with: when it gives up, which the nodes
   * check (docs/PROTOCOL.md, `deadlineMs`). Absent: `Date.now()`. The simulator passes its
   * virtual time, so that deadlines and the nodes' clocks agree there.
   */
  wallMs?(): number;
}

/** setTimeout and clearTimeout behind ids. */
export class PlatformTimers implements ClientTimers {
  private nextId = 1;
  private readonly pending = new Map<TimerId, ReturnType<typeof setTimeout>>();

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    this.pending.set(
      id,
      setTimeout(() => {
        this.pending.delete(id);
        fn();
      }, delayMs),
    );
    return id;
  }

  cancelTimer(id: TimerId): void {
    const timer = this.pending.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pending.delete(id);
  }

  wallMs(): number {
    return Date.now();
  }

  unref(id: TimerId): void {
    // A browser's timer is a number and cannot be unref'd.
    (this.pending.get(id) as { unref?: () => void } | undefined)?.unref?.();
  }
}
