/**
 * The ring: partition -> preference list, as a pure function of the member set.
 *
 * Every node builds its Ring from its own view of the membership; two nodes with the same members
 * (names and zones, in any order) build identical rings with identical `version`s, so comparing
 * versions is how two parties notice that their views differ. A member is its name, its zone and
 * its claim seed (claim-seed.ts), all three carried by gossip.
 */
import { CLAIM_ALGORITHM_VERSION, claim } from './claim.ts';
import { CLAIM_SEEDS, isClaimSeed } from './member-order.ts';
import { digestHex } from '../protocol/hash.ts';
import { DEFAULT_PARTITION_COUNT, assertValidPartitionCount } from './partition.ts';

/** Default replication factor N: each partition lives on this many distinct nodes. */
export const DEFAULT_REPLICAS = 3;

/** Zone of a member that does not name one. All such members share it. */
export const DEFAULT_ZONE = '';

export interface RingMember {
  /** Stable across restarts; placement is by name, never by address or join order. */
  readonly name: string;
  /** Failure domain (rack, availability zone). Replicas of a partition go to distinct zones when there are at least N. */
  readonly zone?: string;
  /** Which candidate partition order the member chose when it joined (claim-seed.ts). Default 0. */
  readonly claimSeed?: number;
}

export interface RingConfig {
  readonly members: readonly RingMember[];
  /** Q, fixed for the cluster's life. Default DEFAULT_PARTITION_COUNT. */
  readonly partitions?: number;
  /** N. Default DEFAULT_REPLICAS. With fewer than N members, every member holds every partition. */
  readonly replicas?: number;
}

/** Thrown by buildRing for a member set or setting that cannot make a ring. */
export class RingConfigError extends Error {
  override readonly name = 'RingConfigError';
}

export interface WalkOptions {
  /** Names to pass over, e.g. nodes currently believed down. */
  readonly skip?: ReadonlySet<string>;
  /** How many names to return at most. Default: all members not skipped. */
  readonly count?: number;
}

export class Ring {
  /** Q. */
  readonly partitions: number;
  /** N as configured. */
  readonly replicas: number;
  /** Replicas actually held per partition: min(N, members). */
  readonly width: number;
  /** Member names, sorted. */
  readonly members: readonly string[];
  /** Digest of (claim algorithm, Q, N, sorted members with zones): equal on every node with the same view. */
  readonly version: string;

  private readonly index: ReadonlyMap<string, number>;
  private readonly zones: readonly string[];
  private readonly claimSeeds: readonly number[];
  private readonly preference: Int32Array;
  private readonly ranking: Int32Array;
  private readonly loads: Int32Array;
  private readonly held: readonly (readonly number[])[];
  private readonly walks = new Map<number, readonly string[]>();

  /** Use `buildRing`. */
  constructor(members: readonly { name: string; zone: string; claimSeed: number }[], partitions: number, replicas: number) {
    this.partitions = partitions;
    this.replicas = replicas;
    this.members = members.map((m) => m.name);
    this.zones = members.map((m) => m.zone);
    this.claimSeeds = members.map((m) => m.claimSeed);
    this.index = new Map(this.members.map((name, i) => [name, i]));
    const result = claim({ names: this.members, zones: this.zones, claimSeeds: this.claimSeeds, partitions, replicas });
    this.width = result.width;
    this.preference = result.preference;
    this.ranking = result.ranking;
    this.loads = result.loads;
    const held: number[][] = this.members.map(() => []);
    for (let p = 0; p < partitions; p++) {
      for (let r = 0; r < this.width; r++) held[this.preference[p * this.width + r]!]!.push(p);
    }
    this.held = held;
    this.version = digestHex(
      JSON.stringify([CLAIM_ALGORITHM_VERSION, partitions, replicas, members.map((m) => [m.name, m.zone, m.claimSeed])]),
    );
  }

  /** The `width` distinct nodes holding partition p, primary first. */
  preferenceList(partition: number): readonly string[] {
    this.checkPartition(partition);
    const out: string[] = [];
    for (let r = 0; r < this.width; r++) out.push(this.members[this.preference[partition * this.width + r]!]!);
    return out;
  }

  /** The first node of the preference list. */
  primaryOf(partition: number): string {
    this.checkPartition(partition);
    return this.members[this.preference[partition * this.width]!]!;
  }

  /** Partitions the named node holds a replica of (as primary or not), ascending. Empty for a non-member. */
  partitionsOf(name: string): readonly number[] {
    const i = this.index.get(name);
    return i === undefined ? [] : this.held[i]!;
  }

  /** How many partition replicas the named node holds. */
  loadOf(name: string): number {
    const i = this.index.get(name);
    return i === undefined ? 0 : this.loads[i]!;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  zoneOf(name: string): string | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.zones[i];
  }

  claimSeedOf(name: string): number | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.claimSeeds[i];
  }

  /**
   * Every member in the order a request for this partition should try them: the preference list
   * first, then the remaining members by descending claim score (the "next node along the ring").
   * Sloppy quorum walks it to find a stand-in for a preference-list node that is down.
   */
  walk(partition: number): readonly string[] {
    this.checkPartition(partition);
    let order = this.walks.get(partition);
    if (!order) {
      const n = this.members.length;
      order = Array.from(this.ranking.subarray(partition * n, (partition + 1) * n), (i) => this.members[i]!);
      this.walks.set(partition, order);
    }
    return order;
  }

  /**
   * The preference list extended past N: the first `count` members of `walk(partition)` that are
   * not in `skip`. For sloppy quorum, `extendedPreferenceList(p, { skip: down, count: N })` names
   * the N healthy nodes to write to; those beyond the preference list hold the write as a hint.
   */
  extendedPreferenceList(partition: number, options: WalkOptions = {}): readonly string[] {
    const { skip, count = Infinity } = options;
    const out: string[] = [];
    for (const name of this.walk(partition)) {
      if (out.length >= count) break;
      if (!skip?.has(name)) out.push(name);
    }
    return out;
  }

  private checkPartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new RangeError(`partition ${partition} is not in [0, ${this.partitions})`);
    }
  }
}

/**
 * Builds the ring for a member set. Deterministic: the same members (in any order), Q and N give
 * the same assignment and version on every node.
 */
export function buildRing(config: RingConfig): Ring {
  const partitions = config.partitions ?? DEFAULT_PARTITION_COUNT;
  const replicas = config.replicas ?? DEFAULT_REPLICAS;
  assertValidPartitionCount(partitions);
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RingConfigError(`replicas must be a positive integer, got ${replicas}`);
  }
  if (config.members.length === 0) throw new RingConfigError('a ring needs at least one member');
  for (const m of config.members) {
    if (typeof m.name !== 'string' || m.name.length === 0) throw new RingConfigError('member names must be non-empty strings');
    if (m.claimSeed !== undefined && !isClaimSeed(m.claimSeed)) {
      throw new RingConfigError(`member "${m.name}" has claim seed ${m.claimSeed}; it must be an integer in [0, ${CLAIM_SEEDS})`);
    }
  }
  // Sorted by UTF-16 code units, which is the same everywhere (unlike localeCompare).
  const members = config.members
    .map((m) => ({ name: m.name, zone: m.zone ?? DEFAULT_ZONE, claimSeed: m.claimSeed ?? 0 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < members.length; i++) {
    if (members[i - 1]!.name === members[i]!.name) throw new RingConfigError(`member "${members[i]!.name}" is listed twice`);
  }
  return new Ring(members, partitions, replicas);
}
