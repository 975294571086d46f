/**
 * W-TinyLFU (Einziger, Friedman, Manes 2017), laid out as in Caffeine:
 *
 *   new entry -> [ window LRU ] --overflow--> candidate --admit?--> [ probation | protected ] (SLRU)
 *
 * The small window absorbs bursts of new keys and lets a key prove itself; when it overflows, its
 * oldest entry becomes a candidate for the main region and duels the main region's victim (the
 * probation queue's least recently used): the one the Count-Min Sketch deems less frequent goes.
 * A hit in probation promotes to protected (capped at 80% of main); protected overflow demotes back
 * to probation. The window's share adapts (window-tuner.ts by default, or hill-climber.ts).
 *
 * Against hash flooding (an attacker crafting keys that collide with a victim to inflate its
 * estimate), a warm candidate that loses the duel is still admitted with probability 1/128, so a
 * victim cannot be pinned forever by a forged count, unless the victim is fresh (recorded since the
 * sketch's last halving) and below the sketch's ceiling: such a victim's count is renewed by its
 * own reads, and a really hot candidate climbs past it. Caffeine draws for every warm loser; on a
 * loop larger than the cache every victim is fresh, and each draw that won evicted a kept key,
 * which then missed once a pass (docs/research/eviction-policy.md, "Admission on loops").
 *
 * The sketch's halving rounds odd counts down, so a key recorded since the halving (the candidate)
 * can lead one last recorded in the period just before it (the victim) by one point of rounding
 * alone: with every key of a loop counted alike, half the duels after each halving admitted the
 * candidate and the loop's kept set churned. Each entry keeps the sketch's aging count at its last
 * record (6 bits, in the byte that holds its region), and such a one-point lead is a tie. A victim
 * recorded two or more halvings ago is not covered: its count has decayed, and a newcomer's lead
 * over it is recency that TinyLFU should reward (P12's large cache loses otherwise).
 *
 * Frequency alone keeps a key whose phase has ended until halvings wear its count down; a candidate
 * it turned away that came back while it went unread has the shorter reuse distance and is admitted
 * (turned-away.ts, LIRS's rule as a second opinion).
 */
import type { Random } from '../runtime/env.ts';
import { RotatingBloomFilter } from './bloom.ts';
import { CountMinSketch } from './count-min.ts';
import { HillClimber } from './hill-climber.ts';
import { WindowTuner } from './window-tuner.ts';
import type { EvictionPolicy, PolicyHost } from './policy.ts';
import { SlotLists } from './slot-lists.ts';
import { TurnedAway } from './turned-away.ts';

/** Initial share of the budget given to the admission window (Caffeine's default). */
export const DEFAULT_WINDOW_FRACTION = 0.01;
/** Share of the main region that is protected. */
export const PROTECTED_FRACTION = 0.8;
/** A losing candidate this warm may still be admitted at random (hash-flooding defence). */
export const RANDOM_ADMIT_MIN_FREQUENCY = 6;
/** ... and against a fresh victim only one this frequent: at or one below the sketch's ceiling (MAX_COUNT 15). */
export const RANDOM_ADMIT_MIN_VICTIM_FREQUENCY = 14;
/** One in this many warm losing candidates is admitted anyway. */
export const RANDOM_ADMIT_ODDS = 128;
/** Fewest reads per hill-climbing sample, so tiny caches do not adapt on noise. */
export const MIN_CLIMBER_SAMPLE = 1000;
/** How far (either way) the entries held at the first eviction may be from the tuner's size before it is built again for them. */
const TUNER_RESIZE_RATIO = 1.25;

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
/** In probation, come down from protected: it has been read since it entered the main region (in probation's list, counted as probation). */
const DEMOTED = 3;
/** The low two bits of an entry's byte hold its region; the upper six the sketch's aging count (mod 64) at its last record. */
const REGION = 3;
const AGING_SHIFT = 2;

/**
 * - 'mini-sim': miniature simulations of a ladder of window sizes pick the window (window-tuner.ts).
 * - 'hill-climb': Caffeine's temporal hill climber on the observed hit ratio (hill-climber.ts).
 * - 'static': the window stays at `windowFraction`.
 */
export type WindowAdaptation = 'mini-sim' | 'hill-climb' | 'static';
export const WINDOW_ADAPTATIONS: readonly WindowAdaptation[] = ['mini-sim', 'hill-climb', 'static'];

