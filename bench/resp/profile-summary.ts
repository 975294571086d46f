/**
 * Where a process spent its time, from a V8 CPU profile (`node --cpu-prof` writes one
 * .cpuprofile per process): the functions with the most self time (time on top of the stack),
 * one row per function (same name and source position) however many call paths reach it, with
 * V8's pseudo-frames kept as they are ("(garbage collector)", "(program)": native work outside
 * JavaScript such as socket I/O, "(idle)": waiting for work).
 *
 *   node --import tsx bench/resp/profile-summary.ts FILE.cpuprofile [--top 20]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchCommandLine, positive } from '../help.ts';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds between a sample and the one before it (the first: since startTime). */
  timeDeltas: number[];
}

export interface ProfileRow {
  function: string;
  /** Source file (relative to the repository when inside it) and line, or '' for pseudo-frames. */
  location: string;
  selfMs: number;
  /** Share of the profile's sampled time, in percent. */
  percent: number;
  /** Share of the busy time (everything but "(idle)"), in percent: where the work went. */
  percentOfBusy: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of the sampled time the process was busy (not "(idle)"), in percent. */
  busyPercent: number;
  top: ProfileRow[];
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function location(frame: CpuProfileNode['callFrame']): string {
  if (!frame.url) return '';
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const short = path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  // lineNumber is 0-based in the profile; editors count from 1.
  return `${short}:${frame.lineNumber + 1}`;
}

export function summariseProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byNode = new Map<number, CpuProfileNode>(profile.nodes.map((n) => [n.id, n]));
  // A sample's time is the delta to the next sample (V8's own convention in DevTools).
  const selfUs = new Map<string, { fn: string; location: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byNode.get(profile.samples[i]!);
    if (!node || us <= 0) continue;
    const fn = node.callFrame.functionName || '(anonymous)';
    const where = location(node.callFrame);
    const key = `${fn}\u0000${where}`;
    const entry = selfUs.get(key) ?? { fn, location: where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
    totalUs += us;
    if (fn === '(idle)') idleUs += us;
  }
  const rows = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      function: e.fn,
      location: e.location,
      selfMs: Math.round(e.us / 100) / 10,
      percent: Math.round((1000 * e.us) / Math.max(1, totalUs)) / 10,
      percentOfBusy: e.fn === '(idle)' ? 0 : Math.round((1000 * e.us) / Math.max(1, totalUs - idleUs)) / 10,
    }));
  return { totalMs: Math.round(totalUs / 1000), busyPercent: Math.round((1000 * (totalUs - idleUs)) / Math.max(1, totalUs)) / 10, top: rows };
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [`sampled ${summary.totalMs} ms, busy ${summary.busyPercent}%`, `${'self ms'.padStart(9)} ${'%'.padStart(5)} ${'% busy'.padStart(6)}  function (location)`];
  for (const row of summary.top) {
    const busy = row.function === '(idle)' ? '' : row.percentOfBusy.toFixed(1);
    lines.push(`${row.selfMs.toFixed(1).padStart(9)} ${row.percent.toFixed(1).padStart(5)} ${busy.padStart(6)}  ${row.function}${row.location ? ` (${row.location})` : ''}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { flags, positionals } = benchCommandLine(
    'node --import tsx bench/resp/profile-summary.ts',
    { top: { kind: 'integer', value: '20', description: 'rows: the functions with the most self time', default: 20, check: positive } },
    [{ name: 'FILE.cpuprofile', description: 'a V8 CPU profile, as node --cpu-prof writes' }],
  );
  process.stdout.write(`${formatProfile(summariseProfile(readProfile(positionals[0]!), Number(flags.top)))}\n`);
}
