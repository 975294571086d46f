/**
 * Simulator speed: simulated seconds per wall-clock second for the heartbeat protocol at 5 and 100
 * nodes, with and without swarm faults, and for SWIM gossip (the `gossip` scenario) at 5 and 100
 * nodes. Target (issue 2): at least 200x real time for 5 nodes with the heartbeat protocol.
 *
 *   npm run bench:sim-speed            # table + JSON on stdout
 *   npm run bench:sim-speed -- --json  # JSON only
 */
import { runScenario } from '../../src/sim/driver.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { heartbeatScenario } from '../../src/sim/scenarios/heartbeat.ts';
import { gossipScenario } from '../../src/sim/scenarios/swim-gossip.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:sim-speed --', { json: { kind: 'boolean', description: 'print only the JSON result' } });

// Heartbeat pings every peer, so its traffic grows with the square of the node count: the 100-node
// case is about events per second, not a protocol anyone would run at that size.
// SWIM's load per member is flat, so its 100-node case shows what a real protocol costs.
const CASES: { scenario: Scenario; nodes: number; durationMs: number; seeds: number[] }[] = [
  { scenario: heartbeatScenario, nodes: 5, durationMs: 120_000, seeds: [1, 2, 3] },
  { scenario: heartbeatScenario, nodes: 100, durationMs: 5_000, seeds: [1] },
  { scenario: gossipScenario, nodes: 5, durationMs: 120_000, seeds: [1, 2, 3] },
  { scenario: gossipScenario, nodes: 100, durationMs: 60_000, seeds: [1] },
];

interface Row {
  protocol: string;
  nodes: number;
  faults: 'none' | 'swarm';
  simSeconds: number;
  wallSeconds: number;
  simSecondsPerWallSecond: number;
  eventsPerWallSecond: number;
}

// One untimed run first, so the JIT has warmed up before anything is measured.
runScenario(heartbeatScenario, { seed: 0, nodes: 5, durationMs: 20_000, faults: 'swarm' });

const rows: Row[] = [];
for (const c of CASES) {
  for (const faults of ['none', 'swarm'] as const) {
    let sim = 0;
    let wall = 0;
    let events = 0;
    for (const seed of c.seeds) {
      const r = runScenario(c.scenario, { seed, nodes: c.nodes, durationMs: c.durationMs, faults });
      sim += r.simSeconds;
      wall += r.wallSeconds;
      events += r.events;
    }
    rows.push({
      protocol: c.scenario.name,
      nodes: c.nodes,
      faults,
      simSeconds: sim,
      wallSeconds: round(wall),
      simSecondsPerWallSecond: round(sim / wall),
      eventsPerWallSecond: Math.round(events / wall),
    });
  }
}

const result = { benchmark: 'sim-speed', node: process.version, date: new Date().toISOString(), rows };
if (flags.json) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  console.log('protocol   nodes  faults  simulated s  wall s   sim s / wall s   events / wall s');
  for (const r of rows) {
    console.log(
      `${r.protocol.padEnd(9)}  ${String(r.nodes).padStart(5)}  ${r.faults.padEnd(6)}  ${String(r.simSeconds).padStart(11)}  ${String(r.wallSeconds).padStart(6)}  ${String(r.simSecondsPerWallSecond).padStart(15)}  ${String(r.eventsPerWallSecond).padStart(16)}`,
    );
  }
  const five = rows.filter((r) => r.protocol === 'heartbeat' && r.nodes === 5).map((r) => r.simSecondsPerWallSecond);
  console.log(`\ntarget: >= 200x real time for 5 nodes -> ${Math.min(...five)}x ${Math.min(...five) >= 200 ? 'met' : 'NOT met'}`);
  console.log(JSON.stringify(result));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
