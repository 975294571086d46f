/**
 * Turns for a node's actors: one scheduler per node decides when each actor with queued work runs
 * its next job, so actors never run two jobs at once and the order of everything is a pure function
 * of the order of the outside calls (which the simulator controls).
 *
 * Pacing (`TurnPacing`): a turn runs at most `jobsPerTurn` jobs, taken round-robin from the actors
 * with work, one job per actor per pass. With `turnDelayMs` 0 (production), work that arrives from
 * outside any turn (a message, a timer) starts a turn at once, synchronously; a job that queues more
 * work only queues it, and the running turn takes it. Work left when the budget is spent waits for
 * a zero-delay timer, so a flood of partition work cannot keep the event loop (and with it gossip's
 * probes) busy for long. With `turnDelayMs` above 0 (the simulator's slow processing) every turn
 * waits that long first: an actor then handles at most `jobsPerTurn / turnDelayMs` jobs per ms, work
 * arriving faster queues in the bounded mailboxes, and full mailboxes answer busy (backpressure).
 *
 * There are no promises or microtasks here: a turn is either synchronous or starts from a timer of
 * the injected Timers, so simulated runs stay deterministic.
 */
import type { TimerId, Timers } from '../runtime/env.ts';
import { BoundedQueue } from './mailbox.ts';

export interface TurnPacing {
  /** Jobs one turn runs at most before yielding to the timer queue. */
  readonly jobsPerTurn: number;
  /** Delay before every turn: 0 in production; above 0 to simulate slow processing. */
  readonly turnDelayMs: number;
}

/** Production pacing: turns start at once, and yield after this many jobs. */
export const DEFAULT_TURN_PACING: TurnPacing = { jobsPerTurn: 1024, turnDelayMs: 0 };

/** What the scheduler runs: something with queued jobs. */
export interface Schedulable {
  /** Runs the oldest queued job, if any; returns whether more are queued. */
  runNext(): boolean;
}

export class TurnScheduler {
  /** Actors with queued work, each at most once, in the order they get their next job run. */
  private readonly ready = new BoundedQueue<Schedulable>(Number.POSITIVE_INFINITY);
  private readonly queued = new Set<Schedulable>();
  private inTurn = false;
  private timer: TimerId | null = null;
  private stopped = false;

  constructor(
    private readonly timers: Timers,
    readonly pacing: TurnPacing = DEFAULT_TURN_PACING,
  ) {
    if (!(Number.isInteger(pacing.jobsPerTurn) && pacing.jobsPerTurn >= 1)) throw new RangeError(`jobsPerTurn must be a positive integer, got ${pacing.jobsPerTurn}`);
    if (!(pacing.turnDelayMs >= 0 && Number.isFinite(pacing.turnDelayMs))) throw new RangeError(`turnDelayMs must be a non-negative number of milliseconds, got ${pacing.turnDelayMs}`);
  }

  /** `actor` has a new job queued: run it in this turn, the next one, or right now (see the file comment). */
  wake(actor: Schedulable): void {
    if (this.stopped) return;
    if (!this.queued.has(actor)) {
      this.queued.add(actor);
      this.ready.push(actor);
    }
    if (this.inTurn || this.timer !== null) return;
    if (this.pacing.turnDelayMs === 0) this.turn();
    else this.armTurn(this.pacing.turnDelayMs);
  }

  /** `actor` is gone: it gets no more turns (its queued jobs are its own to drop). */
  forget(actor: Schedulable): void {
    this.queued.delete(actor);
  }

  /** No more turns; the pending one, if any, is cancelled. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  private armTurn(delayMs: number): void {
    this.timer = this.timers.setTimer(delayMs, () => {
      this.timer = null;
      this.turn();
    });
  }

  private turn(): void {
    this.inTurn = true;
    try {
      let budget = this.pacing.jobsPerTurn;
      while (budget > 0 && this.ready.size > 0 && !this.stopped) {
        const actor = this.ready.shift()!;
        // Forgotten while it waited: its turn is void.
        if (!this.queued.has(actor)) continue;
        budget--;
        let more = false;
        try {
          more = actor.runNext();
        } finally {
          // Round-robin: an actor with more work goes to the back of the line.
          if (more && this.queued.has(actor)) this.ready.push(actor);
          else this.queued.delete(actor);
        }
      }
    } finally {
      this.inTurn = false;
    }
    if (this.ready.size > 0 && !this.stopped && this.timer === null) this.armTurn(this.pacing.turnDelayMs);
  }
}
