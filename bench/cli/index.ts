/**
 * How fast the `shoal` command is, as a user runs it: an idle node's start-up time (spawn to its
 * "ready" log line) and its RSS, and the wall time of `shoal status` against it, for the compiled
 * package (packages/server/bin/shoal.js, plain node) and for the source launcher the tests use
 * (bin/shoal.js, TypeScript through tsx: how the command ran before the packages were compiled).
 * A row for `npx shoal status` shows what npx adds. Bare `node -e ''` is timed too: on a loaded
 * machine every wall time grows with it. CPU times (user + system, from /proc and bash's `times`;
 * Linux) grow far less with load, so they estimate the wall times of an idle machine. Prints a
 * table and one JSON object; `--write` also saves bench/results/cli-<date>.json.
 *
 *   npm run bench:cli -- [--runs 10] [--starts 3] [--idle-ms 2000] [--only compiled,source,npx] [--write]
 *
 * `npm run bench:cli` builds first (an up-to-date build takes a few seconds: README.md, "Try it").
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../src/daemon/ports.ts';
import { benchArgs, namesFrom, positive } from '../help.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHERS = {
  compiled: { label: 'compiled (node packages/server/bin/shoal.js)', command: [process.execPath, `${ROOT}packages/server/bin/shoal.js`] },
  source: { label: 'source through tsx (node bin/shoal.js)', command: [process.execPath, `${ROOT}bin/shoal.js`] },
  npx: { label: 'npx shoal (workspace bin, compiled)', command: ['npx', '--no-install', 'shoal'] },
} as const;
type LauncherName = keyof typeof LAUNCHERS;

const flags = benchArgs('npm run bench:cli --', {
  runs: { kind: 'integer', description: 'calls of `shoal status` timed per launcher', default: 10, check: positive },
  starts: { kind: 'integer', description: 'node start-ups timed per launcher', default: 3, check: positive },
  'idle-ms': { kind: 'integer', description: 'idle time before the RSS of a started node is read', default: 2000, check: positive },
  only: { kind: 'string', description: 'comma-separated launchers to time (compiled, source, npx)', default: 'compiled,source,npx', check: namesFrom(Object.keys(LAUNCHERS)) },
  write: { kind: 'boolean', description: 'also save bench/results/cli-<date>.json' },
});

/** A node that never logs "ready" within this is broken, not slow (a bound on a hang only). */
const START_HANG_MS = 120_000;
const COMMAND_HANG_MS = 60_000;

const runs = Number(flags.runs);
const starts = Number(flags.starts);
const idleMs = Number(flags['idle-ms']);
const write = flags.write === true;
const only = String(flags.only).split(',') as LauncherName[];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Runs a command to completion under bash, whose `times` then prints the CPU time its children
 * used; resolves with the wall and CPU times, or rejects on a failure status.
 */
function timed(command: readonly string[], args: string[]): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const script = '"$@" >/dev/null; status=$?; times; exit $status';
    const child = spawn('bash', ['-c', script, 'bash', ...command, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_HANG_MS);
    child.on('exit', (status) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      if (status !== 0) return reject(new Error(`${[...command, ...args].join(' ')} exited with ${status}: ${stderr}`));
      // `times`: the shell's user and system time, then its children's: "0m0.412s 0m0.101s".
      const children = stdout.trim().split('\n').at(-1) ?? '';
      const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      if (seconds.length !== 2) return reject(new Error(`unexpected output of times: ${stdout}`));
      resolve({ wallMs, cpuMs: (seconds[0]! + seconds[1]!) * 1000 });
    });
  });
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU time a running process has used so far (/proc/PID/stat, fields 14 and 15). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

interface Started {
  startupMs: number;
  startupCpuMs: number;
  rssMiB: number;
  port: number;
  stop: () => Promise<void>;
}

