/**
 * Rare-path coverage across a sweep: in how many seeds each rare path of src/runtime/probes.ts
 * ran, and how often in all. `shoal sim --seeds A..B` prints the table; the CI gate
 * (test/sim/coverage-gate.test.ts) fails when a listed path ran in fewer seeds than it requires.
 */
import { RARE_PATHS, type RarePath } from '../runtime/probes.ts';

export interface CoverageRow {
  path: RarePath;
  /** Seeds in which the path ran at least once. */
  seeds: number;
  /** Times it ran, over every seed. */
  hits: number;
}

export class CoverageTally {
  private readonly seedsHit = new Map<RarePath, number>();
  private readonly hits = new Map<RarePath, number>();
  runs = 0;

  /** Adds one run's counts (a RunReport's `coverage`). */
  add(coverage: Readonly<Record<string, number>>): void {
    this.runs++;
    for (const path of RARE_PATHS) {
      const n = coverage[path] ?? 0;
      if (n === 0) continue;
      this.seedsHit.set(path, (this.seedsHit.get(path) ?? 0) + 1);
      this.hits.set(path, (this.hits.get(path) ?? 0) + n);
    }
  }

  rows(): CoverageRow[] {
    return RARE_PATHS.map((path) => ({ path, seeds: this.seedsHit.get(path) ?? 0, hits: this.hits.get(path) ?? 0 }));
  }

  /** Paths that ran in fewer seeds than `required` asks, with what they got. */
  shortfalls(required: Partial<Record<RarePath, number>>): { path: RarePath; seeds: number; required: number }[] {
    return this.rows()
      .filter((r) => r.seeds < (required[r.path] ?? 0))
      .map((r) => ({ path: r.path, seeds: r.seeds, required: required[r.path]! }));
  }

  format(): string {
    const lines = this.rows().map((r) => `  ${r.path.padEnd(24)} ${String(r.seeds).padStart(6)} of ${this.runs} seeds ${String(r.hits).padStart(9)} times`);
    return `rare paths reached:\n${lines.join('\n')}\n`;
  }
}
