/**
 * Flush floors: per partition, the HLC version of the last FLUSHALL this node has heard of. The
 * floor says "every record of the partition at or below this version is deleted": a range
 * tombstone, one version per partition instead of one tombstone per key.
 *
 * Why: FLUSHALL deleted the keys it could list, and a key held only by an owner that was down
 * during the flush was never listed, so that owner's hints, sync and read repair spread it back when
 * it returned (test/sim/flush-down-owner.test.ts). A floor needs no listing: every replica that
 * learns it deletes what is older and refuses anything older from then on (PartitionReplica), and
 * it travels to live nodes with the flush (`fl`), to down ones as a hint (hinted-handoff.ts), and
 * with every sync round (`sq`/`sr`), so a returning owner learns it before any data is exchanged.
 * Floors only grow; a node keeps them in memory (docs/REPLICATION.md, "Flush floors").
 */
import { compareVersions, type Version } from './hlc.ts';

export class FlushFloors {
  private readonly floors: (Version | undefined)[];

  constructor(readonly partitions: number) {
    this.floors = new Array<Version | undefined>(partitions);
  }

  /** The partition's floor; the same object until it is raised, so callers can tell a change by identity. */
  of(partition: number): Version | undefined {
    return this.floors[partition];
  }

  /** Raises the partition's floor to `floor`; false when it is already at least that (or p is out of range). */
  raise(partition: number, floor: Version): boolean {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) return false;
    const held = this.floors[partition];
    if (held !== undefined && compareVersions(held, floor) >= 0) return false;
    this.floors[partition] = { wallMs: floor.wallMs, logical: floor.logical, node: floor.node };
    return true;
  }

  /** The floors of `partitions` that are set, flat as on the wire (see `flattenFloors`). */
  flat(partitions: Iterable<number>): number[] {
    const out: number[] = [];
    for (const p of partitions) {
      const floor = this.floors[p];
      if (floor !== undefined) out.push(p, floor.wallMs, floor.logical, floor.node);
    }
    return out;
  }
}

/** Floors on the wire: flat [partition, wallMs, logical, node, ...] (msgpack arrays of numbers). */
export function flattenFloors(floors: Iterable<readonly [number, Version]>): number[] {
  const out: number[] = [];
  for (const [p, v] of floors) out.push(p, v.wallMs, v.logical, v.node);
  return out;
}

/** The (partition, floor) pairs of a flat list; a trailing partial entry is ignored. */
export function unflattenFloors(flat: readonly number[]): [number, Version][] {
  const out: [number, Version][] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) out.push([flat[i]!, { wallMs: flat[i + 1]!, logical: flat[i + 2]!, node: flat[i + 3]! }]);
  return out;
}

/** Whether `version` is at or below `floor` (none: never), i.e. flushed. */
export function flushedBy(floor: Version | undefined, version: Version): boolean {
  return floor !== undefined && compareVersions(version, floor) <= 0;
}
