/**
 * Caffeine's bounded cache policy (ben-manes/caffeine v3.2.4: BoundedLocalCache's eviction,
 * admission and `climb()`, FrequencySketch), re-written over dense key ids as a reference policy
 * for the trace tool only. It shares no code with the store's W-TinyLFU on purpose: a change to the
 * product must not move the yardstick it is held against.
 *
 * What Caffeine does, and so this file:
 * - A window LRU (starting at 1% of the maximum) in front of a segmented main space, probation and
 *   protected (protected at most 80% of main). New keys enter the window; the window's overflow
 *   moves to probation's MRU end as candidates, and while the cache is over its maximum each
 *   candidate is weighed against probation's LRU victim (evictFromMain).
 * - Admission: the candidate wins if the sketch counts it more often than the victim; a candidate
 *   counted at least 6 times (ADMIT_HASHDOS_THRESHOLD) that does not win is let in with chance
 *   1/128 (a hash-flooding defence); otherwise the candidate is evicted.
 * - FrequencySketch: 4-bit count-min counters, 16 per 64-bit word, a key's 4 counters in one
 *   64-byte block of 8 words; every counter halves after 10 x maximum additions. No doorkeeper.
 *   It exists from the start, as in a cache built with `initialCapacity` (Caffeine's simulator
 *   builds the product that way); without it Caffeine creates the sketch once the cache is half
 *   full and ignores reads until then (gli @ 1000: 41.60% instead of 49.89%, docs/STORE.md).
 * - The hill climber (determineAdjustment): every 10 x maximum requests, compare the sample's hit
 *   rate with the previous one; keep the direction if it did not fall, else reverse (the first
 *   step shrinks the window); step 6.25% of the maximum, decaying by 0.98 per sample, back to
 *   6.25% when the hit rate moved by 5 points or more. The window grows at the expense of
 *   protected and shrinks into it, moving at most 1,000 entries per maintenance
 *   (QUEUE_TRANSFER_THRESHOLD); unfinished moves carry over.
 * - Maintenance order and timing, as a single-threaded cache with a same-thread executor (how
 *   Caffeine's own simulator runs the product): reads go to a 16-slot read buffer; a miss's insert
 *   drains it and runs maintenance (insert, evict, climb); a read that finds the buffer full is
 *   dropped from the policy (it still hits) and triggers maintenance.
 *
 * Java's ThreadLocalRandom is replaced by a seeded stream so a replay is reproducible.
 */
import { SeededRandom } from '../../runtime/seeded-random.ts';
import { SlotLists } from '../slot-lists.ts';

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

const PERCENT_MAIN = 0.99;
const PERCENT_MAIN_PROTECTED = 0.8;
const HILL_CLIMBER_RESTART_THRESHOLD = 0.05;
const HILL_CLIMBER_STEP_PERCENT = 0.0625;
const HILL_CLIMBER_STEP_DECAY_RATE = 0.98;
const ADMIT_HASHDOS_THRESHOLD = 6;
const QUEUE_TRANSFER_THRESHOLD = 1000;
/** BoundedBuffer.BUFFER_SIZE: reads held before a drain (one stripe: one thread). */
const READ_BUFFER_SIZE = 16;
/** Seed of the admission's random stream when the replay names none. */
export const CAFFEINE_SEED = 1;

/**
 * Caffeine's FrequencySketch. Java's long[] table is held as pairs of 32-bit words (low word
 * first), so counter j (0..15) of long s is nibble j & 7 of word 2s + (j >> 3). Halving a long with
 * `(x >>> 1) & 0x7777...` never carries a bit across the two halves (bit 32 lands in bit 31, which
 * the mask clears), so halving word by word is the same operation.
 */
export class CaffeineSketch {
  private readonly table: Uint32Array;
  private readonly blockMask: number;
  private additions = 0;
  /** Additions between two halvings, and the hill climber's sample (requests). */
  readonly sampleSize: number;

