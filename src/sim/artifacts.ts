/**
 * Artifacts of a run (`shoal sim --artifacts DIR`): a self-contained HTML page (inline CSS and
 * SVG, no network) showing the operations of every client over time with their outcomes, the
 * fault schedule as bands, every node's ring version and view of membership, a latency plot, and
 * the violation marked with the operations on its key that led to it; plus the raw history as JSONL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Violation } from './checkers.ts';
import type { RunReport } from './driver.ts';
import type { FaultAction, TimedFault } from './faults.ts';
import type { RunTimeline } from './scenario.ts';
import type { Op } from './scenarios/kv-workload.ts';
import type { RmwOpRecord } from './scenarios/kv-rmw.ts';

/** An operation on the page: kv's reads and writes, or kv-rmw's read-modify-writes. */
type PageOp = Op | RmwOpRecord;

const WIDTH = 1200;
const LEFT = 70;
const ROW = 16;

/** Writes `<scenario>-<seed>.html` and `.jsonl` into `dir`; returns the page's path. */
export function writeArtifacts(dir: string, report: RunReport, timeline: RunTimeline): string {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${report.scenario}-${report.seed}`);
  writeFileSync(`${base}.jsonl`, historyLines(report, timeline).join('\n') + '\n');
  writeFileSync(`${base}.html`, page(report, timeline));
  return `${base}.html`;
}

function historyLines(report: RunReport, t: RunTimeline): string[] {
  return [
    JSON.stringify({ type: 'run', scenario: report.scenario, seed: report.seed, options: report.options, digest: report.digest, replay: report.replay }),
    ...t.faults.map((f) => JSON.stringify({ type: 'fault', ...f })),
    ...t.ops.map((op) => JSON.stringify({ type: 'op', ...op })),
    ...t.samples.map((s) => JSON.stringify({ type: 'sample', ...s })),
    ...report.violations.map((v) => JSON.stringify({ type: 'violation', ...v })),
  ];
}

/** The key a violation is about, when its message names one (kv: `... of k12 ...`, `wrote k3`; kv-rmw: `lost-increments: ctr2: ...`). */
export function violationKey(v: Violation | undefined): string | null {
  if (!v) return null;
  const match = /\b(?:of|wrote) (k\d+)\b/.exec(v.message) ?? /^[\w-]+: ((?:ctr|str|nx)\d+): /.exec(v.message);
  return match?.[1] ?? null;
}

function page(report: RunReport, t: RunTimeline): string {
  const violation = report.violations[0];
  const endMs = Math.max(1, ...t.samples.map((s) => s.atMs), ...t.ops.map((o) => o.endMs ?? o.startMs));
  const x = (ms: number) => LEFT + ((WIDTH - LEFT - 10) * ms) / endMs;
  const key = violationKey(violation);
  const nodes = t.samples[0]?.nodes.length ?? 0;
  // Chart rows by client index (a shrunk plan may keep client 2 alone); the summary counts the clients that ran.
  const clients = Math.max(0, ...t.ops.map((o) => o.client + 1));
  const clientsWithOps = new Set(t.ops.map((o) => o.client)).size;
  const sections = [
    section('Operations per client', 'ops', opsChart(t, clients, x, endMs, key, violation)),
    section('Faults', 'faults', faultsChart(t.faults, nodes, x, endMs, violation)),
    section('Membership and ring versions per node', 'membership', membershipChart(t, nodes, x, endMs, violation)),
    section('Latency', 'latency', latencyChart(t.ops, x, endMs, violation)),
  ];
  const verdict = violation ? `FAIL: [${esc(violation.checker)} at ${(violation.atMs / 1000).toFixed(3)}s] ${esc(violation.message)}` : 'PASS';
  const leading = key ? t.ops.filter((o) => o.key === key && o.startMs <= (violation?.atMs ?? endMs)).slice(-15) : [];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shoal sim ${esc(report.scenario)} seed ${report.seed}</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin:18px 0 4px}
.verdict{padding:6px 10px;border-radius:4px;background:${violation ? '#fde2e1' : '#e3f6e5'}}
code{background:#f3f3f3;padding:2px 4px}
svg{border:1px solid #ddd;background:#fff}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
.legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>shoal sim: ${esc(report.scenario)}, seed ${report.seed}</h1>
<p class="verdict" id="verdict">${verdict}</p>
<p>Replay: <code id="replay">${esc(report.replay)}</code></p>
<p>${t.ops.length} operations from ${clientsWithOps} client${clientsWithOps === 1 ? '' : 's'} on ${nodes} nodes, ${t.faults.length} faults, ${(endMs / 1000).toFixed(1)}s simulated; digest ${esc(report.digest)}.</p>
<p class="legend">${legend()}</p>
${sections.join('\n')}
${key ? `<h2>Operations on ${esc(key)} that led to the violation</h2>\n${opsTable(leading)}` : ''}
</body></html>
`;
}

