/**
 * One partition replica on this node, and the only code that touches that partition's data.
 * It applies records last-writer-wins, answers reads, keeps the (key -> version) index and the
 * order-independent digest that anti-entropy compares, and tracks its catch-up state:
 *
 * - `ready` is false after a (re)start or after the ring gave this node the partition, until it has
 *   synced from every source that may hold acknowledged writes (the other owners, the previous
 *   owners). A replica that is not ready still takes writes, but its read answers do not count
 *   towards R: an empty restarted replica must not outvote the replicas that have the data
 *   (olric#225).
 */
import type { ReplicaBackend } from './backend.ts';
import { hashPair, murmur3String } from '../ring/hash.ts';
import { compareVersions, type Version } from './hlc.ts';
import { decodeRecord, encodeRecord, type StoredRecord } from './record.ts';

const DIGEST_SEED = 0x6469_6773; // "digs"

/** The digest contribution of one (key, version): XOR-combined, so order does not matter. */
export function entryHash(key: string, v: Version): number {
  const wallLow = v.wallMs % 4294967296;
  const wallHigh = Math.floor(v.wallMs / 4294967296);
  return hashPair(hashPair(murmur3String(key, DIGEST_SEED), wallLow, v.logical), wallHigh ^ v.node, DIGEST_SEED);
}

export type ApplyOutcome = 'applied' | 'stale' | 'refused';

export class PartitionActor {
  /** XOR of entryHash over every (key, version) held; equal digests mean equal contents. */
  digest = 0;
  private readonly versions = new Map<string, Version>();
  /** Sources not yet synced from; the replica is ready when this is empty. */
  readonly pendingSources = new Set<string>();
  /** Counters for figures. */
  readonly counts = { applied: 0, stale: 0, refused: 0 };

  constructor(
    readonly partition: number,
    private readonly backend: ReplicaBackend,
  ) {}

  get ready(): boolean {
    return this.pendingSources.size === 0;
  }

  get size(): number {
    return this.versions.size;
  }

  /** Applies an encoded record if it is newer than what is held (LWW). */
  apply(key: string, bytes: Uint8Array): ApplyOutcome {
    const incoming = decodeRecord(bytes).version;
    const held = this.versions.get(key);
    if (held && compareVersions(held, incoming) >= 0) {
      this.counts.stale++;
      return 'stale';
    }
    if (!this.backend.set(this.partition, key, bytes)) {
      this.counts.refused++;
      return 'refused';
    }
    if (held) this.digest ^= entryHash(key, held);
    this.digest ^= entryHash(key, incoming);
    this.versions.set(key, incoming);
    this.counts.applied++;
    return 'applied';
  }

  /** The encoded record held for `key`, if any (tombstones and expired values included). */
  read(key: string): Uint8Array | null {
    return this.versions.has(key) ? (this.backend.get(this.partition, key) ?? null) : null;
  }

  versionOf(key: string): Version | undefined {
    return this.versions.get(key);
  }

  /** (key, version) pairs in insertion order. */
  entries(): IterableIterator<[string, Version]> {
    return this.versions.entries();
  }

  /**
   * Removes tombstones and expired values whose grace has passed (`graceMs` after the delete or
   * the expiry, by this node's wall clock). Returns how many were removed.
   */
  purge(nowWallMs: number, graceMs: number): number {
    let purged = 0;
    for (const [key, version] of this.versions) {
      const bytes = this.backend.get(this.partition, key);
      const record: StoredRecord | null = bytes ? decodeRecord(bytes) : null;
      const deadSince = record === null ? 0 : record.tombstone ? version.wallMs : record.expiresAtMs;
      if (record !== null && deadSince === 0) continue;
      if (record !== null && deadSince + graceMs > nowWallMs) continue;
      this.backend.delete(this.partition, key);
      this.digest ^= entryHash(key, version);
      this.versions.delete(key);
      purged++;
    }
    return purged;
  }

  /** Forgets every record (the partition was handed off). */
  drop(): void {
    this.backend.dropPartition(this.partition);
    this.versions.clear();
    this.digest = 0;
  }
}

/** Builds a record for a set or delete. */
export function makeRecord(version: Version, value: Uint8Array | null, expiresAtMs: number): Uint8Array {
  return encodeRecord({ version, value: value ?? new Uint8Array(0), tombstone: value === null, expiresAtMs });
}
