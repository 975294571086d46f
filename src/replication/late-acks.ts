/**
 * Writes a coordinator failed `unavailable` at their deadline, watched for the acknowledgements
 * that come after it. A replica that answers only past the replica timeout is alive but slow (a
 * node short of CPU: on a loaded machine, a graceful leave's handoff and the new owners' catch-up
 * made live owners answer 0.1 to 0.7 s late, and hundreds of QUORUM writes failed although their
 * replicas applied them; docs/OPERATIONS.md, "Writes failing during a leave"). Once enough of them
 * have acknowledged, the failure is known to have been a timeout too short for this load, not a
 * missing replica: the coordinator counts it and tells the operator what to change. Nothing is
 * answered again: the caller already has its error.
 *
 * Bounded: at most LATE_ACKS_WATCHED writes (the oldest forgotten first), each with the owners it
 * still awaited at its deadline.
 */

/** Failed writes watched at once; an ack for one forgotten since is ignored, as for any finished request. */
export const LATE_ACKS_WATCHED = 1024;

interface Watched {
  /** Acknowledgements counted towards the level when the write failed. */
  acks: number;
  needed: number;
  /** Owners (and stand-ins) that had not answered at the deadline. */
  silent: Set<string>;
  failedAtMs: number;
}

export class LateAcks {
  private readonly watched = new Map<number, Watched>();

  /** Watches write `id`, failed at `nowMs` with `acks` of the `needed` in, for acks from `silent`. */
  watch(id: number, acks: number, needed: number, silent: Iterable<string>, nowMs: number): void {
    const waiting = new Set(silent);
    if (acks + waiting.size < needed) return; // even every silent one could not have made it
    if (this.watched.size >= LATE_ACKS_WATCHED) this.watched.delete(this.watched.keys().next().value!);
    this.watched.set(id, { acks, needed, silent: waiting, failedAtMs: nowMs });
  }

  /**
   * An ack from `from` for write `id` that is no longer pending. Returns how long after its failure
   * the write reached its level, when this ack is the one that did; null otherwise.
   */
  ack(id: number, from: string, nowMs: number): number | null {
    const write = this.watched.get(id);
    if (write === undefined || !write.silent.delete(from)) return null;
    write.acks++;
    if (write.acks < write.needed) return null;
    this.watched.delete(id);
    return nowMs - write.failedAtMs;
  }
}
