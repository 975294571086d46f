/**
 * The keys the eviction shadow forgot (its bound), kept as rotating Bloom filters with, per
 * generation and partition, the newest version forgotten: for a key it may have forgotten, a node
 * knows it evicted some version at or below that watermark W, though not which.
 *
 * Why: past the shadow's bound a replica lacking a key answered "absent", so a QUORUM read whose
 * other answer was an older copy returned that copy although a newer write was acknowledged, and
 * sync and read repair wrote the older copy back (restart-probe F5, eviction-shadow-bound.test.ts).
 * With this filter such a key is answered "evicted at or below W" (the coordinator then takes only a
 * copy at W or newer, else answers a miss) and a record at or below W arriving for it is refused
 * (PartitionReplica.apply). A Bloom false positive costs a miss of a key never evicted here, no
 * stale answer; so does a version newer than the one really evicted but not newer than W.
 *
 * Memory stays fixed: GENERATIONS filters, each sized for `keysPerGeneration` keys at
 * FALSE_POSITIVE_RATE; when the newest is full the oldest is cleared and takes its place, so a key
 * is remembered here for (GENERATIONS - 1) to GENERATIONS generations after the shadow forgot it,
 * then is open to an older copy again, as every forgotten key was before. A restarted node starts
 * with none, as its shadow does.
 */
import { murmur3String } from '../protocol/hash.ts';
import { BloomFilter } from '../store/bloom.ts';
import { compareVersions, type Version } from './hlc.ts';

/** How many filters rotate. More: a finer rotation, and a union false-positive rate that grows with them. */
export const FORGOTTEN_KEY_GENERATIONS = 4;
/** Per generation: GENERATIONS of them make a union rate of about 1% for a key never forgotten (at most, all full). */
export const FORGOTTEN_KEY_FALSE_POSITIVE_RATE = 0.0025;
const FORGOTTEN_KEY_SEED = 0x666f_7267; // "forg"

interface Generation {
  readonly keys: BloomFilter;
  /** partition -> the newest version forgotten into this generation. */
  readonly watermarks: Map<number, Version>;
}

export class ForgottenKeys {
  private readonly generations: Generation[] = [];
  /** Index of the generation keys go into. */
  private current = 0;
  /** partition -> the newest version ever forgotten from it: kept when generations rotate (`horizon`). */
  private readonly horizons = new Map<number, Version>();
  /** partition -> the newest forgetting horizon of the sources its catch-up took records from (`inherit`). */
  private readonly inherited = new Map<number, Version>();

  constructor(keysPerGeneration: number) {
    for (let i = 0; i < FORGOTTEN_KEY_GENERATIONS; i++) {
      this.generations.push({ keys: new BloomFilter({ expectedInsertions: keysPerGeneration, falsePositiveRate: FORGOTTEN_KEY_FALSE_POSITIVE_RATE }), watermarks: new Map() });
    }
  }

  /** Bytes of the filters' bit arrays (the watermarks add at most one version per partition and generation). */
  get byteSize(): number {
    return this.generations.reduce((sum, g) => sum + g.keys.byteSize, 0);
  }

  /** The shadow forgot `key` of `partition`, evicted at `version`. */
  add(partition: number, key: string, version: Version): void {
    let generation = this.generations[this.current]!;
    if (generation.keys.isFull) {
      this.current = (this.current + 1) % this.generations.length;
      generation = this.generations[this.current]!;
      generation.keys.clear();
      generation.watermarks.clear();
    }
    generation.keys.add(murmur3String(key, FORGOTTEN_KEY_SEED));
    const known = generation.watermarks.get(partition);
    if (known === undefined || compareVersions(version, known) > 0) generation.watermarks.set(partition, version);
    const horizon = this.horizons.get(partition);
    if (horizon === undefined || compareVersions(version, horizon) > 0) this.horizons.set(partition, version);
  }

  /**
   * The newest version of `partition` this node ever forgot (its watermarks' maximum, but never
   * rotated out): a key the node lacks at or below it may be one it evicted and forgot, so sync
   * does not copy it back (sync.ts, `reconcile`). Without it a node whose evictions outrun its
   * shadow took anti-entropy's copies of what it had evicted, and evicted a resident value for
   * each, round after round: 6,000 to 12,000 records every 20 s on an idle 3-node cluster with
   * one node at 16 MiB, for as long as it ran.
   */
  horizon(partition: number): Version | undefined {
    const own = this.horizons.get(partition);
    const inherited = this.inherited.get(partition);
    if (own === undefined || inherited === undefined) return own ?? inherited;
    return compareVersions(own, inherited) >= 0 ? own : inherited;
  }

  /**
   * The partition is catching up (a restart, or a ring change gave it here) from a source whose
   * forgetting horizon is `horizon`: that source may lack keys it evicted and forgot at or below
   * it, so what this replica rebuilds from it may lack them too, or hold an older version of
   * them. It can no more vouch for "nothing newer" there than if it had forgotten them itself:
   * its horizon rises to it (sync's leave-out, the `h` answer, `fh` to its own peers), and a
   * record it holds older than it is answered with it (`vh`, docs/REPLICATION.md, "A replica
   * rebuilt from forgetful sources").
   */
  inherit(partition: number, horizon: Version): void {
    const known = this.inherited.get(partition);
    if (known === undefined || compareVersions(horizon, known) > 0) this.inherited.set(partition, horizon);
  }

  /** The horizon inherited from catch-up sources (`inherit`), if any: the one a held record is weighed against. */
  inheritedHorizon(partition: number): Version | undefined {
    return this.inherited.get(partition);
  }

  /**
   * If `key` may have been forgotten: the newest watermark among the generations that may hold it,
   * a version at or above every version of it evicted and forgotten. Only generations whose
   * watermark is at least `atLeast` are looked at (a record newer than every watermark of its
   * partition, such as a new write, costs no hashing).
   */
  bound(partition: number, key: string, atLeast?: Version): Version | undefined {
    let bound: Version | undefined;
    let hash: number | undefined;
    for (const generation of this.generations) {
      const watermark = generation.watermarks.get(partition);
      if (watermark === undefined || (atLeast !== undefined && compareVersions(watermark, atLeast) < 0)) continue;
      if (bound !== undefined && compareVersions(watermark, bound) <= 0) continue;
      hash ??= murmur3String(key, FORGOTTEN_KEY_SEED);
      if (generation.keys.mightContain(hash)) bound = watermark;
    }
    return bound;
  }

  /** A flush floor at or above a watermark deletes every version it covers: the floor answers for them. */
  forgetUpTo(partition: number, floor: Version): void {
    for (const { watermarks } of this.generations) {
      const watermark = watermarks.get(partition);
      if (watermark !== undefined && compareVersions(watermark, floor) <= 0) watermarks.delete(partition);
    }
  }

  /** The node no longer holds `partition`: if it gains it again, it starts from what it is sent. */
  dropPartition(partition: number): void {
    for (const { watermarks } of this.generations) watermarks.delete(partition);
    this.horizons.delete(partition);
    this.inherited.delete(partition);
  }
}
