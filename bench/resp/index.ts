/**
 * Shoal's RESP port against redis-server, measured by the same redis-benchmark binary in one run
 * (issue 13, item 6). Targets: redis-server; one Shoal node (N=1); three nodes with N=1; three
 * nodes with N=3, W=2 (R=2). Tests SET, GET, INCR, MSET; 50 clients; pipelining 1 and 16;
 * 100-byte values over 100,000 keys. Then an open-loop generator (bench/resp/open-loop.ts, its own
 * process) at half of each single server's measured rate, and a CPU profile of one node of the
 * N=3 cluster summarised as its top self-time functions.
 *
 *   npm run bench:resp -- [--quick] [--only redis,shoal-1,shoal-1-tls,shoal-1-acl,shoal-1-tls-acl,shoal-3-n1,shoal-3-n3] [--no-open-loop]
 *
 * shoal-1-tls is shoal-1 with TLS on every port (throwaway certificates; redis-benchmark --tls);
 * shoal-1-acl is shoal-1 with the default user off and every client authenticated as a user with
 * a password and key patterns (`~key:* ~counter:*`, redis-benchmark --user -a); shoal-1-tls-acl
 * has both. These rows are measured by redis-benchmark only (the open-loop client speaks plain
 * TCP without AUTH), and compared with shoal-1 (issue 14: at most 15% below it), side by side:
 * their nodes run at once and take turns test by test (sideBySide):
 *
 *   npm run bench:resp -- --only shoal-1,shoal-1-tls,shoal-1-acl,shoal-1-tls-acl --no-open-loop
 *
 * `npm run bench:resp` builds first: Shoal runs from the compiled package, as users run it. A run
 * without --only writes bench/results/resp-<date>.json (resp-<date>-quick.json with --quick).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledShoalMissing, redisVersion, startRedis, startShoal, type Endpoint, type RunningServers } from './processes.ts';
import { runRedisBenchmark, type BenchmarkSettings, type TestResult } from './redis-benchmark.ts';
import type { OpenLoopResult } from './open-loop.ts';
import { formatProfile, readProfile, summariseProfile, type ProfileSummary } from './profile-summary.ts';
import { benchArgs, namesFrom } from '../help.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGETS = {
  redis: { label: 'redis-server', cluster: false },
  'shoal-1': { label: 'shoal 1 node N=1', cluster: false },
  'shoal-1-tls': { label: 'shoal 1 node N=1 TLS', cluster: false },
  'shoal-1-acl': { label: 'shoal 1 node N=1 ACL', cluster: false },
  'shoal-1-tls-acl': { label: 'shoal 1 node N=1 TLS+ACL', cluster: false },
  'shoal-3-n1': { label: 'shoal 3 nodes N=1', cluster: true },
  'shoal-3-n3': { label: 'shoal 3 nodes N=3 W=2', cluster: true },
} as const;
type TargetName = keyof typeof TARGETS;
/** The rows with TLS or ACLs on, compared with shoal-1 (the same node without them). */
const SECURED = ['shoal-1-tls', 'shoal-1-acl', 'shoal-1-tls-acl'] as const satisfies readonly TargetName[];
const TESTS = ['set', 'get', 'incr', 'mset'] as const;

/**
 * Groups of targets measured side by side: shoal-1 and its TLS and ACL rows have all their nodes up
 * at once and take turns test by test, so that a busy machine weighs on a row and the row it is
 * compared with alike (run one after the other, the load of a shared machine moved the ratios by
 * 2x and more). Every other target runs alone, in --only's order.
 */
function sideBySide(targets: readonly TargetName[]): TargetName[][] {
  const together: TargetName[] = targets.filter((t) => t === 'shoal-1' || (SECURED as readonly TargetName[]).includes(t));
  return targets.flatMap((t) => (!together.includes(t) ? [[t]] : t === together[0] ? [together] : []));
}
const PIPELINES = [1, 16] as const;

const flags = benchArgs('npm run bench:resp --', {
  quick: { kind: 'boolean', description: 'shorter tests (2 s instead of 5), written to resp-<date>-quick.json' },
  only: { kind: 'string', value: Object.keys(TARGETS).join(','), description: 'comma-separated targets to run, in this order; writes no JSON. Default: all', check: namesFrom(Object.keys(TARGETS)) },
  'no-open-loop': { kind: 'boolean', description: 'skip the open-loop latency rows' },
});
const quick = flags.quick === true;
const openLoop = !flags['no-open-loop'];
const only = String(flags.only ?? Object.keys(TARGETS).join(',')).split(',') as TargetName[];