export interface WTinyLfuOptions {
  /** Seeded randomness for the hash-flooding admission; required for reproducible runs. */
  random: Random;
  /** Expected entry count for sizing the sketch; it grows with the store if this was low. */
  expectedEntries: number;
  /** Starting window share of the budget. */
  windowFraction?: number;
  /** How the window adapts (default 'mini-sim'; see WindowAdaptation). */
  adaptation?: WindowAdaptation;
  /** Put a Bloom-filter doorkeeper in front of the sketch to absorb one-hit wonders (default false). */
  doorkeeper?: boolean;
  /** Reads per hill-climbing sample as a multiple of expected entries (default 10, as Caffeine). */
  climberSampleFactor?: number;
  /**
   * A frequency sketch its owner increments once for every request before this policy hears of it,
   * instead of the policy's own. The window tuner's miniature caches all see the same requests
   * and record each exactly once (on insert or on access), so their sketches were always equal:
   * one shared sketch gives the same admissions for a seventh of the increments.
   */
  sharedSketch?: CountMinSketch;
}

export class WTinyLfuPolicy implements EvictionPolicy {
  readonly name = 'wtinylfu' as const;
  private readonly lists: SlotLists;
  /** Per slot: region (REGION bits) and the aging count at the entry's last record (above AGING_SHIFT), at `queueAt(slot)`. */
  private queue: Uint8Array;
  /** In the host's rows (PolicyRows) a slot's byte is at slot * queueStride + queueOffset; on its own, at slot. */
  private queueStride = 1;
  private queueOffset = 0;
  private readonly sketch: CountMinSketch;
  /** False when the sketch is shared and fed by its owner (WTinyLfuOptions.sharedSketch). */
  private readonly feedsSketch: boolean;
  private readonly doorkeeper: RotatingBloomFilter | undefined;
  private readonly climber: HillClimber | undefined;
  /** Built for the expected entries, and again for the count held at the first eviction (sizeTunerToFullStore). */
  private tuner: WindowTuner | undefined;
  /** Whether an eviction has run (the store has been full). */
  private evicted = false;
  private readonly random: Random;
  private readonly sampleFactor: number;
  private sketchEntries: number;
  private entries = 0;
  private maximum = 0;
  private windowMax = 0;
  private protectedMax = 0;
  private windowWeight = 0;
  private protectedWeight = 0;
  private windowFraction: number;
  /** Candidates that lost the admission duel to a main-region victim (describe(); shoal_store_admission_rejections_total). */
  private admissionRejections = 0;
  /** Keys turned away lately, for the reuse-distance second opinion in `admit` (turned-away.ts). */
  private readonly turnedAway: TurnedAway;
  /** The cold fill: until a key is requested again, every candidate is admitted (see `admit`). */
  private filling: boolean;
  /** Whether the cold fill admitted a candidate over a victim: if not, the fill changed nothing. */
  private fillAdmitted = false;
  /** The newest entry of the fill still unread in probation (-1: none); probation's front up to it is the fill's. */
  private fillEnd = -1;

  constructor(
    private readonly host: PolicyHost,
    slotCapacity: number,
    options: WTinyLfuOptions,
  ) {
    // In the store, links and the byte live in its rows: a hit's writes land in the line it read.
    const rows = host.rows?.bind(host);
    this.lists = new SlotLists(3, slotCapacity, rows);
    this.queue = rows ? this.takeRows() : new Uint8Array(slotCapacity);
    this.random = options.random;
    this.windowFraction = options.windowFraction ?? DEFAULT_WINDOW_FRACTION;
    this.sketchEntries = Math.max(1, options.expectedEntries);
    this.sketch = options.sharedSketch ?? new CountMinSketch({ expectedEntries: this.sketchEntries });
    this.feedsSketch = options.sharedSketch === undefined;
    this.turnedAway = new TurnedAway(this.sketchEntries);
    this.sampleFactor = options.climberSampleFactor ?? 10;
    this.doorkeeper = options.doorkeeper ? new RotatingBloomFilter({ expectedInsertions: this.sketchEntries }) : undefined;
    const adaptation = options.adaptation ?? 'mini-sim';
    this.climber = adaptation === 'hill-climb' ? new HillClimber({ maximum: 0, sampleSize: this.climberSample() }) : undefined;
    this.tuner = adaptation === 'mini-sim' ? new WindowTuner({ expectedEntries: this.sketchEntries, random: this.random }) : undefined;
    this.filling = this.tuner !== undefined;
  }

