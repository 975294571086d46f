/**
 * What a coordinator learns of each peer from using it (a dynamic snitch, after Cassandra's and
 * CASSANDRA-14459's moving averages): round trips of real replica requests, requests that got no
 * answer, and a phi accrual detector over every reply. From them, each peer's verdict:
 *
 * - `slow`: `slowSamples` answers in a row took more than `slowFactor` times the fastest peer's
 *   average (and at least `slowMinGapMs` more). An answer is timed from its send, or from the
 *   previous answer of the same peer if that came later: a burst of answers held by one pause
 *   (a GC pause) then counts as one slow answer, not many, so pauses do not demote.
 * - `erroring`: the share of lost requests (a moving average) reached `lossThreshold`. A request
 *   is lost when the peer answered others sent after it, so it was up; requests unanswered
 *   while the peer was silent are the phi detector's business, not evidence of loss.
 * - `silent`: phi reached its threshold (silence well past the acceptable pause).
 *
 * A demoted peer (any verdict but `healthy`) is left out of the first round of a read, but gets
 * one read at most every `reprobeIntervalMs` (and every write still goes to it), whose answers
 * bring it back: `recoverSamples` fast answers in a row end `slow`, the loss average falling
 * under half the threshold ends `erroring`, a reply ends `silent`.
 *
 * Times are the Env's monotonic milliseconds, passed in: this class reads no clock.
 */
import { AKKA_PHI, PhiAccrual, type PhiOptions } from './phi-accrual.ts';

export type PeerVerdict = 'healthy' | 'slow' | 'erroring' | 'silent';

export interface PeerHealthOptions {
  /** Weight of each new round trip in the moving average. */
  ewmaAlpha: number;
  slowFactor: number;
  slowMinGapMs: number;
  slowSamples: number;
  recoverSamples: number;
  /** Weight of each request's outcome (lost 1, answered 0) in the loss average. */
  lossAlpha: number;
  lossThreshold: number;
  /** A peer with fewer answers than this is not the reference of speed. */
  minSamples: number;
  /** A demoted peer gets at most one read per this interval, to see whether it recovered. */
  reprobeIntervalMs: number;
  /** False: verdicts are kept and shown, but reads still ask every live owner (deferRead is always false). */
  routing: boolean;
  phi: PhiOptions;
}

export const DEFAULT_PEER_HEALTH: PeerHealthOptions = {
  ewmaAlpha: 0.1,
  slowFactor: 3,
  slowMinGapMs: 2,
  slowSamples: 8,
  recoverSamples: 3,
  lossAlpha: 0.02,
  lossThreshold: 0.05,
  minSamples: 10,
  reprobeIntervalMs: 1000,
  routing: true,
  phi: AKKA_PHI,
};

interface Peer {
  samples: number;
  /** Moving average and variance of round trips, ms. */
  ewmaMs: number;
  varianceMs2: number;
  slowRun: number;
  fastRun: number;
  lossEwma: number;
  lastAnswerMs: number;
  phi: PhiAccrual;
  verdict: PeerVerdict;
  demotedAtMs: number;
  lastReprobeMs: number;
}

/** One peer as status shows it. */
export interface PeerHealthView {
  name: string;
  verdict: PeerVerdict;
  latencyMs: number;
  latencyStdDevMs: number;
  lossRate: number;
  phi: number;
  samples: number;
}

export interface PeerHealthCounters {
  /** Times a peer went from healthy to another verdict, and back. */
  demotions: number;
  recoveries: number;
  /** Reads sent to a demoted peer to see whether it recovered. */
  reprobes: number;
  /** Requests counted lost (erroring evidence) and unanswered while the peer was silent. */
  lost: number;
  silentTimeouts: number;
}

export class PeerHealth {
  private readonly peers = new Map<string, Peer>();
  readonly counters: PeerHealthCounters = { demotions: 0, recoveries: 0, reprobes: 0, lost: 0, silentTimeouts: 0 };
  /** Called when a peer's verdict changes (the node logs it). */
  onVerdict: ((name: string, verdict: PeerVerdict, previous: PeerVerdict) => void) | null = null;

  constructor(
    private readonly now: () => number,
    private readonly options: PeerHealthOptions = DEFAULT_PEER_HEALTH,
  ) {}

