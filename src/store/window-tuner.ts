/**
 * Chooses W-TinyLFU's window size by miniature simulation (Waldspurger et al., "Cache Modeling
 * and Optimization using Miniature Simulations", USENIX ATC 2017).
 *
 * Why not only Caffeine's temporal hill climber: it compares the hit ratio of one sample period
 * with the previous one, so a change in the workload between periods looks exactly like the effect
 * of its own last step. On the reference traces that noise kept it from climbing far enough for
 * recency-heavy workloads (sprite wants a window near 80%, corda more than 10%) while loop and gli
 * want 1%. Here, a spatially hashed sample of the keys (1 in `rate`) is replayed through a ladder
 * of small W-TinyLFU caches with fixed window fractions, each scaled down by the same rate. All
 * rungs see the same requests in the same period, so comparing them measures the window's effect
 * and nothing else. At the end of each period the real cache's window moves to the rung with the
 * best smoothed hit count (moving one rung at a time was measured too: it lags on sprite and
 * corda, see docs/research/eviction-policy.md), to a smaller window only on a lead outside the noise (counting both
 * Poisson noise and how much the two rungs' difference swings between periods); within a period,
 * a burst of hits that only larger windows catch moves the window up at once (followBurst).
 */
import type { Random } from '../runtime/env.ts';
import { CountMinSketch } from './count-min.ts';
import { homeBucket, removeShifting } from './open-addressing.ts';
import type { PolicyHost } from './policy.ts';
import { WTinyLfuPolicy } from './policy-wtinylfu.ts';

/**
 * Window fractions simulated; the first is the starting point (Caffeine's 1%). The last is plain
 * LRU: at 99% the main region's 1% holds keys the admission ties froze, and where recency is all
 * there is (zigzag's sweeps) they cost about 1% of every pass's hits against LRU. 99% stays for
 * the block traces, whose 1% main region holds a hot set worth keeping (docs/research/eviction-policy.md, "The
 * ladder's top rung, and near hits in the cold start").
 */
export const WINDOW_LADDER: readonly number[] = [0.01, 0.05, 0.2, 0.5, 0.8, 0.99, 1];
/** Target entries per miniature cache: big enough to behave like the real one, small enough to be cheap. */
export const MINI_CACHE_ENTRIES = 1024;
/** Sampled requests per decision, as a multiple of the mini cache's size. */
export const TUNER_PERIOD_FACTOR = 3;
/** Weight kept from earlier periods when scoring rungs (exponential smoothing). */
export const TUNER_SMOOTHING = 0.8;
/**
 * A recency burst is checked for this many times per period: a phase in which a larger window
 * hits far more often is lost if the window waits for the period's end, because the real cache
 * turns away the keys the phase re-reads before then (docs/research/eviction-policy.md, P6 @ 200000).
 */
export const BURST_CHECKS = 8;
/**
 * A larger rung's net wins over the current one in a check's interval (requests only it hit, less
 * requests only the current rung hit), as a share of the interval's sampled requests, that move the
 * window up at once. Since the guard counts the period's own hits (followBurst), 20% also followed
 * passing bursts (P12 @ 200000 48.97 -> 48.12); P6's recency phase leads by 28-61% (docs/research/eviction-policy.md,
 * "Bursts against a stale score").
 */
export const BURST_MIN_LEAD = 0.3;
/**
 * In the cold start (the first period, and later ones while the rungs score alike: `cold`) the
 * checks come this many times as often (followNearHits): a near hit
 * is a re-read within one check interval of the period (1 / BURST_CHECKS of it) of the key's last
 * request, over a sliding horizon, so checking more often does not shorten what counts as near, and
 * a move on corda's second reads comes sooner after the fill (docs/research/eviction-policy.md, "Near hits on a
 * sliding horizon").
 */
export const COLD_CHECKS_PER_INTERVAL = 4;
/**
 * In the cold start, checks running at which a larger rung must make more near hits than the
 * current one before the window may move: one horizon's worth. A sweep's turn (zigzag's first
 * reversal) makes near hits for half a horizon only (the key re-read j requests after the turn was
 * requested 2j before), and moving then gives up the first keys the main region froze.
 */
