/**
 * Replication figures (issue 4): ring balance and movement (the ring's own measurement functions),
 * ownership handoff time and keys moved (the kv-join scenario), and read-repair / hint counts
 * under swarm faults (the kv scenario over a seed range). All from the deterministic simulator, so
 * the numbers are reproducible exactly.
 *
 *   node --import tsx bench/replication/index.ts           # table + JSON
 *   node --import tsx bench/replication/index.ts --json    # JSON only
 */
import { measureBalance, measureMovement } from '../../src/ring/measure.ts';
import { runScenario } from '../../src/sim/driver.ts';
import { kvJoinScenario } from '../../src/sim/scenarios/kv-join.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:replication --', { json: { kind: 'boolean', description: 'print only the JSON result' } });

const RING_SIZES = [3, 5, 8, 16, 32, 64];
const KV_SEEDS = 20;
const JOIN_SEEDS = [1, 2, 3];

const ring = RING_SIZES.map((nodes) => {
  const balance = measureBalance(nodes);
  const movement = measureMovement(nodes);
  return {
    nodes,
    maxOverMean: round(balance.maxOverMean),
    joinMovedOverIdeal: round(movement.join.movedOverIdeal),
    leaveMovedOverIdeal: movement.leave ? round(movement.leave.movedOverIdeal) : null,
  };
});

const joins = JOIN_SEEDS.map((seed) => {
  const r = runScenario(kvJoinScenario, { seed, ...kvJoinScenario.defaults });
  return {
    seed,
    violations: r.violations.length,
    partitionReplicasMovedOnJoin: r['partitionReplicasMovedOnJoin'],
    keysReceivedByJoiner: r['keysReceivedByJoiner'],
    joinHandoffSeconds: r['joinHandoffSeconds'],
    partitionReplicasMovedOnLeave: r['partitionReplicasMovedOnLeave'],
    leaveHandoffSeconds: r['leaveHandoffSeconds'],
    keysHandedOff: r['keysHandedOff'],
  };
});

const kvTotals = { seeds: KV_SEEDS, violations: 0, opsAcked: 0, opsFailed: 0, readsOk: 0, readRepairs: 0, hintsStored: 0, hintsDelivered: 0, hintsDroppedForRoom: 0, sloppyFallbacks: 0, skewInversions: 0, restarts: 0, maxRecoverySeconds: 0 };
for (let seed = 1; seed <= KV_SEEDS; seed++) {
  const r = runScenario(kvScenario, { seed, ...kvScenario.defaults });
  kvTotals.violations += r.violations.length;
  for (const k of ['opsAcked', 'opsFailed', 'readsOk', 'readRepairs', 'hintsStored', 'hintsDelivered', 'hintsDroppedForRoom', 'sloppyFallbacks', 'skewInversions', 'restarts'] as const) {
    kvTotals[k] += r[k] as number;
  }
  kvTotals.maxRecoverySeconds = Math.max(kvTotals.maxRecoverySeconds, (r['recoverySeconds'] as number | null) ?? Infinity);
}

const report = { ring, joins, kv: kvTotals };
if (!flags.json) {
  console.log('Ring (Q=1024, N=3): balance and worst-case movement');
  console.table(ring);
  console.log('kv-join (4 nodes + 1 joiner, then a graceful leave; Q=1024, 2000 keys; simulated seconds)');
  console.table(joins);
  console.log(`kv under swarm faults, seeds 1..${KV_SEEDS} (5 nodes, 60 s each)`);
  console.table([kvTotals]);
}
console.log(JSON.stringify(report));

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
