/**
 * `npm run bench:hitratio`: every trace of ../shared/traces at each of its sizes (reference.ts),
 * through every policy of the trace tool, on parallel worker threads. Prints per (trace, size) the
 * hit ratio of each policy, the best online policy (OPT excluded) and the default's distance to it,
 * and whether issue 19's targets hold; with --json, one JSON object per row as well. Every policy is
 * sized by entries; where a node, which sizes its store by bytes, builds another default policy
 * (`sizingsDiffer`: over 65,536 entries), the row also has the default as a node runs it (the
 * `node` column, judged by the same targets).
 *
 *   node --import tsx bench/hitratio/all.ts [--json] [--workers N] [--traces gli,P6] [--half tuning|held-out] [--fresh | --blind]
 *
 * --fresh runs each trace's `freshSizes` (reference.ts) instead of its `sizes`; --blind its
 * `blindSizes`, kept for a change's final check (run them once, when the change is final).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { loadTrace } from '../../src/cli/bench.ts';
import { REPLAY_POLICIES } from '../../src/store/trace/replay.ts';
import type { ReplayPolicy } from '../../src/store/trace/replay.ts';
import { sizingsDiffer } from '../../src/store/trace/store-replay.ts';
import { BENCH_TRACES, TRACES_DIR, tracePath } from './reference.ts';
import { DEFAULT_POLICY, NODE_COLUMN, formatSummary, missedTargets, summarize } from './summary.ts';
import type { HitRatioCell } from './summary.ts';
import type { TaskMessage } from './worker.ts';
import { benchArgs, namesFrom, positive } from '../help.ts';

const flags = benchArgs('npm run bench:hitratio --', {
  json: { kind: 'boolean', description: 'also print one JSON object per row' },
  workers: { kind: 'integer', value: 'N', description: 'worker threads', default: availableParallelism(), check: positive },
  traces: { kind: 'string', value: 'gli,P6', description: 'comma-separated traces to replay. Default: all', check: namesFrom(BENCH_TRACES.map((t) => t.trace)) },
  policies: { kind: 'string', value: 'NAME,...', description: 'comma-separated policies to replay. Default: all', check: namesFrom(REPLAY_POLICIES) },
  half: { kind: 'string', value: 'tuning|held-out', description: 'only the traces of one half', check: (v) => (v === 'tuning' || v === 'held-out' ? undefined : `takes tuning or held-out, not "${String(v)}"`) },
  fresh: { kind: 'boolean', description: "each trace's freshSizes instead of its sizes" },
  blind: { kind: 'boolean', description: "each trace's blindSizes, for a change's final check" },
}, (given) => (given.fresh === true && given.blind === true ? '--fresh and --blind are two different sets of sizes: give one' : undefined));
const json = flags.json === true;
const workerCount = Number(flags.workers);
// As namesFrom read them: `gli, P6` names P6.
const names = (list: unknown): string[] | undefined => (list === undefined ? undefined : String(list).split(',').map((s) => s.trim()).filter((s) => s !== ''));
const only = names(flags.traces);
const half = flags.half as string | undefined;
const fresh = flags.fresh === true;
const blind = flags.blind === true;
const sizesOf = (t: (typeof BENCH_TRACES)[number]) => (blind ? t.blindSizes : fresh ? t.freshSizes : t.sizes);
const policies = (names(flags.policies) ?? REPLAY_POLICIES) as ReplayPolicy[];
if (!existsSync(TRACES_DIR)) {
  process.stderr.write(`no traces at ${TRACES_DIR}; see ../shared/traces/README.md\n`);
  process.exit(2);
}
const traces = BENCH_TRACES.filter((t) => (only === undefined || only.includes(t.trace)) && (half === undefined || t.half === half) && sizesOf(t).length > 0);
const started = performance.now();
// Node 20 does not pass --import on to worker threads, so each worker registers tsx itself first.
const WORKER_SOURCE = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)});`;
const workers = Array.from({ length: workerCount }, () => new Worker(WORKER_SOURCE, { eval: true, type: 'module' } as never));
const cells: HitRatioCell[] = [];
const queue: TaskMessage[] = [];
let pending = 0;
const idle = [...workers];
let finish: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
let parsing = true;

function dispatch(): void {
  while (idle.length > 0 && queue.length > 0) idle.pop()!.postMessage(queue.shift()!);
  if (!parsing && pending === 0) finish();
}
for (const worker of workers) {
  worker.on('message', (cell: HitRatioCell & { ms: number }) => {
    cells.push(cell);
    pending--;
    process.stderr.write(`  ${cell.trace} @ ${cell.size} ${cell.policy}: ${cell.hitRatio.toFixed(2)}% in ${(cell.ms / 1000).toFixed(1)} s\n`);
    idle.push(worker);
    dispatch();
  });
  worker.on('error', (e) => {
    process.stderr.write(`worker failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
// Largest traces first, so their long replays start while the small ones are parsed.
const bySize = [...traces].reverse();
for (const t of bySize) {
  const parsed = loadTrace(tracePath(t), t.format);
  const shared = new Int32Array(new SharedArrayBuffer(parsed.ids.byteLength));
  shared.set(parsed.ids);
  for (const w of workers) w.postMessage({ kind: 'trace', name: t.trace, ids: shared, uniqueKeys: parsed.uniqueKeys });
  // The costliest first within a trace: the node column (the whole Store), then the default (it simulates extra caches).
  const order = [...policies].sort((a, b) => Number(b === DEFAULT_POLICY) - Number(a === DEFAULT_POLICY));
  for (const size of sizesOf(t)) {
    const columns: TaskMessage['policy'][] = policies.includes(DEFAULT_POLICY) && sizingsDiffer(size) ? [NODE_COLUMN, ...order] : order;
    for (const policy of columns) queue.push({ kind: 'task', trace: t.trace, size, policy });
    pending += columns.length;
  }
  dispatch();
}
parsing = false;
dispatch();
await finished;
await Promise.all(workers.map((w) => w.terminate()));
const seconds = (performance.now() - started) / 1000;
const order = (c: HitRatioCell): number => BENCH_TRACES.findIndex((t) => t.trace === c.trace) * 1e9 + c.size;
cells.sort((a, b) => order(a) - order(b));
const rows = summarize(cells, (name) => BENCH_TRACES.find((t) => t.trace === name)!.half);
if (json) process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
process.stdout.write(formatSummary(rows, policies));
const missed = missedTargets(rows);
process.stdout.write(
  `\n${rows.length} rows, ${cells.length} replays on ${workerCount} worker threads in ${seconds.toFixed(0)} s; ` +
    `${missed.length === 0 ? 'all targets met' : `${missed.length} target(s) missed: ${missed.join(', ')}`}\n`,
);
process.exitCode = missed.length === 0 ? 0 : 1;