  /** `name` answered a request sent at `sentAtMs`. */
  answered(name: string, sentAtMs: number): void {
    const now = this.now();
    const p = this.peer(name);
    const rtt = Math.max(0, now - sentAtMs);
    const service = Math.max(0, now - Math.max(sentAtMs, p.lastAnswerMs));
    p.lastAnswerMs = now;
    p.phi.heartbeat(now);
    const { ewmaAlpha, lossAlpha } = this.options;
    if (p.samples === 0) p.ewmaMs = rtt;
    const diff = rtt - p.ewmaMs;
    p.ewmaMs += ewmaAlpha * diff;
    p.varianceMs2 = (1 - ewmaAlpha) * (p.varianceMs2 + ewmaAlpha * diff * diff);
    p.samples++;
    p.lossEwma *= 1 - lossAlpha;
    if (service > this.slowThreshold(name)) {
      p.slowRun++;
      p.fastRun = 0;
    } else {
      p.fastRun++;
      p.slowRun = 0;
    }
    this.judge(name, p);
  }

  /** A request to `name` sent at `sentAtMs` got no answer by its deadline. */
  silent(name: string, sentAtMs: number): void {
    const p = this.peer(name);
    if (p.lastAnswerMs <= sentAtMs) {
      this.counters.silentTimeouts++;
      return;
    }
    this.counters.lost++;
    p.lossEwma = p.lossEwma * (1 - this.options.lossAlpha) + this.options.lossAlpha;
    this.judge(name, p);
  }

  /**
   * Whether a read should leave `name` out of its first round: demoted and not due a re-probe.
   * Returning false for a demoted peer counts as its re-probe.
   */
  deferRead(name: string): boolean {
    const p = this.peers.get(name);
    if (!p) return false;
    const now = this.now();
    if (p.verdict === 'healthy' && p.samples > 0 && p.phi.suspected(now)) this.setVerdict(name, p, 'silent');
    if (p.verdict === 'healthy' || !this.options.routing) return false;
    if (now - p.lastReprobeMs < this.options.reprobeIntervalMs) return true;
    p.lastReprobeMs = now;
    this.counters.reprobes++;
    return false;
  }

  verdictOf(name: string): PeerVerdict {
    return this.peers.get(name)?.verdict ?? 'healthy';
  }

  /** Forgets a peer that left the cluster. */
  forget(name: string): void {
    this.peers.delete(name);
  }

  view(): PeerHealthView[] {
    const now = this.now();
    return [...this.peers].map(([name, p]) => ({
      name,
      verdict: p.verdict,
      latencyMs: round3(p.ewmaMs),
      latencyStdDevMs: round3(Math.sqrt(p.varianceMs2)),
      lossRate: round3(p.lossEwma),
      phi: round3(p.phi.phi(now)),
      samples: p.samples,
    }));
  }

  /** A slow answer takes longer than this: `slowFactor` times the fastest other peer's average, at least `slowMinGapMs` more. */
  private slowThreshold(name: string): number {
    let fastest = Number.POSITIVE_INFINITY;
    for (const [other, p] of this.peers) if (other !== name && p.samples >= this.options.minSamples) fastest = Math.min(fastest, p.ewmaMs);
    if (!Number.isFinite(fastest)) return Number.POSITIVE_INFINITY;
    return Math.max(fastest * this.options.slowFactor, fastest + this.options.slowMinGapMs);
  }

  private judge(name: string, p: Peer): void {
    const { slowSamples, recoverSamples, lossThreshold } = this.options;
    if (p.lossEwma >= lossThreshold) return this.setVerdict(name, p, 'erroring');
    if (p.slowRun >= slowSamples) return this.setVerdict(name, p, 'slow');
    const recovered =
      (p.verdict === 'erroring' && p.lossEwma < lossThreshold / 2) ||
      (p.verdict === 'slow' && p.fastRun >= recoverSamples) ||
      (p.verdict === 'silent' && p.lastAnswerMs === this.now());
    if (recovered) this.setVerdict(name, p, 'healthy');
  }

  private setVerdict(name: string, p: Peer, verdict: PeerVerdict): void {
    if (p.verdict === verdict) return;
    const previous = p.verdict;
    p.verdict = verdict;
    if (previous === 'healthy') {
      this.counters.demotions++;
      p.demotedAtMs = this.now();
      // The first re-probe comes a full interval after the demotion.
      p.lastReprobeMs = p.demotedAtMs;
    } else if (verdict === 'healthy') this.counters.recoveries++;
    this.onVerdict?.(name, verdict, previous);
  }

  private peer(name: string): Peer {
    let p = this.peers.get(name);
    if (!p) {
      p = {
        samples: 0,
        ewmaMs: 0,
        varianceMs2: 0,
        slowRun: 0,
        fastRun: 0,
        lossEwma: 0,
        lastAnswerMs: Number.NEGATIVE_INFINITY,
        phi: new PhiAccrual(this.options.phi),
        verdict: 'healthy',
        demotedAtMs: 0,
        lastReprobeMs: 0,
      };
      this.peers.set(name, p);
    }
    return p;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