export const COLD_RUN_CHECKS = COLD_CHECKS_PER_INTERVAL;
/**
 * In the cold start, standard deviations (Poisson) by which a larger rung's near hits summed over
 * the run must beat the current rung's to move the window (followNearHits), and by which its hits
 * in a burst interval must beat the current rung's for a burst (isBurst). A share of the requests
 * such as BURST_MIN_LEAD is too much to ask there (at corda @ 3000 the 1% window still hits a third
 * of what LRU hits). The test is repeated at every check while the run lasts, so it asks for 3, not
 * 2: at 2 a run of weak leads on P12 @ 50000 (72 near hits against 48) moved the window to 20% and
 * the first decision took it back (24.07 -> 23.72); corda scores the same at 3 and 4.
 */
export const COLD_BURST_SIGNIFICANCE = 3;
/**
 * Standard deviations (of the two smoothed scores' Poisson noise) by which a smaller rung must lead
 * before the window shrinks, and within which a larger rung's smoothed score must be for a burst to
 * move the window: a lead inside the noise is no reason to give up what the current window holds.
 */
export const TUNER_SIGNIFICANCE = 1;
/**
 * Periods of per-rung hits kept to measure how much a rung's lead over the current one varies from
 * period to period (weights TUNER_SMOOTHING^age, as the scores; 0.8^16 < 3%, so older periods weigh
 * little). On a workload with phases longer than a period (zigzag's sweeps) the lead swings by
 * hundreds of hits between periods, far beyond the Poisson noise of the counts, and a shrink on
 * one favourable phase costs the real cache what it holds (docs/research/eviction-policy.md, "Period-to-period noise").
 */
export const TUNER_HISTORY = 16;
/**
 * Standard deviations (of the two counts' Poisson noise) by which a larger rung must lead at the
 * first decision to move the window up. That decision rests on one period, much of it the fill
 * (every rung hits alike until the minis are full), and a move up gives away the main region the
 * fill built; a lead that short-lived phases make (multi3 between 1300 and 4000 entries: 0.03-0.41
 * sd, then the 1% rung led by hundreds) cost up to 5.4 points. The bar is the one a lead of this
 * period's size would have to clear on the smoothed scores if it held every period: a per-period
 * lead L over H hits a rung puts steady-state scores L / (1 - s) apart with Poisson noise
 * sqrt(2H / (1 - s)), so it clears TUNER_SIGNIFICANCE when L > sqrt(1 - s) sqrt(2H) (docs/research/eviction-policy.md,
 * "A first move on a lead inside the noise").
 */
export const FIRST_MOVE_SIGNIFICANCE = TUNER_SIGNIFICANCE * Math.sqrt(1 - TUNER_SMOOTHING);
/** Smallest miniature cache; below it, window fractions cannot be told apart. */
const MIN_MINI_ENTRIES = 64;

/**
 * A small entry-counted cache keyed by 32-bit hash, run only to count its hits. Its index is an
 * open-addressing table of slot + 1 (0: empty) with linear probing, kept about a quarter full:
 * seven minis look up every sampled request, and a Map's lookups were most of the tuner's time.
 */
class MiniCache implements PolicyHost {
  private readonly table: Int32Array;
  private readonly shift: number;
  private readonly mask: number;
  private count = 0;
  private readonly hashes: Uint32Array;
  private readonly free: number[] = [];
  private next = 0;
  private readonly maximum: number;
  readonly policy: WTinyLfuPolicy;
  hits = 0;
  /** Per slot: the tuner's clock (sampled requests, mod 2^32) at the key's last request. */
  private readonly lastSeen: Uint32Array;
  /** Hits since the last check on keys requested at most `nearHorizon` sampled requests before: hits a window grown that long ago would have won. */
  nearHits = 0;

  constructor(
    windowFraction: number,
    entries: number,
    random: Random,
    sharedSketch: CountMinSketch,
    private readonly nearHorizon: number,
  ) {
    this.maximum = entries;
    this.hashes = new Uint32Array(entries + 1);
    this.lastSeen = new Uint32Array(entries + 1);
    // A quarter full when it holds `entries` (one more for a moment, before an eviction): at
    // 4 x (entries + 1), 1024-entry minis took 8,192 buckets, 16 KB more each.
    const bits = Math.max(4, 32 - Math.clz32(4 * entries - 1));
    this.table = new Int32Array(1 << bits);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
    this.policy = new WTinyLfuPolicy(this, entries + 1, { random, expectedEntries: entries, windowFraction, adaptation: 'static', sharedSketch });
    this.policy.setMaximum(entries);
  }

