/**
 * What a coordinator learns of each peer from using it (a dynamic snitch, after Cassandra's and
 * CASSANDRA-14459's moving averages): round trips of real replica requests, requests that got no
 * answer, and a phi accrual detector over every reply. From them, each peer's verdict:
 *
 * - `slow`: the median round trip of `slowWindowsToDemote` consecutive windows (each at least
 *   `windowMs` long and `minWindowAnswers` answers; latency-window.ts) was over `slowFactor` times
 *   the median of the other peers' latest window medians (and at least `slowMinGapMs` more).
 *   Windows of time, medians and a median reference, because a busy coordinator's own event-loop
 *   lag is in every round trip it measures: it delays a minority of the answers of every peer at
 *   once, which moves no median, where the former rule (10 of the last 16 answers over 3x the
 *   fastest peer's average, re-judged on every answer) flipped verdicts up to 130 times a second
 *   under ordinary load (probe s18, F1).
 * - Pauses (a GC pause) do not demote: an answer that ends a silence of at least `pauseMinMs`
 *   while it was awaited ends a pause, and the answers to requests sent before that (the pause's
 *   backlog, arriving in a burst) are not evidence of slowness; the phi detector judges the
 *   silence itself. Unless the peer is pause-ridden: paused `pausesToCount` times or more in the
 *   last `pauseHorizonMs`, and at least `backlogShareToCount` of its answers there a pause's
 *   backlog (pause-history.ts). A node stopped most of the time (SIGSTOP duty cycles, a thrashing
 *   host) is then the gray failure itself, and excluding its backlog hid it: paused 89% of the
 *   time, it stayed healthy (probe s18, F10).
 * - `erroring`: the share of lost requests (a moving average) reached `lossThreshold`. A request
 *   is lost when the peer answered others sent after it, so it was up; requests unanswered
 *   while the peer was silent are the phi detector's business, not evidence of loss.
 * - `silent`: phi reached its threshold (silence well past the acceptable pause).
 *
 * A `slow` or `silent` peer is left out of the first round of a read (shedding load from a node
 * that is likely overloaded), but gets one read at most every `reprobeIntervalMs` (and every
 * write still goes to it), whose answers bring it back: `healthyWindowsToRecover` windows in a row
 * not slow end `slow`, the loss average falling under half the threshold ends `erroring`, a reply
 * ends `silent` (each once the hold below is over). An `erroring` peer is still asked: reads ask every owner of their first round, so a
 * lost request costs nothing, while the answers that do come shorten the tail (gray-loss: read
 * p99 1.11-1.14x the healthy baseline asking it, 1.57-1.61x leaving it out).
 *
 * A demoted peer keeps its verdict at least `minHoldMs` (route flap damping), a healthy one is
 * demoted as soon as the evidence says so: a verdict that routing, gossip (every published change
 * is a new incarnation) and the log act on must not follow noise.
 * A peer demoted again within FLAP_MEMORY_MS of its recovery is held twice as long as the last
 * time, up to `maxHoldMs`, so a peer that flaps changes verdict a bounded number of times a minute.
 *
 * Times are the Env's monotonic milliseconds, passed in: this class reads no clock.
 */
import { LatencyWindow } from './latency-window.ts';
import { PauseHistory } from './pause-history.ts';
import { AKKA_PHI, PhiAccrual, type PhiOptions } from './phi-accrual.ts';

/** A demotion this soon after the peer's last recovery doubles its hold (see the file comment). */
export const FLAP_MEMORY_MS = 30_000;
/** Answers closer together than this are one burst (those that end a pause arrive so). */
export const BURST_GAP_MS = 10;
/** Another peer's window median older than this is no reference. */
export const REFERENCE_MAX_AGE_MS = 5_000;

export type PeerVerdict = 'healthy' | 'slow' | 'erroring' | 'silent';

export interface PeerHealthOptions {
  /** Weight of each new round trip in the moving average (shown, not judged on). */
  ewmaAlpha: number;
  slowFactor: number;
  slowMinGapMs: number;
  /** A window of round trips closes once it is this long and holds `minWindowAnswers` answers. */
  windowMs: number;
  minWindowAnswers: number;
  slowWindowsToDemote: number;
  healthyWindowsToRecover: number;
  /** A demoted peer stays demoted at least this long, and at most `maxHoldMs` when it flaps. */
  minHoldMs: number;
  maxHoldMs: number;
  /** Weight of each request's outcome (lost 1, answered 0) in the loss average. */
  lossAlpha: number;
  lossThreshold: number;
  /** A silence this long while a request was awaited is taken for a pause (see the file comment). */
  pauseMinMs: number;
  /** A peer paused this often in the last `pauseHorizonMs`, this share of its answers a pause's backlog, is pause-ridden: its pauses count. */
  pauseHorizonMs: number;
  pausesToCount: number;
  backlogShareToCount: number;
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
  windowMs: 250,
  minWindowAnswers: 5,
  slowWindowsToDemote: 2,
  healthyWindowsToRecover: 2,
  minHoldMs: 5_000,
  maxHoldMs: 60_000,
  lossAlpha: 0.02,
  lossThreshold: 0.05,
  pauseMinMs: 100,
  pauseHorizonMs: 10_000,
  pausesToCount: 4,
  backlogShareToCount: 0.5,
  reprobeIntervalMs: 1000,
  routing: true,
  phi: AKKA_PHI,
};

