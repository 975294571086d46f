/**
 * Hot keys a near cache keeps even outside its prefixes (docs/CLIENT.md, "Hot keys go near"): a
 * node's hot-key alert (src/node/hot-key-alerts.ts, pushed to subscribed clients) names a key; the
 * client then caches it for at most HOT_NEAR_TTL_MS per fill, subscribes to its invalidations,
 * and spreads the reads of it that still reach the cluster over all of its replicas. Pure: the SDK
 * (src/client/near.ts) and the simulator's near-hot-key scenario run this same code.
 *
 * A key stays hot for HOLD_MS after its last alert, whatever the alert's clearing says: the near
 * cache is why the node's rate fell, so following the clearing would make the key flap between
 * near and far. At most MAX_HOT_NEAR_KEYS are held (the oldest alert goes first), as many as a
 * node's hot-key tracker reports.
 */

/** A hot key's near entry lives at most this long (ms): short, so a key that cooled costs little, and within the staleness bound (2 s) even before its invalidations flow. */
export const HOT_NEAR_TTL_MS = 1_000;
/** A key stays hot this long (ms) after its last alert. */
export const HOT_NEAR_HOLD_MS = 60_000;
/** Hot keys held at most (a node's tracker reports 64). */
export const MAX_HOT_NEAR_KEYS = 64;

export class HotNearKeys {
  /** Key (as the store holds it) -> when it stops being hot (monotonic ms); in order of last alert. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly holdMs = HOT_NEAR_HOLD_MS,
    private readonly max = MAX_HOT_NEAR_KEYS,
  ) {}

  get size(): number {
    return this.until.size;
  }

  /** A node says `key` is hot at `nowMs`; returns whether it was not hot before (the subscription must follow). */
  add(key: string, nowMs: number): boolean {
    this.prune(nowMs);
    const fresh = !this.until.delete(key);
    this.until.set(key, nowMs + this.holdMs);
    if (this.until.size > this.max) this.until.delete(this.until.keys().next().value!);
    return fresh;
  }

  has(key: string, nowMs: number): boolean {
    const until = this.until.get(key);
    return until !== undefined && until > nowMs;
  }

  /** The keys hot at `nowMs`. */
  keys(nowMs: number): string[] {
    this.prune(nowMs);
    return [...this.until.keys()];
  }

  private prune(nowMs: number): void {
    for (const [key, until] of this.until) if (until <= nowMs) this.until.delete(key);
  }
}