  hashOf(slot: number): number {
    return this.hashes[slot]!;
  }
  weightOf(): number {
    return 1;
  }
  overBudget(): boolean {
    return this.count > this.maximum;
  }
  evictForSize(slot: number): void {
    this.policy.onRemove(slot);
    this.unindex(slot);
    this.free.push(slot);
  }

  /** `now`: the tuner's clock. */
  access(hash: number, now: number): void {
    const { table, mask, hashes } = this;
    let at = homeBucket(hash, this.shift);
    for (let held = table[at]!; held !== 0; held = table[at]!) {
      if (hashes[held - 1] === hash) {
        this.hits++;
        if (((now - this.lastSeen[held - 1]!) >>> 0) <= this.nearHorizon) this.nearHits++;
        this.lastSeen[held - 1] = now;
        this.policy.onAccess(held - 1);
        return;
      }
      at = (at + 1) & mask;
    }
    const fresh = this.free.length > 0 ? this.free.pop()! : this.next++;
    hashes[fresh] = hash;
    this.lastSeen[fresh] = now;
    table[at] = fresh + 1;
    this.count++;
    this.policy.onInsert(fresh);
    this.policy.evict();
  }

  /** Forgets the hits counted so far (after a warm-up, which is no period's). */
  forgetHits(): void {
    this.hits = 0;
    this.nearHits = 0;
  }

  /** Removes a slot from the index. */
  private unindex(slot: number): void {
    removeShifting(this.table, this.shift, this.hashes, slot + 1);
    this.count--;
  }
}

export interface WindowTunerOptions {
  /** Expected entries in the real cache; sets the sampling rate. */
  expectedEntries: number;
  random: Random;
}

export class WindowTuner {
  private readonly rate: number;
  private readonly minis: MiniCache[];
  /** The minis' frequency sketch, one for all (WTinyLfuOptions.sharedSketch), incremented once per sampled request. */
  private readonly sketch: CountMinSketch;
  private readonly scores: Float64Array;
  /** Each mini's hits (this period) at the last burst check. */
  private readonly hitsAtCheck: Float64Array;
  /** Per-rung hits of the last TUNER_HISTORY periods, a ring of rows of WINDOW_LADDER.length. */
  private readonly history: Float64Array;
  private readonly period: number;
  private readonly burstInterval: number;
  /** Sampled requests between burst checks: in the cold start COLD_CHECKS_PER_INTERVAL times as often. */
  private checkInterval: number;
  /** Sampled requests so far (mod 2^32): the minis' clock for near hits. */
  private clock = 0;
  private sampled = 0;
  private current = 0;
  private decisionCount = 0;
  private readsSeen = false;
  /** Some mini has hit: a sampled key was requested again (WTinyLfuPolicy's cold fill ends). */
  private anyHit = false;
  /**
   * The cold start: near-hit checks (followNearHits), COLD_CHECKS_PER_INTERVAL per burst interval.
   * It lasts until the window first moves, or until a decision at which some rung's score stands
   * out from the current one's by more than the counts' Poisson noise: while the periods have been
   * mostly the fill every rung scores alike, and ending it at the first decision regardless left
   * sprite @ 700-1300 at the 1% window for a second period (its re-reads begin just before the first
   * decision, and are a fifth of the requests, under BURST_MIN_LEAD; docs/research/eviction-policy.md, "The cold start
   * lasts while the rungs score alike"). After the first decision the burst checks run as well.
   */
  private cold = true;
  /** Cold checks since the last burst check: after the first decision, every COLD_CHECKS_PER_INTERVAL-th is a burst check as well. */
  private coldChecks = 0;
  /** In the cold start: checks running at which a larger rung made more near hits than the current one (followNearHits). */
  private nearRun = 0;
  /** Each rung's near hits summed over that run. */
  private readonly nearSums: Float64Array;

  /** The size of the real cache the minis model (WindowTunerOptions.expectedEntries). */
  readonly expectedEntries: number;

