/**
 * Per (trace, size): every policy's hit ratio, the best online policy (OPT excluded) and the
 * default policy's distance to it and to LRU, against issue 19's targets; on rows where a node
 * sizes its store differently (the `node` column), the same for the default as a node runs it.
 * Shared by `npm run bench:hitratio` and the CI test so both judge rows the same way.
 */
import { GUESSED_ENTRIES_CAP, GUESSED_ENTRY_BYTES } from '../../src/store/store.ts';
import type { ReplayPolicy, ReplayResult } from '../../src/store/trace/replay.ts';

/** The default may trail the best online policy by at most this many points... */
export const MAX_DISTANCE_TO_BEST = 1;
/** ...and LRU by at most this many. */
export const MAX_DISTANCE_TO_LRU = 0.5;
export const DEFAULT_POLICY = 'wtinylfu';
/**
 * The default policy through the real `Store` sized by bytes, as a node sizes it
 * (src/store/trace/store-replay.ts). Not a policy of its own: never the best online policy.
 */
export const NODE_COLUMN = 'node';

export interface HitRatioCell extends Omit<ReplayResult, 'policy'> {
  trace: string;
  policy: ReplayPolicy | typeof NODE_COLUMN;
}

/** A hit ratio against the row's best online policy and LRU. */
export interface Verdict {
  /** Best online hit ratio minus this one (points; <= 0 means it is the best). */
  distance: number;
  /** LRU's hit ratio minus this one. */
  behindLru: number;
  met: boolean;
}

export interface SummaryRow extends Verdict {
  trace: string;
  size: number;
  half: string;
  requests: number;
  /** Hit ratio (%) per policy, each sized by entries. */
  ratios: Record<string, number>;
  best: string;
  /** The default as a node runs it, on rows where that differs (NODE_COLUMN); judged like the default. */
  node?: Verdict & { hitRatio: number };
}

function judge(own: number, best: number, lru: number): Verdict {
  const distance = best - own;
  const behindLru = lru - own;
  return { distance, behindLru, met: distance <= MAX_DISTANCE_TO_BEST && behindLru <= MAX_DISTANCE_TO_LRU };
}

export function summarize(cells: HitRatioCell[], halfOf: (trace: string) => string): SummaryRow[] {
  const groups = new Map<string, HitRatioCell[]>();
  for (const c of cells) {
    const key = `${c.trace}\u0000${c.size}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((group) => {
    const ratios: Record<string, number> = {};
    let node: number | undefined;
    for (const c of group) {
      if (c.policy === NODE_COLUMN) node = c.hitRatio;
      else ratios[c.policy] = c.hitRatio;
    }
    let best = DEFAULT_POLICY;
    for (const c of group) if (c.policy !== 'opt' && c.policy !== NODE_COLUMN && c.hitRatio > (ratios[best] ?? -1)) best = c.policy;
    const bestRatio = ratios[best] ?? 0;
    const lru = ratios.lru ?? 0;
    return {
      trace: group[0]!.trace,
      size: group[0]!.size,
      half: halfOf(group[0]!.trace),
      requests: group[0]!.requests,
      ratios,
      best,
      ...judge(ratios[DEFAULT_POLICY] ?? 0, bestRatio, lru),
      ...(node === undefined ? {} : { node: { hitRatio: node, ...judge(node, bestRatio, lru) } }),
    };
  });
}

/** Every missed target, as `trace @ size`, and `trace @ size (node)` for a node-sized miss. */
export function missedTargets(rows: SummaryRow[]): string[] {
  return rows.flatMap((r) => [...(r.met ? [] : [`${r.trace} @ ${r.size}`]), ...(r.node === undefined || r.node.met ? [] : [`${r.trace} @ ${r.size} (${NODE_COLUMN})`])]);
}

export function formatSummary(rows: SummaryRow[], policies: readonly string[]): string {
  const width = Math.max(18, ...rows.map((r) => `${r.trace} @ ${r.size}`.length));
  const withNode = rows.some((r) => r.node !== undefined);
  const nodeHeader = withNode ? `  ${NODE_COLUMN.padStart(8)} ${'dist'.padStart(6)}  target` : '';
  const header = `${'trace @ entries'.padEnd(width)} ${'half'.padEnd(8)} ${'requests'.padStart(10)} ${policies.map((p) => p.padStart(8)).join(' ')}  ${'best online'.padEnd(11)} ${'dist'.padStart(6)}  target${nodeHeader}`;
  const lines = rows.map((r) => {
    const cells = policies.map((p) => (r.ratios[p] === undefined ? '-' : r.ratios[p]!.toFixed(2)).padStart(8)).join(' ');
    const node = !withNode ? '' : r.node === undefined ? `  ${'-'.padStart(8)}` : `  ${r.node.hitRatio.toFixed(2).padStart(8)} ${r.node.distance.toFixed(2).padStart(6)}  ${r.node.met ? 'met' : 'MISS'}`;
    return `${`${r.trace} @ ${r.size}`.padEnd(width)} ${r.half.padEnd(8)} ${String(r.requests).padStart(10)} ${cells}  ${r.best.padEnd(11)} ${r.distance.toFixed(2).padStart(6)}  ${r.met ? 'met' : 'MISS'}${node}`;
  });
  const B = GUESSED_ENTRY_BYTES;
  const cap = GUESSED_ENTRIES_CAP.toLocaleString('en-US');
  const nodeNote = withNode
    ? `\n${NODE_COLUMN} = ${DEFAULT_POLICY} as a node runs it: the real Store sized by bytes (maxMemory = entries x ${B} B, every entry ${B} B), ` +
      `on rows over ${cap} entries, where a node's guess of its entries (an entry per ${B} B, at most ${cap}) is capped and builds another policy; ` +
      `its dist and target against the same best online policy and LRU ('-': a node builds the entry-sized policy)`
    : '';
  return `hit ratio (%); dist = best online policy minus ${DEFAULT_POLICY} (points); target: dist <= ${MAX_DISTANCE_TO_BEST} and ${DEFAULT_POLICY} >= lru - ${MAX_DISTANCE_TO_LRU}${nodeNote}\n${header}\n${lines.join('\n')}\n`;
}
