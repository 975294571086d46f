/**
 * The node's store budget as RESP's CONFIG SET maxmemory changes it at run time (src/resp,
 * MemoryBudgetControl). A larger budget takes effect at once. A smaller one is reached in steps of
 * at most SHRINK_STEP_BYTES, a timer turn apart: the store evicts synchronously, and evicting a
 * large store to a much smaller budget in one go held the event loop for seconds (900,000 entries
 * of 100 bytes took 1.7 s, docs/STORE.md "Resizing the budget"), long enough for peers to suspect
 * the node. Between steps the node answers requests and probes, and writes are held to the step
 * reached, never above the budget before the shrink. Redis too evicts a lowered maxmemory over
 * several event loop turns.
 */
import type { Timers, TimerId } from '../runtime/env.ts';
import type { Store } from '../store/store.ts';

/** The most a single step takes the budget below what the store holds: a few tens of ms of eviction at 200 bytes an entry. */
export const SHRINK_STEP_BYTES = 4 * 1024 * 1024;
/** Between steps: enough for the event loop to run what waits (requests, gossip), short enough that a shrink of GiBs takes seconds. */
export const SHRINK_STEP_INTERVAL_MS = 1;

export class MemoryBudget {
  /** What was asked for last; the store's own budget reaches it step by step when it is smaller. */
  private target: number;
  private timer: TimerId | null = null;

  constructor(
    private readonly store: Store,
    private readonly timers: Timers,
    /** The smallest budget the node takes (--max-memory's minimum); the RESP listener refuses less. */
    readonly minimum: number,
  ) {
    this.target = store.maxMemory;
  }

  /** The budget asked for (CONFIG GET maxmemory), which the store holds or is stepping down to. */
  current(): number {
    return this.target;
  }

  /** Whether a shrink is still stepping down. */
  get shrinking(): boolean {
    return this.timer !== null;
  }

  set(bytes: number): void {
    this.target = bytes;
    if (this.timer !== null) this.timers.cancelTimer(this.timer);
    this.timer = null;
    this.step();
  }

  private step(): void {
    const store = this.store;
    // From what the store holds (with the disk tier's reserve), not from the old budget, which may be far above it.
    const next = Math.max(this.target, Math.min(store.maxMemory, store.usedBytes + store.reservedBytes) - SHRINK_STEP_BYTES);
    // noeviction deletes nothing whatever the budget: nothing to pace.
    store.setMaxMemory(store.policyName === 'noeviction' ? this.target : next);
    if (store.maxMemory > this.target) {
      this.timer = this.timers.setTimer(SHRINK_STEP_INTERVAL_MS, () => {
        this.timer = null;
        this.step();
      });
    }
  }
}