/**
 * redis-benchmark stops after a count of requests, not a time, and Shoal's rates differ by two
 * orders of magnitude between tests (a replicated INCR against a GET). So each test runs first as
 * a short probe (10 requests per client per pipelined batch), and then, sized from the probe's
 * rate, for about SECONDS_PER_TEST (within bounds); the probe's own figures are discarded unless
 * the measured run would be hardly longer.
 */
const SECONDS_PER_TEST = quick ? 2 : 5;
const REQUESTS = { min: 2_000, max: 500_000 };
const CLIENTS = 50;
const OPEN_LOOP_SECONDS = quick ? 2 : 5;

interface Row {
  target: TargetName;
  pipeline: number;
  result: TestResult;
}

function preflight(): string {
  const missing = ['redis-benchmark', 'redis-server'].filter((bin) => spawnSync(bin, ['--version']).status !== 0);
  if (missing.length > 0) throw new Error(`${missing.join(' and ')} not found; install them with: sudo apt-get install -y redis-server redis-tools`);
  const notBuilt = only.some((t) => t !== 'redis') ? compiledShoalMissing() : null;
  if (notBuilt) throw new Error(notBuilt);
  return redisVersion() ?? 'unknown';
}

function start(target: TargetName, profileDir: string): Promise<RunningServers> {
  switch (target) {
    case 'redis':
      return startRedis();
    case 'shoal-1':
      return startShoal({ nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1 });
    case 'shoal-1-tls':
      return startShoal({ nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, tls: true });
    case 'shoal-1-acl':
      return startShoal({ nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, acl: true });
    case 'shoal-1-tls-acl':
      return startShoal({ nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, tls: true, acl: true });
    case 'shoal-3-n1':
      return startShoal({ nodes: 3, replicas: 1, readQuorum: 1, writeQuorum: 1 });
    case 'shoal-3-n3':
      return startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, cpuProfileDir: profileDir });
  }
}

function runOpenLoop(endpoint: Endpoint, rate: number): Promise<OpenLoopResult> {
  const script = fileURLToPath(new URL('./open-loop.ts', import.meta.url));
  const args = ['--import', 'tsx', script, '--host', endpoint.host, '--port', String(endpoint.port), '--rate', String(rate), '--seconds', String(OPEN_LOOP_SECONDS)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (status) => {
      if (status !== 0) return reject(new Error(`open-loop generator failed (${status}): ${stderr}`));
      resolve(JSON.parse(stdout) as OpenLoopResult);
    });
  });
}

const testName = (r: TestResult): string => r.test.split(' ')[0]!;

/**
 * The fewest requests of a run with ACLs: redis-benchmark's clock includes connecting, and a node's
 * first AUTH with a password costs a scrypt (tens of milliseconds of CPU; later logins with the same
 * password are remembered, src/security/verified-logins.ts), which a short run would mostly
 * measure. The rows measure the cost per request of an authenticated connection;
 * bench/resp/security-cost.ts measures the cost of connecting and AUTH itself.
 */
const ACL_MIN_REQUESTS = quick ? 20_000 : 50_000;

/** Runs one test for about SECONDS_PER_TEST, sized by a probe run. */
async function timedRun(endpoint: Endpoint, base: Omit<BenchmarkSettings, 'requests'>): Promise<TestResult[]> {
  const probeRequests = CLIENTS * 10 * base.pipeline;
  const probe = await runRedisBenchmark(endpoint, { ...base, requests: probeRequests });
  const rps = probe[0]!.rps;
  const least = endpoint.user === undefined ? REQUESTS.min : ACL_MIN_REQUESTS;
  const size = (rate: number): number => Math.min(REQUESTS.max, Math.max(least, Math.round(rate * SECONDS_PER_TEST)));
  const requests = size(rps);
  if (requests < probeRequests * 1.5) return probe;
  const run = await runRedisBenchmark(endpoint, { ...base, requests });
  // A probe that mostly measured connecting (50 TLS handshakes, 50 AUTHs each costing a scrypt)
  // sizes the run far too short: size it again from the run itself, once.
  const again = size(run[0]!.rps);
  if (again <= requests * 2) return run;
  return runRedisBenchmark(endpoint, { ...base, requests: again });
}
const fixed = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function find(rows: Row[], target: TargetName, pipeline: number, test: string): TestResult | undefined {
  return rows.find((r) => r.target === target && r.pipeline === pipeline && testName(r.result) === test)?.result;
}

interface Verdict {
  target: string;
  /** The worst figure over the tests it covers. */
  worst: number | null;
  met: boolean | null;
  detail: string;
}

