/**
 * The sloppy writes a coordinator acknowledged with a stand-in's ack counted in place of an
 * owner's (sloppy quorum, coordinator.ts). The stand-in keeps the record as a hint for that owner;
 * until it delivers it, the owner lacks a write whose write quorum it is counted in, so a read
 * quorum of owners can miss it even with R + W > N. That happens whenever the coordinator's view
 * of an owner lags: an owner back from a network partition, still taken for dead, is written
 * around and then read from (kv seed 10580: a sloppy ALL write through n1, then a ONE read through
 * n1 answered by that owner with the previous version).
 *
 * So the coordinator remembers, per key, the newest such record and the owners it stood in for,
 * merges it into every read of the key it coordinates (read-your-writes through one coordinator),
 * and read repair then hands it to the owners that answered older. An entry goes once each of
 * those owners answered a read with that version or newer, after the hint window (the stand-in's
 * hint is gone by then too), or, oldest first, to stay within the hint store's bounds.
 */
import { compareVersions, type Version } from './hlc.ts';

export interface StandInWrite {
  readonly version: Version;
  /** The encoded record (record.ts), as written. */
  readonly record: Uint8Array;
  /** Owners whose stand-in's ack counted and that have not been seen holding this version since. */
  readonly lacking: Set<string>;
  readonly atMs: number;
}

/** Bytes an entry is charged: its record, its key and a fixed allowance (as hints.ts charges hints). */
const ENTRY_OVERHEAD_BYTES = 64;

export class StandInWrites {
  /** Insertion order is age order: an entry replaced by a newer write moves to the end. */
  private readonly byKey = new Map<string, StandInWrite>();
  private bytesHeld = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly windowMs: number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Records a write acknowledged with stand-ins' acks for `owners`, unless a newer one is remembered. */
  remember(key: string, version: Version, record: Uint8Array, owners: Iterable<string>, nowMs: number): void {
    const held = this.byKey.get(key);
    if (held && compareVersions(held.version, version) >= 0) {
      for (const owner of owners) held.lacking.add(owner);
      return;
    }
    if (held) this.drop(key, held);
    const entry: StandInWrite = { version, record, lacking: new Set(owners), atMs: nowMs };
    this.byKey.set(key, entry);
    this.bytesHeld += cost(key, entry);
    this.trim(nowMs);
  }

  /** The remembered write for `key`, if some owner may still lack it. */
  get(key: string, nowMs: number): StandInWrite | undefined {
    const entry = this.byKey.get(key);
    if (entry && nowMs - entry.atMs > this.windowMs) {
      this.drop(key, entry);
      return undefined;
    }
    return entry;
  }

  /** `owner` answered a read of `key` with `version`: if not older than the entry, it no longer lacks it. */
  seen(key: string, owner: string, version: Version): void {
    const entry = this.byKey.get(key);
    if (!entry || !entry.lacking.has(owner) || compareVersions(version, entry.version) < 0) return;
    entry.lacking.delete(owner);
    if (entry.lacking.size === 0) this.drop(key, entry);
  }

  private trim(nowMs: number): void {
    for (const [key, entry] of this.byKey) {
      const over = this.byKey.size > this.maxEntries || this.bytesHeld > this.maxBytes;
      if (!over && nowMs - entry.atMs <= this.windowMs) break;
      this.drop(key, entry);
    }
  }

  private drop(key: string, entry: StandInWrite): void {
    this.byKey.delete(key);
    this.bytesHeld -= cost(key, entry);
  }
}

function cost(key: string, entry: StandInWrite): number {
  return entry.record.length + key.length + ENTRY_OVERHEAD_BYTES;
}