interface Peer {
  samples: number;
  /** Moving average and variance of round trips, ms. */
  ewmaMs: number;
  varianceMs2: number;
  window: LatencyWindow;
  /** The median of the last closed window, and when it closed (the other peers' reference). */
  medianMs: number | null;
  medianAtMs: number;
  /** Closed windows in a row judged slow, and not slow. */
  slowStreak: number;
  healthyStreak: number;
  lossEwma: number;
  lastAnswerMs: number;
  /**
   * When it was first asked something after its last answer (+Infinity: nothing asked since).
   * Phi counts silence from here: an idle cluster asks nothing, and its peers are not silent
   * (probe-ops F4: the first reads after an idle minute marked every peer silent, for good).
   */
  askedSinceMs: number;
  /** The oldest request that timed out unanswered since the last answer (a pause longer than the replica timeout). */
  unansweredSinceMs: number;
  /** The current burst of answers: when it began, the last answer before it, and unansweredSinceMs then. */
  burstStartMs: number;
  quietSinceMs: number;
  awaitedSinceMs: number;
  /** When the last pause ended (see pauseMinMs): answers to requests sent before it are its backlog. */
  pauseEndMs: number;
  /** Its pauses and their backlog over the last pauseHorizonMs. */
  pauses: PauseHistory;
  phi: PhiAccrual;
  verdict: PeerVerdict;
  changedAtMs: number;
  /** How long a demoted verdict holds at least (from changedAtMs), and when the peer last recovered. */
  holdMs: number;
  recoveredAtMs: number;
  lastReprobeMs: number;
}