  /** FrequencySketch.ensureCapacity(maximumSize). */
  constructor(maximumSize: number) {
    const maximum = Math.min(maximumSize, 0x3fffffff);
    this.sampleSize = maximumSize === 0 ? 10 : Math.min(10 * maximum, 0x7fffffff);
    let longs = 8;
    while (longs < maximum) longs *= 2;
    this.table = new Uint32Array(2 * longs);
    this.blockMask = (longs >>> 3) - 1;
  }

  frequency(hashCode: number): number {
    const table = this.table;
    const blockHash = spread(hashCode);
    const counterHash = rehash(blockHash);
    const block = (blockHash & this.blockMask) << 3;
    let frequency = 15;
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3);
      const index = (h >>> 1) & 15;
      const slot = block + (h & 1) + (i << 1);
      const count = (table[2 * slot + (index >>> 3)]! >>> ((index & 7) << 2)) & 15;
      if (count < frequency) frequency = count;
    }
    return frequency;
  }

  increment(hashCode: number): void {
    const table = this.table;
    const blockHash = spread(hashCode);
    const counterHash = rehash(blockHash);
    const block = (blockHash & this.blockMask) << 3;
    let added = false;
    // All four counters, as Java's non-short-circuit `|`.
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3);
      const index = (h >>> 1) & 15;
      const word = 2 * (block + (h & 1) + (i << 1)) + (index >>> 3);
      const shift = (index & 7) << 2;
      if (((table[word]! >>> shift) & 15) !== 15) {
        table[word] = table[word]! + (1 << shift);
        added = true;
      }
    }
    if (added && ++this.additions === this.sampleSize) this.reset();
  }

  /** Halves every counter; the additions count drops by half, less a quarter of the odd counters. */
  private reset(): void {
    const table = this.table;
    let odd = 0;
    for (let i = 0; i < table.length; i++) {
      odd += bitCount(table[i]! & 0x11111111);
      table[i] = (table[i]! >>> 1) & 0x77777777;
    }
    this.additions = (this.additions - (odd >>> 2)) >>> 1;
  }
}

/** FrequencySketch.spread on a Java int (Math.imul for Java's wrapping multiply). */
function spread(x: number): number {
  x ^= x >>> 17;
  x = Math.imul(x, 0xed5ad4bb);
  x ^= x >>> 11;
  x = Math.imul(x, 0xac4c1b51);
  x ^= x >>> 15;
  return x;
}

function rehash(x: number): number {
  x = Math.imul(x, 0x31848bab);
  x ^= x >>> 14;
  return x;
}

function bitCount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 63;
}

/**
 * One Caffeine cache of `maximum` entries over key ids below `uniqueKeys`. A key's hashCode is its
 * id, as java.lang.Integer's; the sketch's `spread` mixes it.
 */
export class CaffeineSim {
  private readonly sketch: CaffeineSketch;
  private readonly lists: SlotLists;
  /** Queue of each key, plus one (0: not cached). */
  private readonly where: Uint8Array;
  private readonly random: SeededRandom;
  private size = 0;
  private windowSize = 0;
  private protectedSize = 0;
  /** The window's current share in entries (public for tests and the check against Java). */
  windowMaximum: number;
  private protectedMaximum: number;
  private hitsInSample = 0;
  private missesInSample = 0;
  private previousSampleHitRate = 0;
  private stepSize: number;
  private adjustment = 0;
  private bufferedReads = 0;

  constructor(
    private readonly maximum: number,
    uniqueKeys: number,
    seed: number = CAFFEINE_SEED,
  ) {
    this.lists = new SlotLists(3, uniqueKeys);
    this.where = new Uint8Array(uniqueKeys);
    this.random = SeededRandom.mulberry32(seed);
    this.sketch = new CaffeineSketch(maximum);
    this.windowMaximum = maximum - Math.floor(PERCENT_MAIN * maximum);
    this.protectedMaximum = Math.floor(PERCENT_MAIN_PROTECTED * (maximum - this.windowMaximum));
    this.stepSize = -HILL_CLIMBER_STEP_PERCENT * maximum;
  }

