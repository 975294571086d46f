/**
 * One peer's round trips over a stretch of time, summarised by their median: the evidence
 * PeerHealth judges slowness on. A window spans time, not a count of answers: under pipelined
 * load dozens of answers arrive in one turn of the event loop, so a window of N answers turns
 * over within a millisecond and its verdict follows the coordinator's own stalls (probe s18, F1).
 * The median ignores the minority of answers a short stall of the coordinator delayed.
 *
 * At most `capacity` round trips are kept: past it, every other one is dropped and from then on
 * only every other answer is kept (then every fourth, ...), so the kept ones stay spread evenly over
 * the window whatever the load, in bounded memory.
 */
export class LatencyWindow {
  private samples: number[] = [];
  private stride = 1;
  private skipped = 0;
  /** Answers seen in this window (kept or not). */
  answers = 0;
  startMs: number;

  constructor(
    startMs: number,
    private readonly capacity = 256,
  ) {
    this.startMs = startMs;
  }

  add(rttMs: number): void {
    this.answers++;
    if (++this.skipped < this.stride) return;
    this.skipped = 0;
    this.samples.push(rttMs);
    if (this.samples.length < this.capacity) return;
    this.samples = this.samples.filter((_, i) => i % 2 === 1);
    this.stride *= 2;
  }

  /** The median round trip of the window, and a fresh window from `nowMs`. */
  close(nowMs: number): number {
    const sorted = this.samples.sort((a, b) => a - b);
    const median = sorted.length === 0 ? 0 : sorted[(sorted.length - 1) >> 1]!;
    this.samples = [];
    this.stride = 1;
    this.skipped = 0;
    this.answers = 0;
    this.startMs = nowMs;
    return median;
  }
}
