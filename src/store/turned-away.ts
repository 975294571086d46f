/**
 * A reuse-distance second opinion for W-TinyLFU's admission duel, after LIRS (Jiang and Zhang,
 * SIGMETRICS 2002): a key whose reuse distance is shorter than the recency of the main region's
 * oldest key should take that key's place, whatever their frequencies.
 *
 * TinyLFU alone cannot see that. A key read many times in a phase that has ended keeps a high
 * sketch count until the sketch's halvings wear it down (one per 5-10x the cache's size in
 * requests); at probation's LRU end it turns away every newcomer, including keys that come back
 * again and again while it is never read. On multi3 @ 1000 such victims sat unread for 10,000
 * requests (10x the cache) turning away hundreds of candidates that came back every 4,750
 * (docs/research/eviction-policy.md, "Reuse distance in admission").
 *
 * What is remembered: the keys turned away lately, each with the duel's victim's tenure and the
 * sketch's aging count at the key's last read before it was turned away. A candidate that comes
 * back is admitted over the victim when its previous read is, for certain, more recent than the
 * victim's last read, at one of two resolutions:
 *
 * - the same victim turned it away before, in the same tenure: the victim has been the victim,
 *   unread, since before the candidate's previous visit (a tenure ends when the duel faces another
 *   victim or the victim is read);
 * - the victim's last read is from an older sketch period (its aging stamp) than the candidate's
 *   previous read.
 *
 * On a loop larger than the cache neither fires: the victim, probation's oldest, was read after the
 * candidate in the last pass and is read again before the candidate comes back, so the loop's kept
 * set holds, as under LIRS. A scan's keys never come back.
 *
 * Memory: a fixed direct-mapped table (8 bytes a bucket, at most TURNED_AWAY_BUCKETS), nothing per
 * entry: a tenure is one number, and a new tenure outdates the table's marks without clearing it.
 * A key whose bucket a later rejection takes is forgotten. All of it runs on a miss (the duel), but
 * `read`, one comparison on a probation hit.
 */

import { homeBucket } from './open-addressing.ts';

/** Most buckets in the table (8 bytes each: 8 KiB); a smaller cache gets one per expected entry, at least MIN_BUCKETS. */
export const TURNED_AWAY_BUCKETS = 1024;
const MIN_BUCKETS = 64;
/** Aging stamps are the sketch's aging count mod 64 (six bits of an entry's region byte). */
const STAMP_MASK = 63;
/** A stamp this many periods old or older is not compared: modulo 64 it could look new. */
const STAMP_HORIZON = 32;
const TENURE_MASK = 0xffffff;

export class TurnedAway {
  private readonly hashes: Uint32Array;
  /** Per bucket: tenure (24 bits) << 8 | aging stamp of the key's last read (6 bits). */
  private readonly marks: Uint32Array;
  private readonly shift: number;
  /** Starts at 1: a bucket never written holds tenure 0, which is never current. */
  private tenure = 1;
  private victimSlot = -1;
  private victimHash = 0;
  /** Candidates admitted by this second opinion (describe(): reuseAdmissions). */
  admissions = 0;

  constructor(expectedEntries: number) {
    let buckets = MIN_BUCKETS;
    while (buckets < expectedEntries && buckets < TURNED_AWAY_BUCKETS) buckets *= 2;
    this.hashes = new Uint32Array(buckets);
    this.marks = new Uint32Array(buckets);
    this.shift = 32 - Math.log2(buckets);
  }

  get byteSize(): number {
    return this.hashes.byteLength + this.marks.byteLength;
  }

  /** The duel's victim; another one than the last duel's starts a new tenure. */
  facing(slot: number, hash: number): void {
    if (slot === this.victimSlot && hash === this.victimHash) return;
    this.victimSlot = slot;
    this.victimHash = hash;
    this.tenure = (this.tenure + 1) & TENURE_MASK || 1;
  }

  /** A probation entry was read: if it is the victim, its tenure ends. */
  read(slot: number): void {
    if (slot === this.victimSlot) this.victimSlot = -1;
  }

  /** The current victim turned this candidate away; `stamp` is the aging stamp of the candidate's last read. */
  turnAway(hash: number, stamp: number): void {
    const at = homeBucket(hash, this.shift);
    this.hashes[at] = hash;
    this.marks[at] = ((this.tenure << 8) | stamp) >>> 0;
  }

  /**
   * True when this candidate was turned away before and its read before that is more recent than
   * the current victim's last read (whose aging stamp is `victimStamp`; `now` is the sketch's).
   */
  cameBackFirst(hash: number, victimStamp: number, now: number): boolean {
    const at = homeBucket(hash, this.shift);
    const mark = this.marks[at]!;
    // The same 32 bits whether the host hands them over signed or unsigned (store.ts's hashOf is signed).
    if (this.hashes[at] !== hash >>> 0 || mark === 0) return false;
    if (mark >>> 8 === this.tenure) return this.admit();
    const stamp = mark & STAMP_MASK;
    if (((now - stamp) & STAMP_MASK) >= STAMP_HORIZON) return false;
    const victimOlder = (stamp - victimStamp) & STAMP_MASK;
    return victimOlder >= 1 && victimOlder < STAMP_HORIZON ? this.admit() : false;
  }

  private admit(): true {
    this.admissions++;
    return true;
  }
}
