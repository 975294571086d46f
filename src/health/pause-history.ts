/**
 * What one peer's pauses amounted to lately (PeerHealth's pause rule): how many pauses ended, and
 * what share of its answers were a pause's backlog, in one-second buckets over a horizon. A share
 * of answers rather than of time: a coordinator sends a demoted peer fewer requests, so the
 * silences it sees shrink while the peer pauses as much as ever, whereas the share of backlog
 * among the answers it does get stays what the pauses make it.
 */
const BUCKET_MS = 1_000;

interface Bucket {
  second: number;
  pauses: number;
  backlog: number;
  answers: number;
}

export class PauseHistory {
  private readonly buckets: Bucket[];

  constructor(horizonMs: number) {
    this.buckets = Array.from({ length: Math.max(1, Math.ceil(horizonMs / BUCKET_MS)) }, () => ({ second: Number.NaN, pauses: 0, backlog: 0, answers: 0 }));
  }

  /** A pause ended at `nowMs`. */
  pause(nowMs: number): void {
    this.bucket(nowMs).pauses++;
  }

  /** An answer came at `nowMs`; `backlog`: it answers a request sent before the last pause ended. */
  answer(nowMs: number, backlog: boolean): void {
    const b = this.bucket(nowMs);
    b.answers++;
    if (backlog) b.backlog++;
  }

  /** Whether, over the horizon, at least `minPauses` pauses ended and at least `minBacklogShare` of the answers were backlog. */
  ridden(nowMs: number, minPauses: number, minBacklogShare: number): boolean {
    const now = Math.floor(nowMs / BUCKET_MS);
    let pauses = 0;
    let backlog = 0;
    let answers = 0;
    for (const b of this.buckets) {
      if (!(now - b.second < this.buckets.length)) continue;
      pauses += b.pauses;
      backlog += b.backlog;
      answers += b.answers;
    }
    return pauses >= minPauses && answers > 0 && backlog >= minBacklogShare * answers;
  }

  private bucket(nowMs: number): Bucket {
    const second = Math.floor(nowMs / BUCKET_MS);
    const b = this.buckets[second % this.buckets.length]!;
    if (b.second !== second) Object.assign(b, { second, pauses: 0, backlog: 0, answers: 0 });
    return b;
  }
}
