/**
 * Ring figures for issue 4: balance (max/mean partition replicas per node) and movement (replicas
 * moved by one join or one leave, over the ideal share) for 3..64 nodes at Q = 1024, N = 3, plus
 * the cost of building a ring and of hashing a key. Prints a table on stderr and one JSON object on
 * stdout.
 *
 *   npx tsx bench/ring/index.ts [--zones Z] [--trials T] [--seed S] [--seeds K] [--min 3] [--max 64] [--write]
 *
 * Movement is the worst of T joins (joiners `joiner-0`..) and T leaves (evenly spaced members).
 * `--seeds K` measures the member sets of seeds S..S+K-1 and reports, per size, the worst over
 * them (one seed is one set of names; the worst case over many sets is what a property test sees).
 * `--write` also saves bench/results/ring-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  BALANCE_TARGET,
  DEFAULT_PARTITION_COUNT,
  DEFAULT_REPLICAS,
  MOVEMENT_TARGET,
  buildRing,
  measureBalance,
  measureMovement,
  partitionOf,
  sampleMembers,
} from '../../src/ring/index.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:ring --', {
  zones: { kind: 'number', value: 'Z', description: 'zones the sampled members spread over', default: 1 },
  trials: { kind: 'number', value: 'T', description: 'joins and leaves per cluster size (movement is the worst of them)', default: 4 },
  seed: { kind: 'number', value: 'S', description: 'first seed', default: 1 },
  seeds: { kind: 'number', value: 'K', description: 'seeds per cluster size (the worst is reported)', default: 1 },
  min: { kind: 'number', description: 'smallest cluster', default: 3 },
  max: { kind: 'number', description: 'largest cluster', default: 64 },
  write: { kind: 'boolean', description: 'also save bench/results/ring-<date>.json' },
});
const zones = Number(flags.zones);
const trials = Number(flags.trials);
const seed = Number(flags.seed);
const seeds = Number(flags.seeds);
const min = Number(flags.min);
const max = Number(flags.max);
const options = { zones, trials, seed, seeds, partitions: DEFAULT_PARTITION_COUNT, replicas: DEFAULT_REPLICAS };

const round = (x: number) => Math.round(x * 1000) / 1000;
interface Row {
  nodes: number;
  maxOverMean: number;
  joinMovedOverIdeal: number;
  leaveMovedOverIdeal: number | null;
}
const rows: Row[] = [];
const worstOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
for (let nodes = min; nodes <= max; nodes++) {
  const perSeed: Row[] = [];
  for (let s = seed; s < seed + seeds; s++) {
    const balance = measureBalance(nodes, { ...options, seed: s });
    const movement = measureMovement(nodes, { ...options, seed: s });
    perSeed.push({
      nodes,
      maxOverMean: round(balance.maxOverMean),
      joinMovedOverIdeal: round(movement.join.movedOverIdeal),
      leaveMovedOverIdeal: movement.leave ? round(movement.leave.movedOverIdeal) : null,
    });
  }
  rows.push(
    perSeed.reduce((a, b) => ({
      nodes,
      maxOverMean: Math.max(a.maxOverMean, b.maxOverMean),
      joinMovedOverIdeal: Math.max(a.joinMovedOverIdeal, b.joinMovedOverIdeal),
      leaveMovedOverIdeal: worstOf(a.leaveMovedOverIdeal, b.leaveMovedOverIdeal),
    })),
  );
}

// Cost of building the largest ring, and of key -> partition.
let started = performance.now();
buildRing({ members: sampleMembers(max, zones, seed), ...options });
const buildMs = round(performance.now() - started);
const keys = Array.from({ length: 100_000 }, (_, i) => `user:${i}:profile`);
let sink = 0;
started = performance.now();
for (let round = 0; round < 10; round++) for (const key of keys) sink += partitionOf(key);
const partitionOfNsPerKey = round(((performance.now() - started) * 1e6) / (10 * keys.length));
if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');

const misses = (key: 'maxOverMean' | 'joinMovedOverIdeal' | 'leaveMovedOverIdeal', target: number) =>
  rows.filter((r) => (r[key] ?? 0) > target).map((r) => r.nodes);
const worst = (key: 'maxOverMean' | 'joinMovedOverIdeal' | 'leaveMovedOverIdeal') => Math.max(...rows.map((r) => r[key] ?? 0));
const report = {
  bench: 'ring',
  date: new Date().toISOString(),
  node: process.version,
  options,
  targets: { maxOverMean: BALANCE_TARGET, movedOverIdeal: MOVEMENT_TARGET },
  worst: { maxOverMean: worst('maxOverMean'), joinMovedOverIdeal: worst('joinMovedOverIdeal'), leaveMovedOverIdeal: worst('leaveMovedOverIdeal') },
  missed: {
    maxOverMean: misses('maxOverMean', BALANCE_TARGET),
    joinMovedOverIdeal: misses('joinMovedOverIdeal', MOVEMENT_TARGET),
    leaveMovedOverIdeal: misses('leaveMovedOverIdeal', MOVEMENT_TARGET),
  },
  buildMsAtMax: buildMs,
  partitionOfNsPerKey,
  rows,
};

const table = [
  'nodes  max/mean  join moved/ideal  leave moved/ideal',
  ...rows.map(
    (r) =>
      `${String(r.nodes).padStart(5)}  ${r.maxOverMean.toFixed(3).padStart(8)}  ${r.joinMovedOverIdeal.toFixed(3).padStart(16)}  ${(r.leaveMovedOverIdeal?.toFixed(3) ?? '-').padStart(17)}`,
  ),
  `worst  ${report.worst.maxOverMean.toFixed(3).padStart(8)}  ${report.worst.joinMovedOverIdeal.toFixed(3).padStart(16)}  ${report.worst.leaveMovedOverIdeal.toFixed(3).padStart(17)}`,
  `targets: max/mean <= ${BALANCE_TARGET}, moved/ideal <= ${MOVEMENT_TARGET}; missed at nodes: ${JSON.stringify(report.missed)}`,
  `build ring (${max} nodes): ${buildMs} ms; partitionOf: ${partitionOfNsPerKey} ns/key`,
];
process.stderr.write(table.join('\n') + '\n');
process.stdout.write(JSON.stringify(report) + '\n');
if (flags.write) {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/ring-${report.date.slice(0, 10)}.json`;
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
}
