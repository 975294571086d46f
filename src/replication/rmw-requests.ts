/**
 * The request ids a partition remembers with their read-modify-write results, so a repeat (a
 * client's retry, or a duplicated message) is answered with the first result instead of being
 * applied again. Kept by the partition's actor on every replica that applied the result (the
 * fenced write carries the id), so a new primary learns them in its claim (rmw-primary.ts).
 *
 * Bounded by count and by age: a repeat later than either is applied again (docs/REPLICATION.md,
 * "Read-modify-write").
 */
import type { WireRmwResult } from './rmw-wire.ts';

/** Request ids a partition remembers by default. */
export const DEFAULT_RMW_REQUESTS_REMEMBERED = 1024;
/** How long a partition remembers a request id by default (a client retries well within this). */
export const DEFAULT_RMW_REQUEST_MEMORY_MS = 5 * 60_000;

interface Remembered {
  result: WireRmwResult;
  atMs: number;
}

export class RequestMemory {
  /** In insertion order, which is age order (a re-remembered id moves to the end). */
  private readonly entries = new Map<string, Remembered>();

  constructor(
    private readonly maxEntries = DEFAULT_RMW_REQUESTS_REMEMBERED,
    private readonly maxAgeMs = DEFAULT_RMW_REQUEST_MEMORY_MS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The first result of `requestId`, if still remembered at `nowMs`. */
  get(requestId: string, nowMs: number): WireRmwResult | undefined {
    this.forgetOlderThan(nowMs);
    return this.entries.get(requestId)?.result;
  }

  /** Remembers a result; the first one stays (a repeat answers it, so it never changes). */
  remember(requestId: string, result: WireRmwResult, nowMs: number): void {
    if (this.entries.has(requestId)) return;
    this.entries.set(requestId, { result, atMs: nowMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.forgetOlderThan(nowMs);
  }

  /** Every id remembered at `nowMs`, oldest first, for a new primary's claim. */
  list(nowMs: number): [string, WireRmwResult][] {
    this.forgetOlderThan(nowMs);
    return [...this.entries].map(([id, r]) => [id, r.result]);
  }

  private forgetOlderThan(nowMs: number): void {
    for (const [id, r] of this.entries) {
      if (nowMs - r.atMs <= this.maxAgeMs) break;
      this.entries.delete(id);
    }
  }
}
