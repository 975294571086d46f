/**
 * What a coordinator learns of each peer from using it (a dynamic snitch, after Cassandra's and
 * CASSANDRA-14459's moving averages): round trips of real replica requests, requests that got no
 * answer, and a phi accrual detector over every reply. From them, each peer's verdict:
 *
 * - `slow`: `slowToDemote` of the last `slowWindow` answers took more than `slowFactor` times the
 *   fastest other peer's average (and at least `slowMinGapMs` more). Pauses (a GC pause) do not
 *   demote: an answer that ends a silence of at least `pauseMinMs` while it was awaited ends a
 *   pause, and the answers to requests sent before that (the pause's backlog, arriving in a
 *   burst) are not evidence of slowness; the phi detector judges the silence itself.
 * - `erroring`: the share of lost requests (a moving average) reached `lossThreshold`. A request
 *   is lost when the peer answered others sent after it, so it was up; requests unanswered
 *   while the peer was silent are the phi detector's business, not evidence of loss.
 * - `silent`: phi reached its threshold (silence well past the acceptable pause).
 *
 * A `slow` or `silent` peer is left out of the first round of a read (shedding load from a node
 * that is likely overloaded), but gets
 * one read at most every `reprobeIntervalMs` (and every write still goes to it), whose answers
 * bring it back: at most `slowToRecover` slow answers in the window end `slow`, the loss average falling
 * under half the threshold ends `erroring`, a reply ends `silent`. An `erroring` peer is still
 * asked: reads ask every owner of their first round, so a lost request costs nothing, while the
 * answers that do come shorten the tail (gray-loss: read p99 1.11-1.14x the healthy baseline
 * asking it, 1.57-1.61x leaving it out).
 *
 * Times are the Env's monotonic milliseconds, passed in: this class reads no clock.
 */
import { AKKA_PHI, PhiAccrual, type PhiOptions } from './phi-accrual.ts';

/** How stale the fastest peers' averages (the reference of slowness) may be. */
export const REFERENCE_REFRESH_MS = 100;

export type PeerVerdict = 'healthy' | 'slow' | 'erroring' | 'silent';

export interface PeerHealthOptions {
  /** Weight of each new round trip in the moving average. */
  ewmaAlpha: number;
  slowFactor: number;
  slowMinGapMs: number;
  /** Answers remembered as slow or not (at most 31). */
  slowWindow: number;
  slowToDemote: number;
  slowToRecover: number;
  /** Weight of each request's outcome (lost 1, answered 0) in the loss average. */
  lossAlpha: number;
  lossThreshold: number;
  /** A silence this long while a request was awaited is taken for a pause (see the file comment). */
  pauseMinMs: number;
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
  slowWindow: 16,
  slowToDemote: 10,
  slowToRecover: 3,
  lossAlpha: 0.02,
  lossThreshold: 0.05,
  pauseMinMs: 100,
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
  /** The last `slowWindow` answers, one bit each (1: slow), newest lowest; and how many are set. */
  slowBits: number;
  slowCount: number;
  lossEwma: number;
  lastAnswerMs: number;
  /** When the last pause ended (see pauseMinMs): answers to requests sent before it are its backlog. */
  pauseEndMs: number;
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
  private readonly reference = { atMs: Number.NEGATIVE_INFINITY, best: Number.POSITIVE_INFINITY, bestName: '', second: Number.POSITIVE_INFINITY };
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
    const silence = now - Math.max(sentAtMs, p.lastAnswerMs);
    p.lastAnswerMs = now;
    p.phi.heartbeat(now);
    const { ewmaAlpha, lossAlpha } = this.options;
    p.lossEwma *= 1 - lossAlpha;
    if (silence >= this.options.pauseMinMs) p.pauseEndMs = now;
    if (sentAtMs < p.pauseEndMs) return this.judge(name, p);
    if (p.samples === 0) p.ewmaMs = rtt;
    const diff = rtt - p.ewmaMs;
    p.ewmaMs += ewmaAlpha * diff;
    p.varianceMs2 = (1 - ewmaAlpha) * (p.varianceMs2 + ewmaAlpha * diff * diff);
    p.samples++;
    const slow = rtt > this.slowThreshold(name) ? 1 : 0;
    p.slowBits = ((p.slowBits << 1) | slow) & ((1 << this.options.slowWindow) - 1);
    p.slowCount = popCount(p.slowBits);
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
    if (p.verdict === 'healthy' || p.verdict === 'erroring' || !this.options.routing) return false;
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
    const ref = this.reference;
    // The two fastest peers, found again at most every REFERENCE_REFRESH_MS: not a walk over every peer per answer.
    if (this.now() - ref.atMs >= REFERENCE_REFRESH_MS) {
      ref.atMs = this.now();
      ref.best = ref.second = Number.POSITIVE_INFINITY;
      ref.bestName = '';
      for (const [other, p] of this.peers) {
        if (p.samples < this.options.minSamples) continue;
        if (p.ewmaMs < ref.best) [ref.second, ref.best, ref.bestName] = [ref.best, p.ewmaMs, other];
        else if (p.ewmaMs < ref.second) ref.second = p.ewmaMs;
      }
    }
    const fastest = name === ref.bestName ? ref.second : ref.best;
    if (!Number.isFinite(fastest)) return Number.POSITIVE_INFINITY;
    return Math.max(fastest * this.options.slowFactor, fastest + this.options.slowMinGapMs);
  }

  private judge(name: string, p: Peer): void {
    const { slowToDemote, slowToRecover, lossThreshold } = this.options;
    if (p.lossEwma >= lossThreshold) return this.setVerdict(name, p, 'erroring');
    if (p.slowCount >= slowToDemote) return this.setVerdict(name, p, 'slow');
    const recovered =
      (p.verdict === 'erroring' && p.lossEwma < lossThreshold / 2) ||
      (p.verdict === 'slow' && p.slowCount <= slowToRecover) ||
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
        slowBits: 0,
        slowCount: 0,
        lossEwma: 0,
        lastAnswerMs: Number.NEGATIVE_INFINITY,
        pauseEndMs: Number.NEGATIVE_INFINITY,
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

function popCount(bits: number): number {
  let n = 0;
  for (let b = bits; b !== 0; b &= b - 1) n++;
  return n;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