function verdicts(rows: Row[], openLoops: Partial<Record<TargetName, OpenLoopResult>>): Verdict[] {
  const ratios = (target: TargetName, base: TargetName, pipeline: number, field: 'rps' | 'p99Ms'): number[] =>
    TESTS.map((t) => {
      const a = find(rows, target, pipeline, t);
      const b = find(rows, base, pipeline, t);
      return a && b ? a[field] / b[field] : NaN;
    }).filter(Number.isFinite);
  const verdict = (target: string, values: number[], ok: (worst: number) => boolean, worstOf: (v: number[]) => number, detail: string): Verdict => {
    if (values.length === 0) return { target, worst: null, met: null, detail: `${detail}: not measured in this run` };
    const worst = worstOf(values);
    return { target, worst: Math.round(worst * 100) / 100, met: ok(worst), detail };
  };
  const min = (v: number[]): number => Math.min(...v);
  const max = (v: number[]): number => Math.max(...v);
  const result = [
    verdict('one node >= 1.0x redis-server, pipelining 1', ratios('shoal-1', 'redis', 1, 'rps'), (w) => w >= 1.0, min, 'lowest throughput ratio over SET/GET/INCR/MSET'),
    verdict('one node >= 0.6x redis-server, pipelining 16', ratios('shoal-1', 'redis', 16, 'rps'), (w) => w >= 0.6, min, 'lowest throughput ratio over SET/GET/INCR/MSET'),
    verdict('one node p99 <= 1.2x redis-server, pipelining 1', ratios('shoal-1', 'redis', 1, 'p99Ms'), (w) => w <= 1.2, max, 'highest p99 ratio over SET/GET/INCR/MSET'),
    ...SECURED.flatMap((target) =>
      PIPELINES.map((pipeline) =>
        verdict(`${TARGETS[target].label} >= 0.85x without, pipelining ${pipeline} (issue 14)`, ratios(target, 'shoal-1', pipeline, 'rps'), (w) => w >= 0.85, min, 'lowest throughput ratio over SET/GET/INCR/MSET'),
      ),
    ),
  ];
  const loop = openLoops['shoal-1'];
  result.push(
    loop
      ? { target: 'one node p99 < 1 ms at half the max rate (open loop)', worst: loop.p99Us / 1000, met: loop.p99Us < 1000 && loop.errors === 0 && loop.unanswered === 0, detail: `p99 in ms at ${loop.rate} requests/s` }
      : { target: 'one node p99 < 1 ms at half the max rate (open loop)', worst: null, met: null, detail: 'not measured in this run' },
  );
  result.push(verdict('3 nodes N=3 >= 0.5x one node', [...ratios('shoal-3-n3', 'shoal-1', 1, 'rps'), ...ratios('shoal-3-n3', 'shoal-1', 16, 'rps')], (w) => w >= 0.5, min, 'lowest throughput ratio over the tests and both pipelinings'));
  return result;
}

