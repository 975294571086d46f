/**
 * The workload both nemesis tests run (nemesis.test.ts: kills and pauses; nemesis-partition.test.ts:
 * network partitions): workers on SDK clients setting unique values, deleting and reading a small
 * keyspace at mixed consistency levels, every call recorded in a RealHistory; the nemesis moves on
 * by counts of successful operations, never by time.
 */
import assert from 'node:assert/strict';
import type { ShoalClient } from '../../src/client/index.ts';
import type { Consistency } from '../../src/replication/api.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { sleep, until } from './daemon-harness.ts';
import type { RealHistory } from './nemesis-history.ts';

export const KEYS = 12;
export const WORKERS = 6;
/** Each worker's operations at most: bounds the run if the nemesis never finishes. */
const MAX_OPS_PER_WORKER = 5_000;
/** Pacing between a worker's operations, so catch-up is not starved on a small machine (not a timing assert). */
const THINK_MS = 2;
const WRITE_LEVELS: [Consistency, number][] = [['quorum', 0.6], ['all', 0.15], ['one', 0.25]];
const READ_LEVELS: [Consistency, number][] = [['quorum', 0.6], ['all', 0.2], ['one', 0.2]];

export const keyName = (k: number): string => `nk${k}`;

export interface Workload {
  /** Resolves once `ops` more operations have succeeded (throws after `hangMs`: a hang, not a speed). */
  runOps(what: string, ops: number): Promise<void>;
  /** Stops the workers and waits for their calls in flight. */
  stop(): Promise<void>;
}

/** Starts WORKERS workers on `clients` (round robin); `seed` replays each worker's operations (not their interleaving). */
export function startWorkload(history: RealHistory, clients: ShoalClient<string>[], seed: number, hangMs: number): Workload {
  let stopping = false;
  let succeeded = 0;
  const worker = async (w: number): Promise<void> => {
    const client = clients[w % clients.length]!;
    const random = SeededRandom.mulberry32(seed * 16 + w);
    for (let seq = 1; seq <= MAX_OPS_PER_WORKER && !stopping; seq++) {
      const key = keyName(random.int(KEYS));
      const draw = random.next();
      let ok: boolean;
      if (draw < 0.45) ok = await history.write(client, w, key, `c${w}:${seq}`, pick(random, WRITE_LEVELS));
      else if (draw < 0.55) ok = await history.write(client, w, key, null, pick(random, WRITE_LEVELS));
      else ok = (await history.read(client, w, key, pick(random, READ_LEVELS))) !== undefined;
      if (ok) succeeded++;
      await sleep(THINK_MS);
    }
  };
  const running = Array.from({ length: WORKERS }, (_, w) => worker(w));
  return {
    runOps: async (what, ops) => {
      const from = succeeded;
      await until(what, () => (succeeded >= from + ops ? true : undefined), hangMs, 20);
    },
    stop: async () => {
      stopping = true;
      await Promise.all(running);
    },
  };
}

/** Reads every key back at ALL through `client` (a few attempts each), judged like every other read. */
export async function readBackAtAll(history: RealHistory, client: ShoalClient<string>): Promise<void> {
  for (let k = 0; k < KEYS; k++) {
    let read: string | null | undefined;
    for (let attempt = 0; attempt < 10 && read === undefined; attempt++) read = await history.read(client, WORKERS, keyName(k), 'all');
    assert.notEqual(read, undefined, `${keyName(k)} could not be read back at ALL`);
  }
}

/** The run's figures and per-fault log, for the test's output. */
export function summary(name: string, seed: number, history: RealHistory, log: string[]): string {
  const { figures } = history.checker;
  return (
    `${name} (seed ${seed}): ${history.figures.writes} writes (${history.figures.acked} acked), ${history.figures.reads} reads (${history.figures.readsOk} ok), ` +
    `${history.figures.failed} failed; ${figures.readsChecked} reads judged, ${figures.strictReadsChecked} against overlapping writes, ` +
    `${figures.oneWritesLostToCrash} W=1 writes lost to a kill\n  ${log.join('\n  ')}\n` +
    (history.failureSamples.length > 0 ? `  failures, e.g.: ${history.failureSamples.join('; ')}\n` : '')
  );
}

/** The checker's verdict: no violation, and some reads were judged against acknowledged writes. */
export function assertNoViolations(history: RealHistory, seed: number): void {
  assert.deepEqual(history.checker.violations.slice(0, 10), [], `seed ${seed}: ${history.checker.violations.length} violations`);
  assert.ok(history.checker.figures.strictReadsChecked > 0, 'reads were judged against acknowledged writes');
}

function pick<T>(random: SeededRandom, weighted: [T, number][]): T {
  let x = random.next() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [value, w] of weighted) if ((x -= w) < 0) return value;
  return weighted[weighted.length - 1]![0];
}
