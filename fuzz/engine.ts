/**
 * The fuzz loop: for each target, a corpus of valid messages sampled from its fast-check
 * arbitraries, then `count` inputs (one in ten fresh from the arbitraries' sampled pool, the rest
 * byte mutations of corpus entries) each run through the decoder. It records crashes (an
 * exception other than the documented one), hangs (an operation count past its bound, or an
 * input slower than the wall cap), and allocation out of proportion to the input (heap growth
 * across one decode, and retained growth across batches).
 */
import fc from 'fast-check';
import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import { FuzzRandom, mutate } from './mutate.ts';
import { FuzzHangError, type FuzzTarget } from './targets.ts';

export interface FuzzOptions {
  /** Inputs per target. */
  count: number;
  seed: number;
  /** Valid messages sampled per target as mutation seeds. */
  corpusSize?: number;
  /** Longest input (mutations are cut to it). */
  maxInputBytes?: number;
  /** An input slower than this is a hang (ms; generous: a GC pause must not count). */
  wallCapMs?: number;
  /**
   * Heap growth one decode may cause: a fixed allowance plus a multiple of the input's size.
   * A decoder that allocates in proportion to a length it was told, not the bytes it got, passes
   * this at once (the `claim` mutations tell it 4 billion).
   */
  allocationAllowanceBytes?: number;
  allocationPerInputByte?: number;
  /** Retained heap growth allowed from the first batch to the last (after a GC, when exposed). */
  retainedGrowthBytes?: number;
  /** Called after each batch (progress). */
  onProgress?: (target: string, done: number) => void;
}

export interface FuzzFinding {
  kind: 'crash' | 'hang' | 'allocation';
  target: string;
  message: string;
  /** The input, hex; add it as a regression case. */
  inputHex: string;
}

export interface TargetTotals {
  target: string;
  decoder: string;
  inputs: number;
  generated: number;
  mutated: number;
  /** Inputs the decoder accepted / refused with its documented error. */
  accepted: number;
  refused: number;
  crashes: number;
  hangs: number;
  allocations: number;
  slowestMs: number;
  slowestInputBytes: number;
  /**
   * The slowest input decoded again, alone, at the end (best of 3, ms): near zero when the slowest
   * time was a GC pause or another process, not the input.
   */
  slowestRetimedMs: number;
  /** Most heap one decode grew by (bytes), and the input size it came from. */
  largestAllocation: number;
  largestAllocationInputBytes: number;
  /** Heap in use after the last batch minus after the first (after a GC when --expose-gc). */
  retainedGrowthBytes: number;
  maxOps: number;
  seconds: number;
}

export interface FuzzResult {
  seed: number;
  count: number;
  totals: TargetTotals[];
  findings: FuzzFinding[];
}

const BATCH = 10_000;
/** At most this many findings are kept per target and kind (the first ones). */
const MAX_FINDINGS = 5;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 4096)).toString('hex');
const gc = (globalThis as { gc?: () => void }).gc;

function heapNow(): number {
  const h = v8.getHeapStatistics() as v8.HeapInfo & { external_memory?: number };
  return h.used_heap_size + (h.external_memory ?? 0);
}

