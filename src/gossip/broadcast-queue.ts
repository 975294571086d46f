/**
 * The dissemination queue (memberlist's TransmitLimitedQueue): pending member updates, each sent
 * at most `retransmitLimit(n)` times, the least-sent first and, among equals, the newest first.
 * A newer update about a member replaces the queued one, so the queue holds at most one entry per
 * member and its size is bounded by the member table.
 *
 * Entries live in buckets by transmit count; each bucket is a stack (newest on top), so taking
 * the next entries costs O(taken), not a sort of the whole queue per message.
 */

export interface QueuedBroadcast {
  /** The member this update is about; a newer broadcast for the same name replaces this one. */
  readonly name: string;
  readonly bytes: Uint8Array;
  transmits: number;
  live: boolean;
}

/** retransmitMult * ceil(log10(n + 1)): enough rounds for an epidemic to reach n members w.h.p. */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return retransmitMult * Math.max(1, Math.ceil(Math.log10(members + 1)));
}

export class BroadcastQueue {
  private readonly byName = new Map<string, QueuedBroadcast>();
  private buckets: QueuedBroadcast[][] = [];

  get size(): number {
    return this.byName.size;
  }

  /** Queues an update about `name`, replacing any pending one about the same member. */
  queue(name: string, bytes: Uint8Array): void {
    const old = this.byName.get(name);
    if (old) old.live = false;
    const entry: QueuedBroadcast = { name, bytes, transmits: 0, live: true };
    this.byName.set(name, entry);
    this.bucket(0).push(entry);
  }

  /** The pending update about `name`, if any (the buddy system sends it to the suspect first). */
  peek(name: string): QueuedBroadcast | undefined {
    return this.byName.get(name);
  }

  /**
   * Takes updates whose encoded sizes fit in `budgetBytes`, counting one transmission for each, and
   * drops those that have now been sent `limit` times. `skip` excludes a member already included.
   */
  take(budgetBytes: number, limit: number, skip?: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    const taken: QueuedBroadcast[] = [];
    let left = budgetBytes;
    // Entries past the limit (the cluster shrank since they were queued) are garbage.
    for (let t = limit; t < this.buckets.length; t++) {
      for (const e of this.buckets[t]!) this.retire(e);
      this.buckets[t] = [];
    }
    outer: for (let t = 0; t < Math.min(limit, this.buckets.length); t++) {
      const bucket = this.buckets[t]!;
      const setAside: QueuedBroadcast[] = [];
      while (bucket.length > 0) {
        const e = bucket[bucket.length - 1]!;
        if (!e.live) {
          bucket.pop();
          continue;
        }
        if (e.name === skip) {
          setAside.push(bucket.pop()!);
          continue;
        }
        if (e.bytes.length > left) break;
        bucket.pop();
        out.push(e.bytes);
        taken.push(e);
        left -= e.bytes.length;
        if (left <= 0) {
          for (let i = setAside.length - 1; i >= 0; i--) bucket.push(setAside[i]!);
          break outer;
        }
      }
      for (let i = setAside.length - 1; i >= 0; i--) bucket.push(setAside[i]!);
    }
    // Pushed back in reverse, so the newest of them ends on top of its new bucket again.
    for (let i = taken.length - 1; i >= 0; i--) {
      const e = taken[i]!;
      e.transmits++;
      if (e.transmits >= limit) this.retire(e);
      else this.bucket(e.transmits).push(e);
    }
    return out;
  }

  /** Counts one transmission of `name`'s update that was sent outside take() (the buddy system). */
  countTransmit(name: string, limit: number): void {
    const e = this.byName.get(name);
    if (!e) return;
    e.live = false;
    const moved: QueuedBroadcast = { name, bytes: e.bytes, transmits: e.transmits + 1, live: true };
    if (moved.transmits >= limit) {
      this.byName.delete(name);
      return;
    }
    this.byName.set(name, moved);
    this.bucket(moved.transmits).push(moved);
  }

  clear(): void {
    this.byName.clear();
    this.buckets = [];
  }

  private retire(e: QueuedBroadcast): void {
    e.live = false;
    if (this.byName.get(e.name) === e) this.byName.delete(e.name);
  }

  private bucket(t: number): QueuedBroadcast[] {
    while (this.buckets.length <= t) this.buckets.push([]);
    return this.buckets[t]!;
  }
}
