/**
 * The actor machinery under the partition actors (src/replication/partition-actor.ts): bounded
 * mailboxes (backpressure), a per-node turn scheduler (one job at a time per actor, deterministic
 * order, paced), and a serial queue for operations that must not interleave (read-modify-write).
 * Imports only the seam (src/runtime/env.ts).
 */
export { BoundedQueue } from './mailbox.ts';
export { DEFAULT_TURN_PACING, TurnScheduler } from './scheduler.ts';
export type { Schedulable, TurnPacing } from './scheduler.ts';
export { SerialQueue } from './serial-queue.ts';
export type { QueuedOp, SerialOp } from './serial-queue.ts';

/**
 * Default bound of each partition actor's mailbox. Large enough to absorb a burst of requests to
 * one partition, small enough that a stuck actor is noticed (refusals are counted and answered
 * `overloaded`) long before it exhausts memory.
 */
export const DEFAULT_MAILBOX_CAPACITY = 1024;
