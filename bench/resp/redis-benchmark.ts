/**
 * Runs redis-benchmark (the same binary for every server) and reads what it reports per test:
 * throughput ("throughput summary") and latency percentiles (the "latency summary" line for
 * avg/p50/p95/p99/max, and the "Latency by percentile distribution" histogram for p99.9, which
 * --csv leaves out). Latencies are in milliseconds, as redis-benchmark prints them.
 */
import { spawn } from 'node:child_process';
import type { Endpoint } from './processes.ts';

export interface BenchmarkSettings {
  tests: readonly string[];
  clients: number;
  pipeline: number;
  requests: number;
  valueBytes: number;
  /** Keys drawn at random (-r); 0 for none: every request of a test on the same key. */
  keyspace: number;
  cluster: boolean;
}

export interface TestResult {
  /** The test as redis-benchmark names it, lower case ("set", "get", "incr", "mset (10 keys)"). */
  test: string;
  rps: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  /** The first histogram step at or above 99.9% (redis-benchmark prints 99.902%). */
  p999Ms: number;
  maxMs: number;
}

/** A run that takes longer than this is stuck (a server that stopped answering), not slow. */
const HANG_MS = 300_000;

export function runRedisBenchmark(target: Endpoint, settings: BenchmarkSettings): Promise<TestResult[]> {
  const args = [
    '-h', target.host,
    '-p', String(target.port),
    '-t', settings.tests.join(','),
    '-c', String(settings.clients),
    '-P', String(settings.pipeline),
    '-n', String(settings.requests),
    '-d', String(settings.valueBytes),
    ...(settings.keyspace > 0 ? ['-r', String(settings.keyspace)] : []),
    '--precision', '3',
    ...(settings.cluster ? ['--cluster'] : []),
    ...(target.ca === undefined ? [] : ['--tls', '--cacert', target.ca]),
    ...(target.user === undefined ? [] : ['--user', target.user, '-a', target.password ?? '']),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('error', reject);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      const command = `redis-benchmark ${args.join(' ')}`;
      if (status !== 0) return reject(new Error(`${command} failed (${signal ?? status}): ${tail(stderr || stdout)}`));
      try {
        const results = parseRedisBenchmark(stdout);
        const missing = settings.tests.filter((t) => !results.some((r) => r.test.split(' ')[0] === t));
        if (missing.length > 0) throw new Error(`no result for ${missing.join(', ')}`);
        resolve(results);
      } catch (error) {
        reject(new Error(`${command}: ${(error as Error).message}; output: ${tail(stdout + stderr)}`));
      }
    });
  });
}

function tail(text: string): string {
  const clean = text.replace(/\r[^\n]*/g, '').trim();
  return clean.length > 600 ? `...${clean.slice(-600)}` : clean;
}

/** Parses redis-benchmark's default (not --csv, not -q) output: one section per test. */
export function parseRedisBenchmark(output: string): TestResult[] {
  // Progress lines end in \r and are overwritten on a terminal; keep only what follows the last \r.
  const lines = output.split('\n').map((line) => line.slice(line.lastIndexOf('\r') + 1));
  const results: TestResult[] = [];
  let test: string | null = null;
  let histogram: { percent: number; ms: number }[] = [];
  let rps: number | null = null;
  let inPercentiles = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = /^====== (.+) ======$/.exec(line.trim());
    if (header) {
      test = header[1]!.toLowerCase();
      histogram = [];
      rps = null;
      continue;
    }
    if (test === null) continue;
    // Two histograms follow each other; the first ("by percentile") gives p99.9.
    if (line.startsWith('Latency by percentile distribution')) {
      inPercentiles = true;
      continue;
    }
    if (inPercentiles) {
      const step = /^\s*([\d.]+)% <= ([\d.]+) milliseconds/.exec(line);
      if (step) {
        histogram.push({ percent: Number(step[1]), ms: Number(step[2]) });
        continue;
      }
      inPercentiles = false;
    }
    const throughput = /throughput summary: ([\d.]+) requests per second/.exec(line);
    if (throughput) {
      rps = Number(throughput[1]);
      continue;
    }
    if (/^\s*avg\s+min\s+p50\s+p95\s+p99\s+max\s*$/.test(line)) {
      const values = (lines[i + 1] ?? '').trim().split(/\s+/).map(Number);
      if (values.length !== 6 || values.some((v) => !Number.isFinite(v)) || rps === null) throw new Error(`unreadable latency summary for ${test}`);
      const [avgMs, , p50Ms, , p99Ms, maxMs] = values as [number, number, number, number, number, number];
      const p999 = histogram.find((h) => h.percent >= 99.9);
      results.push({ test, rps, avgMs, p50Ms, p99Ms, p999Ms: p999?.ms ?? maxMs, maxMs });
      test = null;
    }
  }
  return results;
}