  grow(slotCapacity: number): void {
    this.lists.grow(slotCapacity);
    if (this.host.rows) {
      this.queue = this.takeRows();
    } else if (slotCapacity > this.queue.length) {
      const queue = new Uint8Array(slotCapacity);
      queue.set(this.queue);
      this.queue = queue;
    }
  }

  setMaximum(maximumWeight: number): void {
    // A resize (Store.setMaxMemory) keeps the window share the tuner or climber chose; only the
    // first call starts from the configured one.
    const share = this.maximum > 0 ? this.windowMax / this.maximum : this.windowFraction;
    this.maximum = maximumWeight;
    this.windowMax = Math.floor(maximumWeight * share);
    this.protectedMax = Math.floor(PROTECTED_FRACTION * (maximumWeight - this.windowMax));
    this.climber?.resize(maximumWeight, this.climberSample());
    // A smaller protected region gives its least recent entries back to probation, where the
    // store's next eviction finds them first.
    this.demoteProtectedOverflow();
  }

  onInsert(slot: number): void {
    this.record(this.host.hashOf(slot) | 0);
    this.entries++;
    // Grow only well past the estimate: the entry count briefly exceeds the maximum by one while
    // the store inserts before evicting, and a larger table counts on from the same history.
    if (this.entries > this.sketchEntries + (this.sketchEntries >>> 2)) this.growSketch();
    this.queue[this.queueAt(slot)] = this.agingStamp() | WINDOW;
    this.lists.pushBack(WINDOW, slot);
    this.windowWeight += this.host.weightOf(slot);
  }

  onAccess(slot: number): void {
    this.tuner?.noteRead();
    if (this.climber) {
      this.climber.recordHit();
      this.maybeClimb();
    }
    this.onUpdate(slot);
  }

  onUpdate(slot: number): void {
    this.record(this.host.hashOf(slot) | 0);
    const region = this.queue[this.queueAt(slot)]! & REGION;
    switch (region) {
      case WINDOW:
        this.queue[this.queueAt(slot)] = this.agingStamp() | WINDOW;
        this.lists.moveToBack(WINDOW, slot);
        break;
      case PROBATION:
      case DEMOTED:
        this.leaveProbation(slot);
        this.turnedAway.read(slot);
        this.lists.moveToBack(PROTECTED, slot);
        this.queue[this.queueAt(slot)] = this.agingStamp() | PROTECTED;
        this.protectedWeight += this.host.weightOf(slot);
        this.demoteProtectedOverflow();
        break;
      default:
        this.queue[this.queueAt(slot)] = this.agingStamp() | PROTECTED;
        this.lists.moveToBack(PROTECTED, slot);
    }
  }

  onMiss(): void {
    this.tuner?.noteRead();
    if (this.climber) {
      this.climber.recordMiss();
      this.maybeClimb();
    }
  }

  onReweigh(slot: number, oldWeight: number): void {
    const delta = this.host.weightOf(slot) - oldWeight;
    const region = this.queue[this.queueAt(slot)]! & REGION;
    if (region === WINDOW) this.windowWeight += delta;
    else if (region === PROTECTED) this.protectedWeight += delta;
  }

  onRemove(slot: number): void {
    if (!this.lists.isLinked(slot)) return;
    this.leaveProbation(slot);
    this.lists.remove(slot);
    this.entries--;
    const weight = this.host.weightOf(slot);
    const region = this.queue[this.queueAt(slot)]! & REGION;
    if (region === WINDOW) this.windowWeight -= weight;
    else if (region === PROTECTED) this.protectedWeight -= weight;
  }

  evict(): void {
    if (this.filling && this.tuner!.reReferenced) this.endFill();
    if (!this.evicted) this.sizeTunerToFullStore();
    const candidate = this.moveWindowOverflowToProbation();
    if (this.host.overBudget()) this.evictFromMain(candidate);
  }

  describe(): Record<string, number> {
    return {
      windowMaxWeight: this.windowMax,
      windowWeight: this.windowWeight,
      protectedWeight: this.protectedWeight,
      windowFraction: this.maximum > 0 ? this.windowMax / this.maximum : 0,
      sketchAgings: this.sketch.agingCount,
      sketchBytes: this.sketch.byteSize + (this.doorkeeper?.byteSize ?? 0),
      turnedAwayBytes: this.turnedAway.byteSize,
      windowAdaptations: this.climber?.adaptationCount ?? this.tuner?.decisions ?? 0,
      windowTunerEntries: this.tuner?.expectedEntries ?? 0,
      admissionRejections: this.admissionRejections,
      reuseAdmissions: this.turnedAway.admissions,
    };
  }

