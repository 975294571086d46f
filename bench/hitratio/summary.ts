/**
 * Per (trace, size): every policy's hit ratio, the best online policy (OPT excluded) and the
 * default policy's distance to it and to LRU, against issue 19's targets. Shared by
 * `npm run bench:hitratio` and the CI test so both judge rows the same way.
 */
import type { ReplayResult } from '../../src/store/trace/replay.ts';

/** The default may trail the best online policy by at most this many points... */
export const MAX_DISTANCE_TO_BEST = 1;
/** ...and LRU by at most this many. */
export const MAX_DISTANCE_TO_LRU = 0.5;
export const DEFAULT_POLICY = 'wtinylfu';

export interface HitRatioCell extends ReplayResult {
  trace: string;
}

export interface SummaryRow {
  trace: string;
  size: number;
  half: string;
  requests: number;
  /** Hit ratio (%) per policy. */
  ratios: Record<string, number>;
  best: string;
  /** Best online hit ratio minus the default's (points; <= 0 means the default is best). */
  distance: number;
  /** LRU's hit ratio minus the default's. */
  behindLru: number;
  met: boolean;
}

export function summarize(cells: HitRatioCell[], halfOf: (trace: string) => string): SummaryRow[] {
  const groups = new Map<string, HitRatioCell[]>();
  for (const c of cells) {
    const key = `${c.trace}\u0000${c.size}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((group) => {
    const ratios: Record<string, number> = {};
    for (const c of group) ratios[c.policy] = c.hitRatio;
    let best = DEFAULT_POLICY;
    for (const c of group) if (c.policy !== 'opt' && c.hitRatio > (ratios[best] ?? -1)) best = c.policy;
    const own = ratios[DEFAULT_POLICY] ?? 0;
    const distance = (ratios[best] ?? 0) - own;
    const behindLru = (ratios.lru ?? 0) - own;
    return {
      trace: group[0]!.trace,
      size: group[0]!.size,
      half: halfOf(group[0]!.trace),
      requests: group[0]!.requests,
      ratios,
      best,
      distance,
      behindLru,
      met: distance <= MAX_DISTANCE_TO_BEST && behindLru <= MAX_DISTANCE_TO_LRU,
    };
  });
}

export function formatSummary(rows: SummaryRow[], policies: readonly string[]): string {
  const width = Math.max(18, ...rows.map((r) => `${r.trace} @ ${r.size}`.length));
  const header = `${'trace @ entries'.padEnd(width)} ${'half'.padEnd(8)} ${'requests'.padStart(10)} ${policies.map((p) => p.padStart(8)).join(' ')}  ${'best online'.padEnd(11)} ${'dist'.padStart(6)}  target`;
  const lines = rows.map((r) => {
    const cells = policies.map((p) => (r.ratios[p] === undefined ? '-' : r.ratios[p]!.toFixed(2)).padStart(8)).join(' ');
    return `${`${r.trace} @ ${r.size}`.padEnd(width)} ${r.half.padEnd(8)} ${String(r.requests).padStart(10)} ${cells}  ${r.best.padEnd(11)} ${r.distance.toFixed(2).padStart(6)}  ${r.met ? 'met' : 'MISS'}`;
  });
  return `hit ratio (%); dist = best online policy minus ${DEFAULT_POLICY} (points); target: dist <= ${MAX_DISTANCE_TO_BEST} and ${DEFAULT_POLICY} >= lru - ${MAX_DISTANCE_TO_LRU}\n${header}\n${lines.join('\n')}\n`;
}