  constructor(options: WindowTunerOptions) {
    this.expectedEntries = options.expectedEntries;
    this.rate = Math.max(1, Math.floor(options.expectedEntries / MINI_CACHE_ENTRIES));
    const entries = Math.max(MIN_MINI_ENTRIES, Math.round(options.expectedEntries / this.rate));
    this.sketch = new CountMinSketch({ expectedEntries: entries });
    const burstInterval = Math.max(1, Math.floor((TUNER_PERIOD_FACTOR * entries) / BURST_CHECKS));
    this.minis = WINDOW_LADDER.map((fraction) => new MiniCache(fraction, entries, options.random, this.sketch, burstInterval));
    this.scores = new Float64Array(WINDOW_LADDER.length);
    this.hitsAtCheck = new Float64Array(WINDOW_LADDER.length);
    this.nearSums = new Float64Array(WINDOW_LADDER.length);
    this.history = new Float64Array(TUNER_HISTORY * WINDOW_LADDER.length);
    this.period = TUNER_PERIOD_FACTOR * entries;
    this.burstInterval = burstInterval;
    this.checkInterval = Math.max(1, Math.floor(burstInterval / COLD_CHECKS_PER_INTERVAL));
  }

  /**
   * A tuner for a cache of `expectedEntries`, with empty minis, starting from this one's window and
   * from what it knows of reads (a write-only load so far keeps the largest window's rule).
   */
  resizedFor(expectedEntries: number, random: Random): WindowTuner {
    const tuner = new WindowTuner({ expectedEntries, random });
    tuner.current = this.current;
    tuner.readsSeen = this.readsSeen;
    return tuner;
  }

  /**
   * Warm-up: the key with hash `hash` reaches the sketch and the minis as a request would, if it is
   * sampled, but it is no period's request; call `endWarmUp` after the last key. Its sampling and
   * feeding are `record`'s first lines, repeated rather than shared: `record` runs on every get, and
   * a call more in it weighs on TurboFan's inlining of the hit path (docs/research/store-speed.md).
   */
  warm(hash: number): void {
    if (this.rate > 1 && ((hash >>> 0) % (this.rate >>> 0) | 0) !== 0) return;
    this.sketch.increment(hash);
    const now = (this.clock = (this.clock + 1) >>> 0);
    for (const mini of this.minis) mini.access(hash >>> 0, now);
  }

  /** The warm-up's re-reads were no period's hits. */
  endWarmUp(): void {
    for (const mini of this.minis) mini.forgetHits();
  }

  /** 1 in this many keys is simulated. */
  get samplingRate(): number {
    return this.rate;
  }

  get decisions(): number {
    return this.decisionCount;
  }

  /** The window fraction the real cache should use now. */
  get fraction(): number {
    return WINDOW_LADDER[this.current]!;
  }

  /** True once a sampled key has been requested a second time while some mini held it. */
  get reReferenced(): boolean {
    return this.anyHit;
  }

  /** The store served a read (hit or miss); until the first, the load is treated as write-only. */
  noteRead(): void {
    this.readsSeen = true;
  }

  /** Feeds one request; returns true when the recommended fraction changed. */
  record(hash: number): boolean {
    // Spatial sampling: a key is in or out for good, so the minis see whole key histories.
    // Unsigned operands and an int32 result make TurboFan divide in integers: `hash % rate` on a
    // hash above 2^31 compiled to an x87 fprem loop when this was not inlined (docs/research/store-speed.md, fifth pass).
    if (this.rate > 1 && ((hash >>> 0) % (this.rate >>> 0) | 0) !== 0) return false;
    this.sketch.increment(hash);
    // The minis compare hashes with their unsigned table's; callers may pass the same bits as an int32.
    const unsigned = hash >>> 0;
    const now = (this.clock = (this.clock + 1) >>> 0);
    for (const mini of this.minis) mini.access(unsigned, now);
    if (!this.anyHit) this.anyHit = this.minis.some((mini) => mini.hits > 0);
    if (++this.sampled < this.period) return this.sampled % this.checkInterval === 0 && this.followBurst();
    this.sampled = 0;
    const row = (this.decisionCount % TUNER_HISTORY) * this.minis.length;
    this.decisionCount++;
    for (let i = 0; i < this.minis.length; i++) {
      const mini = this.minis[i]!;
      this.history[row + i] = mini.hits;
      this.scores[i] = TUNER_SMOOTHING * this.scores[i]! + mini.hits;
      mini.hits = 0;
      this.hitsAtCheck[i] = 0;
    }
    if (this.cold && this.scoresStandApart()) this.endColdStart();
    // Every score is this period's before any is compared: a rung below the current one compared
    // in the same pass met the current rung's score as of the last decision, which after a weak
    // period for the current rung is the higher one, and a shrink that the scores called for waited.
    // Ties keep the current rung: only a measured improvement moves the window.
    let best = this.current;
    for (let i = 0; i < this.minis.length; i++) if (this.scores[i]! > this.scores[best]!) best = i;
    // A smaller window gives up what the larger one holds, and a burst can only move the window up
    // again after the fact: shrink only on a lead outside the noise, else take the best rung above.
    if (best < this.current && this.scores[best]! - this.scores[this.current]! <= this.noise(best)) {
      best = this.current;
      for (let i = this.current + 1; i < this.minis.length; i++) if (this.scores[i]! > this.scores[best]!) best = i;
    }
    // The first period alone: a move up needs a lead that would stay significant if it held.
    const lead = this.scores[best]! - this.scores[this.current]!;
    if (this.decisionCount === 1 && best > this.current && lead <= FIRST_MOVE_SIGNIFICANCE * Math.sqrt(this.scores[best]! + this.scores[this.current]! + 1)) best = this.current;
    // Writes only so far (a bulk load): nothing says one written key will be read more than another,
    // and a 1% window's admission ties would keep the first keys written. Keep the newest, as LRU.
    if (!this.readsSeen) best = WINDOW_LADDER.length - 1;
    if (best === this.current) return false;
    this.current = best;
    this.endColdStart();
    return true;
  }