const OUTCOME_COLOR: Record<string, string> = { acked: '#2e9e4f', ok: '#3b7dd8', failed: '#d9534f', unknown: '#999', pending: '#ccc' };
const FAULT_COLOR: Record<string, string> = { crash: '#d9534f', pause: '#f0ad4e', slow: '#e7c35a', isolate: '#8e6bbf', split: '#6f42c1', asymmetric: '#b084e0', clog: '#5bc0de' };

function legend(): string {
  const item = (color: string, label: string) => `<span><i class="sw" style="background:${color}"></i>${label}</span>`;
  return [item(OUTCOME_COLOR.acked!, 'write acknowledged'), item(OUTCOME_COLOR.ok!, 'read ok'), item(OUTCOME_COLOR.failed!, 'failed'), item(OUTCOME_COLOR.unknown!, 'timed out'), item('#000', 'on the violation\'s key'), item('#d00', 'violation')].join('');
}

function section(title: string, id: string, svg: string): string {
  return `<h2>${title}</h2>\n<div id="${id}">${svg}</div>`;
}

function svg(height: number, body: string[], x: (ms: number) => number, endMs: number, violation: Violation | undefined): string {
  const ticks: string[] = [];
  const step = niceStep(endMs / 10);
  for (let ms = 0; ms <= endMs; ms += step) ticks.push(`<line x1="${x(ms)}" x2="${x(ms)}" y1="0" y2="${height - 14}" stroke="#eee"/><text x="${x(ms)}" y="${height - 2}" font-size="10" text-anchor="middle">${ms / 1000}s</text>`);
  const mark = violation ? `<line class="violation" x1="${x(violation.atMs)}" x2="${x(violation.atMs)}" y1="0" y2="${height - 14}" stroke="#d00" stroke-width="2"><title>${esc(violation.message)}</title></line>` : '';
  return `<svg width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">${ticks.join('')}${body.join('')}${mark}</svg>`;
}

function opsChart(t: RunTimeline, clients: number, x: (ms: number) => number, endMs: number, key: string | null, violation: Violation | undefined): string {
  const body: string[] = [];
  for (let c = 0; c < clients; c++) body.push(`<text x="4" y="${c * ROW + 12}" font-size="11">client ${c}</text>`);
  for (const op of t.ops) {
    const x0 = x(op.startMs);
    const w = Math.max(1, x(op.endMs ?? endMs) - x0);
    const onKey = key !== null && op.key === key;
    const how = op.kind === 'rmw' ? `${op.op} ${op.key} via n${op.coordinator + 1} (${op.attempts} attempt${op.attempts === 1 ? '' : 's'})` : `${op.kind} ${op.key} via n${op.coordinator + 1} (${op.consistency})`;
    const label = `${how} ${op.startMs.toFixed(1)}-${op.endMs?.toFixed(1) ?? '?'}ms: ${op.outcome}`;
    body.push(`<rect class="op" x="${x0.toFixed(1)}" y="${op.client * ROW + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${OUTCOME_COLOR[op.outcome]}"${onKey ? ' stroke="#000" stroke-width="1.5"' : ''}><title>${esc(label)}</title></rect>`);
  }
  return svg(clients * ROW + 18, body, x, endMs, violation);
}

function faultsChart(faults: readonly TimedFault[], nodes: number, x: (ms: number) => number, endMs: number, violation: Violation | undefined): string {
  const body: string[] = [];
  for (let n = 0; n < nodes; n++) body.push(`<text x="4" y="${n * ROW + 12}" font-size="11">n${n + 1}</text>`);
  for (const f of faults) {
    const a = f.action;
    const until = Math.min(endMs, f.atMs + durationOf(a));
    for (const n of nodesOf(a)) {
      body.push(`<rect class="fault" x="${x(f.atMs).toFixed(1)}" y="${n * ROW + 2}" width="${Math.max(2, x(until) - x(f.atMs)).toFixed(1)}" height="${ROW - 4}" fill="${FAULT_COLOR[a.kind] ?? '#888'}" opacity="0.7"><title>${esc(`${f.atMs}ms ${JSON.stringify(a)}`)}</title></rect>`);
    }
  }
  return svg(nodes * ROW + 18, body, x, endMs, violation);
}