  /** The sketch's estimate: it counts keys by hash, held or not, and halves every count as it ages. */
  accessFrequency(_slot: number, hash: number): number {
    return this.frequency(hash);
  }

  /**
   * The duel `evictFromMain` would run, with the newcomer as the candidate: probation's least
   * recent entry (or protected's, or the window's, as there) is the victim, and only `admit`'s
   * first rule applies, a lead of more than one point: the newcomer's last point is the read that
   * asked for it (noteWanted), and a key read once, as in a scan, is no more wanted than one not
   * read yet. Nothing else of `admit` applies: such a newcomer was never turned away, and a cold
   * one is not drawn for at random.
   */
  keepsOverNextVictim(hash: number): boolean {
    let victim = this.lists.first(PROBATION);
    if (victim === -1) victim = this.lists.first(PROTECTED);
    if (victim === -1) victim = this.lists.first(WINDOW);
    return victim === -1 || this.frequency(hash) > this.frequency(this.host.hashOf(victim)) + 1;
  }

  /**
   * In the sketch only: the window's tuner samples the store's own reads and writes. The same three
   * steps as the end of `record`, written out again rather than shared, so that `record`, on every
   * hit, keeps the code TurboFan inlines today (docs/research/store-speed.md, ninth to thirteenth passes).
   */
  noteWanted(hash: number): void {
    if (!this.feedsSketch) return;
    if (this.doorkeeper && !this.doorkeeper.add(hash)) return;
    if (this.sketch.increment(hash)) this.doorkeeper?.clear();
  }

  /** Estimated frequency of a key hash (sketch plus the doorkeeper's one). */
  frequency(hash: number): number {
    const base = this.sketch.frequency(hash);
    return this.doorkeeper && this.doorkeeper.mightContain(hash) ? base + 1 : base;
  }

  /**
   * `hash` comes as an int32 (`hashOf(slot) | 0`, the same 32 bits): this call is often not inlined,
   * and V8 boxes an integer at or above 2^31 into a heap number to pass it, an allocation on every
   * get of half the keys. What it feeds (the sketch, the doorkeeper, the tuner) reads only the bits.
   */
  private record(hash: number): void {
    if (this.tuner && this.tuner.record(hash)) this.resizeWindow(Math.round(this.tuner.fraction * this.maximum) - this.windowMax);
    if (!this.feedsSketch) return;
    // With a doorkeeper, a key's first sighting only sets its bits; repeats reach the sketch.
    if (this.doorkeeper && !this.doorkeeper.add(hash)) return;
    if (this.sketch.increment(hash)) this.doorkeeper?.clear();
  }

  private climberSample(): number {
    return Math.max(MIN_CLIMBER_SAMPLE, this.sampleFactor * this.sketchEntries);
  }

  private growSketch(): void {
    if (!this.feedsSketch) return;
    this.sketchEntries *= 2;
    this.sketch.ensureCapacity(this.sketchEntries);
    this.climber?.resize(this.maximum, this.climberSample());
  }

  /** Moves the window's oldest entries to probation until the window fits; returns the first moved (or -1). */
  private moveWindowOverflowToProbation(): number {
    let first = -1;
    while (this.windowWeight > this.windowMax) {
      const slot = this.lists.first(WINDOW);
      if (slot === -1) break;
      this.lists.moveToBack(PROBATION, slot);
      this.setRegion(slot, PROBATION);
      this.windowWeight -= this.host.weightOf(slot);
      if (first === -1) first = slot;
    }
    return first;
  }

  private demoteProtectedOverflow(): void {
    while (this.protectedWeight > this.protectedMax) {
      const slot = this.lists.first(PROTECTED);
      if (slot === -1) return;
      this.lists.moveToBack(PROBATION, slot);
      this.setRegion(slot, DEMOTED);
      this.protectedWeight -= this.host.weightOf(slot);
    }
  }