export function fuzzTarget(target: FuzzTarget, options: FuzzOptions, findings: FuzzFinding[]): TargetTotals {
  const started = performance.now();
  const corpusSize = options.corpusSize ?? 2000;
  const maxInputBytes = options.maxInputBytes ?? 64 * 1024;
  const wallCapMs = options.wallCapMs ?? 2000;
  const allowance = options.allocationAllowanceBytes ?? 32 * 1024 * 1024;
  const perByte = options.allocationPerInputByte ?? 256;
  const retainedCap = options.retainedGrowthBytes ?? 64 * 1024 * 1024;
  const random = new FuzzRandom(options.seed ^ hashName(target.name));
  const corpus = fc.sample(target.valid, { seed: options.seed, numRuns: corpusSize }).filter((b) => b.length <= maxInputBytes);
  if (corpus.length === 0) corpus.push(new Uint8Array(0));
  const generatedPool = fc.sample(target.valid, { seed: options.seed + 1, numRuns: corpusSize });

  const t: TargetTotals = {
    target: target.name,
    decoder: target.decoder,
    inputs: 0,
    generated: 0,
    mutated: 0,
    accepted: 0,
    refused: 0,
    crashes: 0,
    hangs: 0,
    allocations: 0,
    slowestMs: 0,
    slowestInputBytes: 0,
    slowestRetimedMs: 0,
    largestAllocation: 0,
    largestAllocationInputBytes: 0,
    retainedGrowthBytes: 0,
    maxOps: 0,
    seconds: 0,
  };
  const kept = { crash: 0, hang: 0, allocation: 0 };
  const report = (kind: FuzzFinding['kind'], message: string, input: Uint8Array): void => {
    if (kind === 'crash') t.crashes++;
    else if (kind === 'hang') t.hangs++;
    else t.allocations++;
    if (kept[kind]++ < MAX_FINDINGS) findings.push({ kind, target: target.name, message, inputHex: hex(input) });
  };

  let firstBatchHeap = -1;
  let slowest: { input: Uint8Array; split: number } | null = null;
  for (let done = 0; done < options.count; ) {
    const batchEnd = Math.min(options.count, done + BATCH);
    for (; done < batchEnd; done++) {
      let input: Uint8Array;
      if (random.below(10) === 0) {
        input = generatedPool[random.below(generatedPool.length)]!;
        t.generated++;
      } else {
        input = mutate(random.pick(corpus), random, corpus, target.text === true, maxInputBytes);
        t.mutated++;
      }
      const split = random.below(input.length + 1);
      const heapBefore = heapNow();
      const before = performance.now();
      try {
        const ops = target.decode(input, split);
        if (ops > t.maxOps) t.maxOps = ops;
        t.accepted++;
      } catch (error) {
        if (error instanceof FuzzHangError) report('hang', error.message, input);
        else if (target.isExpected(error)) t.refused++;
        else report('crash', error instanceof Error ? `${error.name}: ${error.message}` : `threw ${String(error)}`, input);
      }
      const elapsed = performance.now() - before;
      const grown = heapNow() - heapBefore;
      if (elapsed > t.slowestMs) {
        t.slowestMs = elapsed;
        t.slowestInputBytes = input.length;
        slowest = { input, split };
      }
      if (elapsed > wallCapMs) report('hang', `one input took ${elapsed.toFixed(0)} ms (cap ${wallCapMs} ms)`, input);
      if (grown > t.largestAllocation) {
        t.largestAllocation = grown;
        t.largestAllocationInputBytes = input.length;
      }
      if (grown > allowance + perByte * input.length) {
        report('allocation', `one decode of ${input.length} bytes grew the heap by ${grown} bytes`, input);
      }
      t.inputs++;
    }
    gc?.();
    const heap = heapNow();
    if (firstBatchHeap < 0) firstBatchHeap = heap;
    t.retainedGrowthBytes = heap - firstBatchHeap;
    options.onProgress?.(target.name, done);
  }
  if (t.retainedGrowthBytes > retainedCap) {
    report('allocation', `heap in use grew by ${t.retainedGrowthBytes} bytes from the first batch to the last`, new Uint8Array(0));
  }
  if (slowest !== null) {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const before = performance.now();
      try {
        target.decode(slowest.input, slowest.split);
      } catch {
        // counted above
      }
      best = Math.min(best, performance.now() - before);
    }
    t.slowestRetimedMs = best;
  }
  t.seconds = (performance.now() - started) / 1000;
  return t;
}

export function runFuzz(targets: readonly FuzzTarget[], options: FuzzOptions): FuzzResult {
  const findings: FuzzFinding[] = [];
  const totals = targets.map((target) => fuzzTarget(target, options, findings));
  return { seed: options.seed, count: options.count, totals, findings };
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The totals as a fixed-width table. */
export function formatTable(result: FuzzResult): string {
  const head = ['decoder', 'inputs', 'generated', 'mutated', 'accepted', 'refused', 'crashes', 'hangs', 'alloc', 'slowest ms', 'again ms', 'max alloc', 'retained', 's'];
  const rows = result.totals.map((t) => [
    t.target,
    String(t.inputs),
    String(t.generated),
    String(t.mutated),
    String(t.accepted),
    String(t.refused),
    String(t.crashes),
    String(t.hangs),
    String(t.allocations),
    t.slowestMs.toFixed(2),
    t.slowestRetimedMs.toFixed(3),
    `${(t.largestAllocation / 1024 / 1024).toFixed(1)} MiB`,
    `${(t.retainedGrowthBytes / 1024 / 1024).toFixed(1)} MiB`,
    t.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