function membershipChart(t: RunTimeline, nodes: number, x: (ms: number) => number, endMs: number, violation: Violation | undefined): string {
  const body: string[] = [];
  const rings = [...new Set(t.samples.flatMap((s) => s.nodes.map((n) => n.ring)).filter((r): r is string => r !== null))];
  const palette = ['#cfe3f7', '#f7dccf', '#d5f0d0', '#eadcf5', '#f5f0c8', '#d0eeee'];
  for (let n = 0; n < nodes; n++) {
    body.push(`<text x="4" y="${n * ROW + 12}" font-size="11">n${n + 1}</text>`);
    for (let i = 0; i < t.samples.length; i++) {
      const s = t.samples[i]!;
      const next = t.samples[i + 1]?.atMs ?? endMs;
      const state = s.nodes[n]!;
      const fill = state.up && state.ring !== null ? palette[rings.indexOf(state.ring) % palette.length] : '#555';
      const label = state.up ? `n${n + 1} at ${s.atMs}ms: ring ${state.ring ?? 'none'}, sees ${state.alive} alive` : `n${n + 1} down at ${s.atMs}ms`;
      body.push(`<rect class="sample" x="${x(s.atMs).toFixed(1)}" y="${n * ROW + 2}" width="${Math.max(1, x(next) - x(s.atMs)).toFixed(1)}" height="${ROW - 4}" fill="${fill}"><title>${esc(label)}</title></rect>`);
    }
  }
  return svg(nodes * ROW + 18, body, x, endMs, violation);
}

function latencyChart(ops: readonly PageOp[], x: (ms: number) => number, endMs: number, violation: Violation | undefined): string {
  const height = 160;
  const done = ops.filter((o) => o.endMs !== null);
  const max = Math.max(1, ...done.map((o) => o.endMs! - o.startMs));
  const y = (ms: number) => height - 16 - ((height - 24) * Math.log1p(ms)) / Math.log1p(max);
  const body = [`<text x="4" y="12" font-size="10">${max.toFixed(0)}ms</text><text x="4" y="${height - 18}" font-size="10">0ms (log)</text>`];
  for (const o of done) body.push(`<circle class="lat" cx="${x(o.startMs).toFixed(1)}" cy="${y(o.endMs! - o.startMs).toFixed(1)}" r="1.6" fill="${OUTCOME_COLOR[o.outcome]}"/>`);
  return svg(height, body, x, endMs, violation);
}

function opsTable(ops: readonly PageOp[]): string {
  const rows = ops.map((o) => {
    const [level, operation, version] = o.kind === 'rmw' ? rmwCells(o) : kvCells(o);
    return `<tr><td>${o.startMs.toFixed(1)}</td><td>${o.endMs?.toFixed(1) ?? ''}</td><td>client ${o.client}</td><td>n${o.coordinator + 1}</td><td>${level}</td><td>${esc(operation)}</td><td>${o.outcome}</td><td>${esc(version)}</td></tr>`;
  });
  return `<table id="leading"><tr><th>start ms</th><th>end ms</th><th>client</th><th>via</th><th>level or attempts</th><th>operation</th><th>outcome</th><th>version or request id</th></tr>${rows.join('')}</table>`;
}

/** A kv operation's level, what it did, and the version it wrote or read. */
function kvCells(o: Op): [string, string, string] {
  const value = o.kind === 'write' ? (o.value === null ? 'delete' : `set ${o.value}${o.sloppy ? ' (sloppy)' : ''}`) : `get → ${o.value ?? 'nil'}`;
  return [o.consistency, value, o.version ? `${o.version.wallMs}.${o.version.logical}@${o.version.node.toString(16)}` : ''];
}

/** A read-modify-write's attempts (it has no level), the command and its answer, and its request id. */
function rmwCells(o: RmwOpRecord): [string, string, string] {
  const command = { incr: 'INCRBY 1', append: `APPEND |${o.value}`, setnx: `SETNX ${o.value}` }[o.op];
  return [`${o.attempts} attempt${o.attempts === 1 ? '' : 's'}`, `${command}${o.result === null ? '' : ` → ${o.result}`}`, o.requestId];
}

function durationOf(a: FaultAction): number {
  if (a.kind === 'crash') return a.restartAfterMs;
  return 'forMs' in a ? a.forMs : 0;
}

function nodesOf(a: FaultAction): number[] {
  if ('node' in a) return [a.node];
  if (a.kind === 'split') return a.minority;
  if (a.kind === 'asymmetric') return [...a.from, ...a.to];
  return [a.from, a.to];
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
