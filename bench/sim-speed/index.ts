/**
 * Simulator speed: simulated seconds per wall-clock second for the heartbeat protocol at 5 and 100
 * nodes, with and without swarm faults. Target (issue 2): at least 200x real time for 5 nodes.
 *
 *   npm run bench:sim-speed            # table + JSON on stdout
 *   npm run bench:sim-speed -- --json  # JSON only
 */
import { runScenario } from '../../src/sim/driver.ts';
import { heartbeatScenario } from '../../src/sim/scenarios/heartbeat.ts';

// Heartbeat pings every peer, so its traffic grows with the square of the node count: the 100-node
// case is about events per second, not a protocol anyone would run at that size.
const CASES = [
  { nodes: 5, durationMs: 120_000, seeds: [1, 2, 3] },
  { nodes: 100, durationMs: 5_000, seeds: [1] },
];

interface Row {
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
      const r = runScenario(heartbeatScenario, { seed, nodes: c.nodes, durationMs: c.durationMs, faults });
      sim += r.simSeconds;
      wall += r.wallSeconds;
      events += r.events;
    }
    rows.push({
      nodes: c.nodes,
      faults,
      simSeconds: sim,
      wallSeconds: round(wall),
      simSecondsPerWallSecond: round(sim / wall),
      eventsPerWallSecond: Math.round(events / wall),
    });
  }
}

const result = { benchmark: 'sim-speed', protocol: 'heartbeat', node: process.version, date: new Date().toISOString(), rows };
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  console.log('nodes  faults  simulated s  wall s   sim s / wall s   events / wall s');
  for (const r of rows) {
    console.log(
      `${String(r.nodes).padStart(5)}  ${r.faults.padEnd(6)}  ${String(r.simSeconds).padStart(11)}  ${String(r.wallSeconds).padStart(6)}  ${String(r.simSecondsPerWallSecond).padStart(15)}  ${String(r.eventsPerWallSecond).padStart(16)}`,
    );
  }
  const five = rows.filter((r) => r.nodes === 5).map((r) => r.simSecondsPerWallSecond);
  console.log(`\ntarget: >= 200x real time for 5 nodes -> ${Math.min(...five)}x ${Math.min(...five) >= 200 ? 'met' : 'NOT met'}`);
  console.log(JSON.stringify(result));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