  /**
   * Duels candidates (the entries just moved out of the window, then the window itself) against
   * victims (probation's LRU end, then protected, then the window) until the store fits.
   */
  private evictFromMain(firstCandidate: number): void {
    let candidate = firstCandidate;
    let candidateQueue = PROBATION;
    let victim = this.lists.first(PROBATION);
    let victimQueue = PROBATION;
    while (this.host.overBudget()) {
      if (candidate === -1 && candidateQueue === PROBATION) {
        candidate = this.lists.first(WINDOW);
        candidateQueue = WINDOW;
      }
      if (candidate === -1 && victim === -1) {
        if (victimQueue === PROBATION) {
          victim = this.lists.first(PROTECTED);
          victimQueue = PROTECTED;
          continue;
        }
        if (victimQueue === PROTECTED) {
          victim = this.lists.first(WINDOW);
          victimQueue = WINDOW;
          continue;
        }
        return;
      }
      if (victim === -1) {
        const evicted = candidate;
        candidate = this.lists.after(candidate);
        this.host.evictForSize(evicted);
      } else if (candidate === -1) {
        const evicted = victim;
        victim = this.lists.after(victim);
        this.host.evictForSize(evicted);
      } else if (candidate === victim) {
        const evicted = victim;
        victim = this.lists.after(victim);
        candidate = -1;
        this.host.evictForSize(evicted);
      } else if (this.admit(candidate, victim)) {
        const evicted = victim;
        victim = this.lists.after(victim);
        candidate = this.lists.after(candidate);
        this.host.evictForSize(evicted);
      } else {
        // The candidate lost the admission duel: refused, though it was written (metrics: reason policy).
        this.admissionRejections++;
        this.turnedAway.turnAway(this.host.hashOf(candidate), this.stampOf(candidate) >>> AGING_SHIFT);
        const evicted = candidate;
        candidate = this.lists.after(candidate);
        this.host.evictForSize(evicted);
      }
    }
  }

  private admit(candidate: number, victim: number): boolean {
    if (this.filling) {
      this.fillAdmitted = true;
      return true;
    }
    const victimHash = this.host.hashOf(victim);
    const candidateHash = this.host.hashOf(candidate);
    this.turnedAway.facing(victim, victimHash);
    const victimFrequency = this.frequency(victimHash);
    const candidateFrequency = this.frequency(candidateHash);
    if (candidateFrequency > victimFrequency + 1) return true;
    if (candidateFrequency === victimFrequency + 1 && !this.leadIsRounding(candidate, victim) && !this.leadIsThisRead(victim) && !this.victimIsUnreadFill(victim)) return true;
    // Frequency says no; reuse distance may say yes (turned-away.ts).
    if (this.turnedAway.cameBackFirst(candidateHash, this.stampOf(victim) >>> AGING_SHIFT, this.agingStamp() >>> AGING_SHIFT)) return true;
    if (candidateFrequency < RANDOM_ADMIT_MIN_FREQUENCY) return false;
    if (victimFrequency < RANDOM_ADMIT_MIN_VICTIM_FREQUENCY && this.stampOf(victim) === this.agingStamp()) return false;
    return this.random.int(RANDOM_ADMIT_ODDS) === 0;
  }

  /** True when the candidate was recorded since the sketch's last halving and the victim last in the period just before it. */
  private leadIsRounding(candidate: number, victim: number): boolean {
    const now = this.agingStamp();
    return this.stampOf(candidate) === now && this.stampOf(victim) === ((now - (1 << AGING_SHIFT)) & 0xff);
  }

  /**
   * True when the victim came down from protected (it has been read since it entered the main
   * region) and was recorded since the sketch's last halving: the candidate's one-point lead over
   * it is no more than the read that made the candidate a candidate, while the victim's next read
   * is still to come. On a loop larger than the cache every key has the same count once a pass, and
   * without this tie each candidate led the kept key due next by that one point, and the kept set
   * churned wherever no key with a collision-inflated count stood at probation's head (docs/research/eviction-policy.md,
   * "loop @ 850"). A victim never read in main, or one from an older period, is not covered.
   */
  private leadIsThisRead(victim: number): boolean {
    const byte = this.queue[this.queueAt(victim)]!;
    return (byte & REGION) === DEMOTED && (byte & ~REGION & 0xff) === this.agingStamp();
  }

  /**
   * The first eviction: the store is full, so the entries it holds are the cache's size. A store
   * with a memory budget could only guess it (an entry per 256 bytes, at most 65,536: Store's
   * expectedEntriesFor), and the tuner's minis model a cache of the guessed size, whose best window
   * is not the real cache's: P6 @ 200,000 entries read 81.82% through a budget-sized store against
   * 87.10% sized by entries (docs/research/eviction-policy.md, fork35). More than a quarter off, the
   * tuner is built again for the count held, from the window it had chosen.
   */
  private sizeTunerToFullStore(): void {
    this.evicted = true;
    if (!this.tuner) return;
    const ratio = this.entries / this.tuner.expectedEntries;
    if (ratio >= 1 / TUNER_RESIZE_RATIO && ratio <= TUNER_RESIZE_RATIO) return;
    this.tuner = this.tuner.resizedFor(this.entries, this.random);
    this.warmTuner(this.tuner);
  }