  /** Some rung's smoothed score differs from the current rung's by more than their Poisson noise. */
  private scoresStandApart(): boolean {
    const current = this.scores[this.current]!;
    for (const score of this.scores) if (Math.abs(score - current) > TUNER_SIGNIFICANCE * Math.sqrt(score + current + 1)) return true;
    return false;
  }

  private endColdStart(): void {
    if (!this.cold) return;
    this.cold = false;
    this.checkInterval = this.burstInterval;
  }

  /**
   * TUNER_SIGNIFICANCE standard deviations of the difference between rung i's smoothed score and
   * the current rung's: the larger of the counts' Poisson noise and the spread of the per-period
   * difference over the kept periods. The spread is estimated from successive periods (half the
   * weighted mean squared successive difference, von Neumann's estimator), so a change of level,
   * a workload's new phase, inflates it for one pair of periods only where a plain variance would
   * count it over the whole history; times the sum of the squared weights, it is the variance of
   * a smoothed sum of independent periods. Only called after a decision, so a period is kept.
   */
  private noise(i: number): number {
    const kept = Math.min(this.decisionCount, TUNER_HISTORY);
    let weight = 1;
    let squaredWeights = 1;
    let pairWeights = 0;
    let squares = 0;
    let later = this.differenceAt(0, i);
    for (let age = 1; age < kept; age++) {
      const difference = this.differenceAt(age, i);
      pairWeights += weight;
      squares += weight * (later - difference) ** 2;
      weight *= TUNER_SMOOTHING;
      squaredWeights += weight * weight;
      later = difference;
    }
    const spread = pairWeights === 0 ? 0 : (squares / pairWeights / 2) * squaredWeights;
    return TUNER_SIGNIFICANCE * Math.sqrt(Math.max(this.scores[i]! + this.scores[this.current]! + 1, spread));
  }

  /** Rung i's hits less the current rung's in the period `age` decisions back (0: the last one). */
  private differenceAt(age: number, i: number): number {
    const row = ((this.decisionCount - 1 - age) % TUNER_HISTORY) * this.minis.length;
    return this.history[row + i]! - this.history[row + this.current]!;
  }