  /** Looks `id` up, inserting it on a miss; true on a hit. */
  access(id: number): boolean {
    if (this.where[id] !== 0) {
      this.afterRead(id);
      return true;
    }
    this.add(id);
    this.maintenance();
    return false;
  }

  /** AddTask.run: the new key enters the window's MRU end. */
  private add(id: number): void {
    this.size++;
    this.windowSize++;
    this.sketch.increment(id);
    this.missesInSample++;
    this.lists.pushBack(WINDOW, id);
    this.where[id] = WINDOW + 1;
  }

  /** BoundedLocalCache.afterRead with a one-stripe read buffer. */
  private afterRead(id: number): void {
    if (this.bufferedReads === READ_BUFFER_SIZE) {
      this.maintenance();
      return;
    }
    this.bufferedReads++;
    // Draining later replays buffered reads in order before anything else, so apply them now.
    this.onAccess(id);
  }

  private onAccess(id: number): void {
    this.sketch.increment(id);
    const queue = this.where[id]! - 1;
    if (queue === PROBATION && this.protectedMaximum >= 1) {
      this.lists.moveToBack(PROTECTED, id);
      this.where[id] = PROTECTED + 1;
      this.protectedSize++;
    } else {
      this.lists.moveToBack(queue, id);
    }
    this.hitsInSample++;
  }

  private maintenance(): void {
    this.bufferedReads = 0;
    this.evictFromMain(this.evictFromWindow());
    this.climb();
  }

  /** Moves the window's overflow to probation's MRU end; returns the first moved (-1: none). */
  private evictFromWindow(): number {
    let first = -1;
    while (this.windowSize > this.windowMaximum) {
      const id = this.lists.first(WINDOW);
      if (id === -1) break;
      this.lists.moveToBack(PROBATION, id);
      this.where[id] = PROBATION + 1;
      this.windowSize--;
      if (first === -1) first = id;
    }
    return first;
  }

  /**
   * BoundedLocalCache.evictFromMain for unit weights: candidates in promotion order (then the
   * window's LRU end) against victims from probation's LRU end (then protected's, then the
   * window's), evicting the one with the lower frequency until the cache fits.
   */
  private evictFromMain(first: number): void {
    const lists = this.lists;
    let candidate = first;
    let candidateQueue = PROBATION;
    let victimQueue = PROBATION;
    let victim = lists.first(PROBATION);
    while (this.size > this.maximum) {
      if (candidate === -1 && candidateQueue === PROBATION) {
        candidate = lists.first(WINDOW);
        candidateQueue = WINDOW;
      }
      if (candidate === -1 && victim === -1) {
        if (victimQueue === PROBATION) {
          victim = lists.first(PROTECTED);
          victimQueue = PROTECTED;
          continue;
        } else if (victimQueue === PROTECTED) {
          victim = lists.first(WINDOW);
          victimQueue = WINDOW;
          continue;
        }
        break;
      }
      if (victim === -1) {
        const evict = candidate;
        candidate = lists.after(candidate);
        this.evict(evict);
      } else if (candidate === -1) {
        const evict = victim;
        victim = lists.after(victim);
        this.evict(evict);
      } else if (candidate === victim) {
        victim = lists.after(victim);
        this.evict(candidate);
        candidate = -1;
      } else if (this.admit(candidate, victim)) {
        const evict = victim;
        victim = lists.after(victim);
        this.evict(evict);
        candidate = lists.after(candidate);
      } else {
        const evict = candidate;
        candidate = lists.after(candidate);
        this.evict(evict);
      }
    }
  }

  private admit(candidate: number, victim: number): boolean {
    const candidateFreq = this.sketch.frequency(candidate);
    const victimFreq = this.sketch.frequency(victim);
    if (candidateFreq > victimFreq) return true;
    if (candidateFreq >= ADMIT_HASHDOS_THRESHOLD) return this.random.int(128) === 0;
    return false;
  }

