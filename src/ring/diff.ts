/**
 * What changes between two rings: the input to ownership handoff.
 */
import type { Ring } from './ring.ts';

/** Thrown when two rings that cannot be compared (different Q) are diffed. */
export class IncompatibleRingsError extends Error {
  override readonly name = 'IncompatibleRingsError';
}

/** One partition whose holder set differs between two rings. */
export interface PartitionMove {
  readonly partition: number;
  /** Holders in the old ring that no longer hold it: they hand their data off. */
  readonly fromNodes: readonly string[];
  /** Holders in the new ring that did not hold it: they must receive its data. */
  readonly toNodes: readonly string[];
  /** The full old and new preference lists (any old holder still up can serve as a source). */
  readonly before: readonly string[];
  readonly after: readonly string[];
}

/**
 * The moves ownership handoff must perform to go from `before` to `after`, ascending by
 * partition. A partition whose holder set is unchanged is not a move, even if its primary changed
 * (primaries differ only in who coordinates first; every holder already has the data).
 */
export function diffRings(before: Ring, after: Ring): PartitionMove[] {
  if (before.partitions !== after.partitions) {
    throw new IncompatibleRingsError(
      `cannot diff rings with different partition counts (${before.partitions} and ${after.partitions})`,
    );
  }
  const moves: PartitionMove[] = [];
  for (let p = 0; p < before.partitions; p++) {
    const oldList = before.preferenceList(p);
    const newList = after.preferenceList(p);
    const fromNodes = oldList.filter((name) => !newList.includes(name));
    const toNodes = newList.filter((name) => !oldList.includes(name));
    if (fromNodes.length > 0 || toNodes.length > 0) {
      moves.push({ partition: p, fromNodes, toNodes, before: oldList, after: newList });
    }
  }
  return moves;
}