  /**
   * A burst check (BURST_CHECKS per period, after the first): if a larger rung won BURST_MIN_LEAD of
   * the interval's requests net over the current one, and the smoothed scores, this period's hits
   * included, do not say the current rung is clearly better (a burst on a workload that otherwise
   * wants a small window is a passing one; without this period's hits, a long phase that favoured the
   * current rung vetoes a new phase's burst until the period ends, by when the real cache has turned
   * its keys away), the window moves now to the larger rung with the best score, this period's hits
   * included. Only upward: a recency phase's re-reads are lost within the phase, a frequency-heavy
   * workload's hot set builds up over periods (docs/research/eviction-policy.md).
   */
  private followBurst(): boolean {
    if (!this.readsSeen) return false;
    // In the cold start near hits are checked first; after the first decision every
    // COLD_CHECKS_PER_INTERVAL-th check (one burst interval) is a burst check as well.
    if (this.cold) {
      if (this.followNearHits()) return true;
      if (this.decisionCount === 0 || ++this.coldChecks < COLD_CHECKS_PER_INTERVAL) return false;
      this.coldChecks = 0;
    }
    const currentGain = this.minis[this.current]!.hits - this.hitsAtCheck[this.current]!;
    let lead = -1;
    let leadGain = -1;
    for (let i = 0; i < this.minis.length; i++) {
      const mini = this.minis[i]!;
      const gain = mini.hits - this.hitsAtCheck[i]!;
      this.hitsAtCheck[i] = mini.hits;
      if (i > this.current && gain >= leadGain && this.isBurst(gain, currentGain)) {
        lead = i;
        leadGain = gain;
      }
    }
    const scoreOf = (i: number): number => TUNER_SMOOTHING * this.scores[i]! + this.minis[i]!.hits;
    if (lead === -1 || scoreOf(this.current) - scoreOf(lead) > this.noise(lead)) return false;
    let best = lead;
    for (let i = this.current + 1; i < this.minis.length; i++) if (scoreOf(i) > scoreOf(best)) best = i;
    this.current = best;
    this.endColdStart();
    return true;
  }

  /**
   * A larger rung's hits in a burst interval (`gain`) against the current rung's make a burst: a net
   * lead of BURST_MIN_LEAD of the interval's requests, or, in the cold start, one outside the counts'
   * noise (COLD_BURST_SIGNIFICANCE, as followNearHits asks of near hits). While the rungs have scored
   * alike there is no score to say the current window is the better one, and a recency phase's
   * re-reads can be a fifth of the requests or less: sprite @ 2200's first lead, 408 hits against 306
   * in one interval of its second period, waited 2,600 requests for the next decision
   * (docs/research/eviction-policy.md, "A burst in the cold start is one outside the noise").
   */
  private isBurst(gain: number, currentGain: number): boolean {
    const net = gain - currentGain;
    if (net >= BURST_MIN_LEAD * this.burstInterval) return true;
    return this.cold && net > COLD_BURST_SIGNIFICANCE * Math.sqrt(gain + currentGain + 1);
  }

  /**
   * The cold start's check (COLD_CHECKS_PER_INTERVAL per burst interval; followBurst hands over). There are no
   * smoothed scores yet, or only alike ones, to tell a passing burst from a lasting one, and a move gives up what the main
   * region holds, so a rung's gain counts only its near hits: re-reads within one burst interval of
   * the key's last request, which the real cache wins back as soon as it moves. corda's second reads
   * (10-40 requests apart) are all near; zigzag's first reversal re-reads keys from the sweep before
   * it, which the real cache turned away then, and a move gains nothing in the reversal and throws out
   * the first keys its main region froze, which the sweep reaches next (docs/research/eviction-policy.md, "The ladder's
   * top rung, and near hits in the cold start"). The window moves to the larger rung with the most
   * near hits over the run once a larger rung has made more than the current one at COLD_RUN_CHECKS
   * checks running and leads it, summed over the run, by COLD_BURST_SIGNIFICANCE.
   */
  private followNearHits(): boolean {
    const currentNear = this.minis[this.current]!.nearHits;
    let ahead = false;
    for (let i = 0; i < this.minis.length; i++) {
      const mini = this.minis[i]!;
      if (i > this.current && mini.nearHits > currentNear) ahead = true;
      this.nearSums[i] = this.nearSums[i]! + mini.nearHits;
      mini.nearHits = 0;
    }
    if (!ahead) {
      this.nearRun = 0;
      this.nearSums.fill(0);
      return false;
    }
    if (++this.nearRun < COLD_RUN_CHECKS) return false;
    const base = this.nearSums[this.current]!;
    let lead = -1;
    for (let i = this.current + 1; i < this.minis.length; i++) {
      const sum = this.nearSums[i]!;
      if (sum - base > COLD_BURST_SIGNIFICANCE * Math.sqrt(sum + base) && (lead === -1 || sum > this.nearSums[lead]!)) lead = i;
    }
    if (lead === -1) return false;
    this.current = lead;
    this.endColdStart();
    return true;
  }
}