  /**
   * At the first eviction nothing has been evicted: the store holds every key it has seen, and a
   * tuner built for its size from the start would hold the sampled ones in its minis. The rebuilt
   * tuner gets them, each once, oldest first by list (docs/research/eviction-policy.md, warm36).
   */
  private warmTuner(tuner: WindowTuner): void {
    for (const list of [PROBATION, PROTECTED, WINDOW]) {
      for (let slot = this.lists.first(list); slot !== -1; slot = this.lists.after(slot)) {
        const hash = this.host.hashOf(slot) | 0;
        tuner.warm(hash);
      }
    }
    tuner.endWarmUp();
  }

  /**
   * The cold fill ends at the first key requested again (a hit in any of the tuner's minis). Until
   * then nothing tells a key that will be read again from one that will not, and the fill kept
   * the newest keys, as LRU. What it kept, still unread, is probation's front up to `fillEnd`.
   */
  private endFill(): void {
    this.filling = false;
    if (this.fillAdmitted) this.fillEnd = this.lists.last(PROBATION);
  }

  /**
   * The victim was kept by the cold fill and not read since. A candidate one point ahead of it
   * was requested once before, and was then evicted by the fill: its previous request is older
   * than the victim's only one, so the lead is the re-read that made it a candidate, and the
   * victim's own next read may be as near. The tie keeps what the fill kept, as the frequency tie
   * of a 1% window keeps the first keys a sweep wrote (docs/research/eviction-policy.md, "zigzag28").
   */
  private victimIsUnreadFill(victim: number): boolean {
    return this.fillEnd !== -1 && victim === this.lists.first(PROBATION);
  }

  /** Keeps `fillEnd` on the fill's unread entries when `slot` is about to leave probation. */
  private leaveProbation(slot: number): void {
    if (slot === this.fillEnd) this.fillEnd = this.lists.before(slot);
  }

  /** The aging stamp of an entry's last record. */
  private stampOf(slot: number): number {
    return this.queue[this.queueAt(slot)]! & ~REGION & 0xff;
  }

  /** The sketch's aging count (mod 64) in an entry byte's upper six bits. */
  private agingStamp(): number {
    return (this.sketch.agingCount << AGING_SHIFT) & 0xff;
  }

  private setRegion(slot: number, region: number): void {
    const at = this.queueAt(slot);
    this.queue[at] = (this.queue[at]! & ~REGION) | region;
  }

  /** Where a slot's byte is in `queue`. */
  private queueAt(slot: number): number {
    return slot * this.queueStride + this.queueOffset;
  }

  /** The host's rows as `queue` (at construction and after every change of the host's rows). */
  private takeRows(): Uint8Array {
    const rows = this.host.rows!();
    this.queueStride = rows.stride * 4;
    this.queueOffset = rows.policyByte;
    return rows.bytes;
  }

  private maybeClimb(): void {
    const amount = this.climber!.adjustment();
    if (amount !== 0) this.resizeWindow(amount);
  }

  private resizeWindow(amount: number): void {
    const target = Math.min(this.maximum, Math.max(0, this.windowMax + amount));
    const change = Math.round(target - this.windowMax);
    if (change === 0) return;
    this.windowMax += change;
    this.protectedMax = Math.max(0, Math.floor(PROTECTED_FRACTION * (this.maximum - this.windowMax)));
    if (change > 0) this.refillWindowFromMain(change);
    this.demoteProtectedOverflow();
    // A shrunken window spills at the next eviction, which is when the store is full anyway.
  }

  /** A grown window takes main's least recently used entries, so the space is used at once. */
  private refillWindowFromMain(quota: number): void {
    let moved = 0;
    for (const queue of [PROBATION, PROTECTED]) {
      while (moved < quota) {
        const slot = this.lists.first(queue);
        if (slot === -1) break;
        const weight = this.host.weightOf(slot);
        if (moved + weight > quota) return;
        if (queue === PROBATION) this.leaveProbation(slot);
        this.lists.moveToBack(WINDOW, slot);
        if (queue === PROTECTED) this.protectedWeight -= weight;
        this.setRegion(slot, WINDOW);
        this.windowWeight += weight;
        moved += weight;
      }
    }
  }
}
