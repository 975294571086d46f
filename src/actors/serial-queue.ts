/**
 * Runs asynchronous operations one at a time, in arrival order: the next starts only once the one
 * before called its `done`. This is what a read-modify-write needs (INCR on a partition's primary:
 * read the value, compute, write to the replicas, wait for their acks, and only then let the next
 * INCR read): without it two of them read the same value and one increment is lost.
 *
 * Bounded: `offer` refuses (returns false) once `capacity` operations wait behind the running one,
 * so a caller can answer `overloaded` instead of queueing without limit. How an operation starts is
 * the owner's business (`start`): the partition actor runs it as a job in its own turn, so it sees
 * the partition's records in the same order as every other job.
 */
import { BoundedQueue } from './mailbox.ts';

/** One operation: it must call `done` exactly once, now or later. */
export type SerialOp<C> = (context: C, done: () => void) => void;

/** What happens to an operation the queue was stopped with: `dropped` tells its owner it never ran. */
export interface QueuedOp<C> {
  readonly run: SerialOp<C>;
  readonly dropped: () => void;
}

export class SerialQueue<C> {
  private readonly waiting: BoundedQueue<QueuedOp<C>>;
  private running = false;
  private stopped = false;

  /**
   * `start` runs an operation (e.g. queues it as an actor job) and returns false if it could not.
   * `admitted` is true for an operation that already waited its turn here: the owner should not
   * refuse it for room, since the queue's bound already counted it.
   */
  constructor(
    capacity: number,
    private readonly start: (op: QueuedOp<C>, done: () => void, admitted: boolean) => boolean,
  ) {
    this.waiting = new BoundedQueue<QueuedOp<C>>(capacity);
  }

  /** Operations waiting behind the running one. */
  get size(): number {
    return this.waiting.size;
  }

  /** Whether an operation has started and not yet called `done`. */
  get busy(): boolean {
    return this.running;
  }

  /** Queues `op`; false when the queue is full (or stopped): the caller should answer overloaded. */
  offer(run: SerialOp<C>, dropped: () => void = () => {}): boolean {
    if (this.stopped) return false;
    const op = { run, dropped };
    if (this.running) return this.waiting.push(op);
    return this.launch(op, false);
  }

  /** Drops every waiting operation (their `dropped` is called); a running one may still call `done`. */
  stop(): void {
    this.stopped = true;
    for (const op of this.waiting.drain()) op.dropped();
  }

  private launch(op: QueuedOp<C>, admitted: boolean): boolean {
    let finished = false;
    const done = () => {
      if (finished) throw new Error('a serialised operation called done() twice');
      finished = true;
      this.running = false;
      this.next();
    };
    this.running = true;
    if (this.start(op, done, admitted)) return true;
    this.running = false;
    return false;
  }

  private next(): void {
    while (!this.stopped && !this.running) {
      const op = this.waiting.shift();
      if (op === undefined) return;
      // Refused by the owner (it stopped): that operation is dropped.
      if (!this.launch(op, true)) op.dropped();
    }
  }
}