function table(rows: Row[]): string {
  const header = ['target', 'P', 'test', 'ops/s', 'x redis', 'x shoal-1', 'p50 ms', 'p99 ms', 'p99.9 ms', 'p99 x redis'];
  const lines = [header];
  for (const { target, pipeline, result } of rows) {
    const base = find(rows, 'redis', pipeline, testName(result));
    const plain = (SECURED as readonly TargetName[]).includes(target) ? find(rows, 'shoal-1', pipeline, testName(result)) : undefined;
    lines.push([
      TARGETS[target].label,
      String(pipeline),
      testName(result).toUpperCase(),
      String(Math.round(result.rps)),
      fixed(base ? result.rps / base.rps : undefined),
      fixed(plain ? result.rps / plain.rps : undefined),
      fixed(result.p50Ms, 3),
      fixed(result.p99Ms, 3),
      fixed(result.p999Ms, 3),
      fixed(base ? result.p99Ms / base.p99Ms : undefined),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const version = preflight();
  const profileDir = mkdtempSync(join(tmpdir(), 'shoal-resp-prof-'));
  const rows: Row[] = [];
  const openLoops: Partial<Record<TargetName, OpenLoopResult>> = {};
  const failures: { target: TargetName; error: string }[] = [];
  let profile: ProfileSummary | null = null;
  const startedAt = Date.now();
  try {
    for (const group of sideBySide(only)) {
      const running = new Map<TargetName, RunningServers>();
      for (const target of group) {
        process.stderr.write(`${TARGETS[target].label}: starting\n`);
        try {
          running.set(target, await start(target, profileDir));
        } catch (error) {
          failures.push({ target, error: `could not start: ${(error as Error).message}` });
          process.stderr.write(`${TARGETS[target].label}: could not start: ${(error as Error).message}\n`);
        }
      }
      try {
        for (const pipeline of PIPELINES) {
          // One redis-benchmark per test, in this order (SET fills the keys GET reads): it exits at
          // the first error reply, which must not cost the other tests their figures.
          for (const test of TESTS) {
            for (const [target, servers] of running) {
              const settings = { tests: [test], clients: CLIENTS, pipeline, valueBytes: 100, keyspace: 100_000, cluster: TARGETS[target].cluster };
              process.stderr.write(`${TARGETS[target].label}: redis-benchmark -t ${test} -P ${pipeline}\n`);
              try {
                for (const result of await timedRun(servers.resp[0]!, settings)) {
                  rows.push({ target, pipeline, result });
                  // As it comes, so that an interrupted run still leaves its figures.
                  process.stderr.write(`  ${JSON.stringify(result)}\n`);
                }
              } catch (error) {
                failures.push({ target, error: `${test} -P ${pipeline}: ${(error as Error).message}` });
                process.stderr.write(`  failed: ${(error as Error).message}\n`);
              }
            }
          }
        }
        for (const [target, servers] of running) {
          // The open-loop client speaks plain TCP without AUTH: the TLS and ACL rows are measured by
          // redis-benchmark only.
          if (!openLoop || TARGETS[target].cluster || (SECURED as readonly TargetName[]).includes(target)) continue;
          // Half of the closed-loop rate without pipelining (the mean of SET and GET, the open
          // loop's mix).
          const set = find(rows, target, 1, 'set');
          const get = find(rows, target, 1, 'get');
          if (set && get) {
            const rate = Math.round((set.rps + get.rps) / 4);
            process.stderr.write(`${TARGETS[target].label}: open loop at ${rate} requests/s\n`);
            openLoops[target] = await runOpenLoop(servers.resp[0]!, rate);
          }
        }
      } catch (error) {
        failures.push({ target: group[0]!, error: (error as Error).message });
        process.stderr.write(`${TARGETS[group[0]!].label}: ${(error as Error).message}\n`);
      } finally {
        for (const servers of running.values()) await servers.stop();
      }
      if (running.has('shoal-3-n3')) {
        const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
        if (file) profile = summariseProfile(readProfile(join(profileDir, file)), 20);
      }
    }
    // In the table, each target's rows together, in --only's order.
    rows.sort((a, b) => only.indexOf(a.target) - only.indexOf(b.target));
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }

  const checks = verdicts(rows, openLoops);
  const out: string[] = [];
  out.push(table(rows), '');
  if (Object.keys(openLoops).length > 0) {
    out.push('open loop (SET/GET 50/50, 4 connections, latency from when each request was due):');
    for (const [target, r] of Object.entries(openLoops)) {
      out.push(
        `  ${TARGETS[target as TargetName].label.padEnd(22)} ${String(r.rate).padStart(7)}/s asked, ${String(r.achievedRate).padStart(7)}/s answered  p50 ${fixed(r.p50Us / 1000, 3)} ms  p99 ${fixed(r.p99Us / 1000, 3)} ms  p99.9 ${fixed(r.p999Us / 1000, 3)} ms  errors ${r.errors}  unanswered ${r.unanswered}`,
      );
    }
    out.push('');
  }
  out.push('targets:');
  for (const v of checks) out.push(`  ${v.met === null ? 'n/a   ' : v.met ? 'MET   ' : 'MISSED'}  ${v.target}: ${v.worst ?? '-'} (${v.detail})`);
  if (profile) out.push('', 'profile of one node of 3 nodes N=3 (whole run, top self time):', formatProfile(profile));
  for (const f of failures) out.push(`FAILED ${TARGETS[f.target].label}: ${f.error}`);
  process.stdout.write(`${out.join('\n')}\n`);

  const report = {
    benchmark: 'resp',
    date: new Date().toISOString(),
    quick,
    seconds: Math.round((Date.now() - startedAt) / 1000),
    machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version, redis: version },
    settings: { clients: CLIENTS, valueBytes: 100, keyspace: 100_000, secondsPerTest: SECONDS_PER_TEST, requests: REQUESTS, openLoopSeconds: OPEN_LOOP_SECONDS },
    results: rows.map(({ target, pipeline, result }) => ({ target, pipeline, ...result, test: testName(result), xRedis: ratioTo(rows, 'redis', target, pipeline, result), ...((SECURED as readonly TargetName[]).includes(target) ? { xShoal1: ratioTo(rows, 'shoal-1', target, pipeline, result) } : {}) })),
    openLoop: openLoops,
    targets: checks,
    profile,
    failures,
  };
  if (flags.only === undefined) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `resp-${report.date.slice(0, 10)}${quick ? '-quick' : ''}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`wrote ${file}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

function ratioTo(rows: Row[], base: TargetName, target: TargetName, pipeline: number, result: TestResult): number | null {
  const b = find(rows, base, pipeline, testName(result));
  return b ? Math.round((result.rps / b.rps) * 100) / 100 : null;
}

await main();