/** One peer as status shows it. */
export interface PeerHealthView {
  name: string;
  verdict: PeerVerdict;
  latencyMs: number;
  latencyStdDevMs: number;
  /** The median round trip of its last closed window (the evidence of slowness); null before the first. */
  windowMedianMs: number | null;
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
    const p = this.peer(name, now);
    const rtt = Math.max(0, now - sentAtMs);
    // Answers after a silence come in a burst, and not in the order their requests were sent (the
    // first to arrive may be the newest request's): the silence is the quiet before the burst,
    // from the last answer before it, or from when an awaited request was sent if later (a
    // request that timed out unanswered counts: its answer will never come to say so).
    if (now - p.lastAnswerMs > BURST_GAP_MS) {
      p.quietSinceMs = p.lastAnswerMs;
      p.burstStartMs = now;
      p.awaitedSinceMs = p.unansweredSinceMs;
      p.unansweredSinceMs = Number.POSITIVE_INFINITY;
    }
    const silence = p.burstStartMs - Math.max(Math.min(sentAtMs, p.awaitedSinceMs), p.quietSinceMs);
    p.lastAnswerMs = now;
    p.askedSinceMs = Number.POSITIVE_INFINITY;
    p.phi.heartbeat(now);
    const { ewmaAlpha, lossAlpha } = this.options;
    p.lossEwma *= 1 - lossAlpha;
    if (silence >= this.options.pauseMinMs && p.pauseEndMs < p.burstStartMs) {
      p.pauseEndMs = now;
      p.pauses.pause(now);
    }
    const backlog = sentAtMs < p.pauseEndMs;
    p.pauses.answer(now, backlog);
    const { pausesToCount, backlogShareToCount } = this.options;
    if (backlog && !p.pauses.ridden(now, pausesToCount, backlogShareToCount)) return this.judge(name, p);
    if (p.samples === 0) p.ewmaMs = rtt;
    const diff = rtt - p.ewmaMs;
    p.ewmaMs += ewmaAlpha * diff;
    p.varianceMs2 = (1 - ewmaAlpha) * (p.varianceMs2 + ewmaAlpha * diff * diff);
    p.samples++;
    p.window.add(rtt);
    if (now - p.window.startMs >= this.options.windowMs && p.window.answers >= this.options.minWindowAnswers) this.closeWindow(name, p, now);
    this.judge(name, p);
  }

  /** A request was sent to `name` at `sentAtMs` (silence is judged only while it has something to answer). */
  asked(name: string, sentAtMs: number): void {
    const p = this.peer(name, sentAtMs);
    if (p.askedSinceMs === Number.POSITIVE_INFINITY) p.askedSinceMs = sentAtMs;
  }

  /** A request to `name` sent at `sentAtMs` got no answer by its deadline. */
  silent(name: string, sentAtMs: number): void {
    const p = this.peer(name, this.now());
    if (p.lastAnswerMs <= sentAtMs) {
      this.counters.silentTimeouts++;
      p.unansweredSinceMs = Math.min(p.unansweredSinceMs, sentAtMs);
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
    if (p.verdict === 'healthy' && p.samples > 0 && p.phi.suspected(now, p.askedSinceMs)) this.setVerdict(name, p, 'silent');
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
      windowMedianMs: p.medianMs === null ? null : round3(p.medianMs),
      lossRate: round3(p.lossEwma),
      phi: round3(p.phi.phi(now, p.askedSinceMs)),
      samples: p.samples,
    }));
  }

  /** Judges the window that just closed: slow against the other peers' medians, not slow, or no evidence. */
  private closeWindow(name: string, p: Peer, now: number): void {
    const median = p.window.close(now);
    p.medianMs = median;
    p.medianAtMs = now;
    const reference = this.reference(name, now);
    if (reference === null) return;
    const slow = median > Math.max(reference * this.options.slowFactor, reference + this.options.slowMinGapMs);
    p.slowStreak = slow ? p.slowStreak + 1 : 0;
    p.healthyStreak = slow ? 0 : p.healthyStreak + 1;
  }

  /**
   * The median of the other peers' latest window medians (null when no other peer has a recent
   * one): with the median, neither one fast peer nor one other slow peer sets the bar.
   */
  private reference(name: string, now: number): number | null {
    const medians: number[] = [];
    for (const [other, q] of this.peers) {
      if (other !== name && q.medianMs !== null && now - q.medianAtMs <= REFERENCE_MAX_AGE_MS) medians.push(q.medianMs);
    }
    if (medians.length === 0) return null;
    medians.sort((a, b) => a - b);
    const mid = medians.length >> 1;
    return medians.length % 2 === 1 ? medians[mid]! : (medians[mid - 1]! + medians[mid]!) / 2;
  }

  /** A healthy peer is demoted as soon as the evidence says so; a demoted one changes only once its hold is over. */
  private judge(name: string, p: Peer): void {
    const { slowWindowsToDemote, healthyWindowsToRecover, lossThreshold } = this.options;
    const demoted = p.lossEwma >= lossThreshold ? 'erroring' : p.slowStreak >= slowWindowsToDemote ? 'slow' : null;
    if (p.verdict === 'healthy') {
      if (demoted !== null) this.setVerdict(name, p, demoted);
      return;
    }
    const now = this.now();
    if (now - p.changedAtMs < p.holdMs) return;
    if (demoted !== null) return this.setVerdict(name, p, demoted);
    const recovered =
      (p.verdict === 'erroring' && p.lossEwma < lossThreshold / 2) ||
      (p.verdict === 'slow' && p.healthyStreak >= healthyWindowsToRecover) ||
      (p.verdict === 'silent' && p.lastAnswerMs > p.changedAtMs && !p.phi.suspected(now, p.askedSinceMs));
    if (recovered) this.setVerdict(name, p, 'healthy');
  }

  private setVerdict(name: string, p: Peer, verdict: PeerVerdict): void {
    if (p.verdict === verdict) return;
    const previous = p.verdict;
    const now = this.now();
    p.verdict = verdict;
    p.changedAtMs = now;
    if (previous === 'healthy') {
      this.counters.demotions++;
      // Flap damping: demoted again soon after recovering, it is held twice as long as last time.
      p.holdMs = now - p.recoveredAtMs < FLAP_MEMORY_MS ? Math.min(this.options.maxHoldMs, p.holdMs * 2) : this.options.minHoldMs;
      // The first re-probe comes a full interval after the demotion.
      p.lastReprobeMs = now;
    } else if (verdict === 'healthy') {
      this.counters.recoveries++;
      p.recoveredAtMs = now;
    }
    this.onVerdict?.(name, verdict, previous);
  }

  private peer(name: string, now: number): Peer {
    let p = this.peers.get(name);
    if (!p) {
      p = {
        samples: 0,
        ewmaMs: 0,
        varianceMs2: 0,
        window: new LatencyWindow(now),
        medianMs: null,
        medianAtMs: 0,
        slowStreak: 0,
        healthyStreak: 0,
        lossEwma: 0,
        lastAnswerMs: Number.NEGATIVE_INFINITY,
        askedSinceMs: Number.POSITIVE_INFINITY,
        unansweredSinceMs: Number.POSITIVE_INFINITY,
        burstStartMs: Number.NEGATIVE_INFINITY,
        quietSinceMs: Number.NEGATIVE_INFINITY,
        awaitedSinceMs: Number.POSITIVE_INFINITY,
        pauseEndMs: Number.NEGATIVE_INFINITY,
        pauses: new PauseHistory(this.options.pauseHorizonMs),
        phi: new PhiAccrual(this.options.phi),
        verdict: 'healthy',
        changedAtMs: 0,
        holdMs: this.options.minHoldMs,
        recoveredAtMs: Number.NEGATIVE_INFINITY,
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