/** Starts one idle node; resolves once it logs "ready", and after `idleMs` more reads its RSS. */
async function startNode(command: readonly string[], name: string): Promise<Started> {
  const [port, peerPort] = await freePorts(2);
  const t0 = performance.now();
  const child = spawn(command[0]!, [...command.slice(1), 'start', '--name', name, '--port', String(port), '--peer-port', String(peerPort), '--resp-port', '0', '--admin-port', '0', '--log-format', 'json', '--log-level', 'info'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let startupCpuMs = 0;
  const startupMs = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${name} logged no "ready" line within ${START_HANG_MS} ms; stderr: ${stderr}`)), START_HANG_MS);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      if (/"msg":"node [^"]* ready/.test(buffered)) {
        clearTimeout(timer);
        startupCpuMs = cpuMsOf(child.pid!);
        resolve(performance.now() - t0);
      }
    });
    child.on('exit', (status) => reject(new Error(`${name} exited with ${status} before it was ready: ${stderr}`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  child.stdout!.resume();
  await sleep(idleMs);
  return { startupMs, startupCpuMs, rssMiB: rssKiB(child.pid!) / 1024, port: port!, stop };
}

interface Summary {
  n: number;
  min: number;
  median: number;
  p90: number;
  max: number;
}
function summary(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { n: s.length, min: r(s[0]!), median: r(at(0.5)), p90: r(at(0.9)), max: r(s[s.length - 1]!) };
}

interface Row {
  launcher: LauncherName;
  label: string;
  startupMs: Summary | null;
  startupCpuMs: Summary | null;
  idleRssMiB: Summary | null;
  statusMs: Summary;
  statusCpuMs: Summary;
}

async function measure(name: LauncherName): Promise<Row> {
  const { label, command } = LAUNCHERS[name];
  process.stderr.write(`${label}...\n`);
  // npx starts the same compiled node as `compiled`; only its command-line cost differs.
  const nodeCommand = name === 'npx' ? LAUNCHERS.compiled.command : command;
  const startup: number[] = [];
  const startupCpu: number[] = [];
  const rss: number[] = [];
  const status: Timing[] = [];
  for (let i = 0; i < starts; i++) {
    const node = await startNode(nodeCommand, `bench-cli-${i}`);
    try {
      startup.push(node.startupMs);
      startupCpu.push(node.startupCpuMs);
      rss.push(node.rssMiB);
      if (i === 0) for (let r = 0; r < runs; r++) status.push(await timed(command, ['status', '--node', `127.0.0.1:${node.port}`]));
    } finally {
      await node.stop();
    }
  }
  const own = name !== 'npx';
  return {
    launcher: name,
    label,
    startupMs: own ? summary(startup) : null,
    startupCpuMs: own ? summary(startupCpu) : null,
    idleRssMiB: own ? summary(rss) : null,
    statusMs: summary(status.map((t) => t.wallMs)),
    statusCpuMs: summary(status.map((t) => t.cpuMs)),
  };
}

const baseline: Timing[] = [];
for (let r = 0; r < runs; r++) baseline.push(await timed([process.execPath], ['-e', '']));
const rows: Row[] = [];
for (const name of only) rows.push(await measure(name));

const cell = (s: Summary | null, digits = 0): string => (s === null ? '-' : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`);
const table = [
  ['launcher', 'node start-up ms', 'start-up CPU ms', 'idle node RSS MiB', 'shoal status ms', 'status CPU ms'],
  ...rows.map((r) => [r.label, cell(r.startupMs), cell(r.startupCpuMs), cell(r.idleRssMiB, 1), cell(r.statusMs), cell(r.statusCpuMs)]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
process.stdout.write(`\n${table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')}\n`);
const bare = { wallMs: summary(baseline.map((t) => t.wallMs)), cpuMs: summary(baseline.map((t) => t.cpuMs)) };
process.stdout.write(`median (min-max); bare \`node -e ''\`: ${cell(bare.wallMs)} ms, CPU ${cell(bare.cpuMs)} ms; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores\n`);

const result = { bench: 'cli', date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), runs, starts, idleMs, bareNodeMs: bare, rows };
process.stdout.write(`\n${JSON.stringify(result)}\n`);
if (write) {
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  const file = `${ROOT}bench/results/cli-${result.date.slice(0, 10)}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
}