  private evict(id: number): void {
    const queue = this.where[id]! - 1;
    if (queue === WINDOW) this.windowSize--;
    else if (queue === PROTECTED) this.protectedSize--;
    this.lists.remove(id);
    this.where[id] = 0;
    this.size--;
  }

  private climb(): void {
    this.determineAdjustment();
    this.demoteFromMainProtected();
    if (this.adjustment > 0) this.increaseWindow();
    else if (this.adjustment < 0) this.decreaseWindow();
  }

  private determineAdjustment(): void {
    const requests = this.hitsInSample + this.missesInSample;
    if (requests < this.sketch.sampleSize) return;
    const hitRate = this.hitsInSample / requests;
    const hitRateChange = hitRate - this.previousSampleHitRate;
    const amount = hitRateChange >= 0 ? this.stepSize : -this.stepSize;
    this.stepSize =
      Math.abs(hitRateChange) >= HILL_CLIMBER_RESTART_THRESHOLD
        ? HILL_CLIMBER_STEP_PERCENT * this.maximum * (amount >= 0 ? 1 : -1)
        : HILL_CLIMBER_STEP_DECAY_RATE * amount;
    this.previousSampleHitRate = hitRate;
    // Java's (long) cast: toward zero, so steps under one entry stop moving the window.
    this.adjustment = Math.trunc(amount);
    this.hitsInSample = 0;
    this.missesInSample = 0;
  }

  /** Grows the window by shrinking protected; probation's (then protected's) LRU entries move over. */
  private increaseWindow(): void {
    if (this.protectedMaximum === 0) return;
    let quota = Math.min(this.adjustment, this.protectedMaximum);
    this.protectedMaximum -= quota;
    this.windowMaximum += quota;
    this.demoteFromMainProtected();
    for (let i = 0; i < QUEUE_TRANSFER_THRESHOLD && quota >= 1; i++) {
      let id = this.lists.first(PROBATION);
      if (id === -1) id = this.lists.first(PROTECTED);
      if (id === -1) break;
      quota--;
      if (this.where[id] === PROTECTED + 1) this.protectedSize--;
      this.lists.moveToBack(WINDOW, id);
      this.where[id] = WINDOW + 1;
      this.windowSize++;
    }
    this.protectedMaximum += quota;
    this.windowMaximum -= quota;
    this.adjustment = quota;
  }

  /** Shrinks the window (never below one entry) into protected's quota; its LRU entries go to probation. */
  private decreaseWindow(): void {
    if (this.windowMaximum <= 1) return;
    let quota = Math.min(-this.adjustment, Math.max(0, this.windowMaximum - 1));
    this.protectedMaximum += quota;
    this.windowMaximum -= quota;
    for (let i = 0; i < QUEUE_TRANSFER_THRESHOLD && quota >= 1; i++) {
      const id = this.lists.first(WINDOW);
      if (id === -1) break;
      quota--;
      this.windowSize--;
      this.lists.moveToBack(PROBATION, id);
      this.where[id] = PROBATION + 1;
    }
    this.protectedMaximum -= quota;
    this.windowMaximum += quota;
    this.adjustment = -quota;
  }

  private demoteFromMainProtected(): void {
    for (let i = 0; i < QUEUE_TRANSFER_THRESHOLD && this.protectedSize > this.protectedMaximum; i++) {
      const id = this.lists.first(PROTECTED);
      if (id === -1) break;
      this.lists.moveToBack(PROBATION, id);
      this.where[id] = PROBATION + 1;
      this.protectedSize--;
    }
  }
}

export function caffeineHits(ids: Int32Array, capacity: number, uniqueKeys: number, seed: number = CAFFEINE_SEED): number {
  const cache = new CaffeineSim(capacity, uniqueKeys, seed);
  let hits = 0;
  for (let i = 0; i < ids.length; i++) if (cache.access(ids[i]!)) hits++;
  return hits;
}
