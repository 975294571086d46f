/**
 * Gossip says what it waits for: a joining member names its unreachable, silent or foreign seeds;
 * a cluster-name mismatch is refused and logged on both sides (rate-limited); and verdicts about
 * peers (suspected, dead, alive again) are logged at info. Simulated network, captured log lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAN_PROFILE, PROBLEM_LOG_INTERVAL_MS } from '../../src/gossip/config.ts';
import type { Membership } from '../../src/gossip/membership.ts';
import { SwimMembership } from '../../src/gossip/swim.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

interface Options {
  nodes: number;
  /** Cluster name of each member (default 'shoal'). */
  clusterOf?: (index: number) => string;
  autoStart?: boolean;
}

/** Members that all join through n1, with every log line kept as `{ address, level, msg }`. */
function world({ nodes, clusterOf = () => 'shoal', autoStart = true }: Options) {
  const lines: { address: string; level: string; msg: string }[] = [];
  const sim = new Simulation<Membership>({
    seed: 11,
    nodes,
    trace: new EventTrace(),
    autoStart,
    // The sink gets "<time>s <address> <level> <msg> <json>".
    logSink: (line) => {
      const [, address, level, ...rest] = line.split(' ');
      const text = rest.join(' ');
      lines.push({ address: address!, level: level!, msg: text.slice(0, text.lastIndexOf(' {')) });
    },
    factory: (env) => {
      const index = Number(env.address.slice(1)) - 1; // nodeAddress(i) is `n${i + 1}`
      const m = new SwimMembership(env, { name: env.address, seeds: [nodeAddress(0)], config: { ...LAN_PROFILE, clusterName: clusterOf(index) } });
      m.start();
      return m;
    },
  });
  return { sim, lines };
}

test('a member seeded into another cluster is refused: both sides log it, rate-limited, and it says why it cannot join', () => {
  const { sim, lines } = world({ nodes: 3, clusterOf: (i) => (i === 2 ? 'dev' : 'prod') });
  const durationMs = 4 * PROBLEM_LOG_INTERVAL_MS;
  sim.runUntil(durationMs);
  const seed = sim.process(0)!;
  const stranger = sim.process(2)!;

  // The joiner: still alone, keeps trying, and knows why.
  assert.equal(stranger.liveMembers(), 1);
  assert.ok(stranger.stats.joinAttempts > 5, `join attempts: ${stranger.stats.joinAttempts}`);
  const problem = stranger.joinProblem();
  assert.equal(problem, 'seed n1 (node n1) belongs to cluster "prod", this node to cluster "dev" (cluster names must match)');
  assert.deepEqual(stranger.clusterRefusal(), { seed: 'n1', name: 'n1', cluster: 'prod', reason: problem });

  // The seed: never lets it into its view, shows it apart, and keeps serving its own cluster.
  assert.equal(seed.member('n3'), undefined);
  assert.equal(seed.liveMembers(), 2);
  assert.deepEqual(seed.foreignPeers(), [{ name: 'n3', address: 'n3', cluster: 'dev' }]);
  assert.equal(seed.joinProblem(), null);
  assert.equal(sim.process(1)!.joinProblem(), null);

  const joinerLines = lines.filter((l) => l.address === 'n3' && l.level === 'error' && l.msg.startsWith('cannot join: seed n1 (node n1) belongs to cluster "prod"'));
  const seedLines = lines.filter((l) => l.address === 'n1' && l.level === 'warn' && l.msg === 'refusing node n3 at n3: it belongs to cluster "dev", this node to cluster "prod" (cluster names must match)');
  // Logged while it lasts, but at most once per interval however often it knocks.
  const most = Math.ceil(durationMs / PROBLEM_LOG_INTERVAL_MS) + 1;
  for (const [side, found] of [['joiner', joinerLines.length], ['seed', seedLines.length]] as const) {
    assert.ok(found >= 2 && found <= most, `${side} logged ${found} times, expected 2..${most}`);
  }
  assert.ok(seed.stats.foreignCluster > most, 'the seed heard the stranger more often than it logged it');
});

test('a member whose seed is down says which seed and why, keeps retrying, and joins once the seed is up', () => {
  const { sim } = world({ nodes: 2, autoStart: false });
  sim.start(1);
  sim.runUntil(5_000);
  const joiner = sim.process(1)!;
  assert.equal(joiner.joinProblem(), 'no answer from seeds: n1');
  // The real transport reports failed dials (with why); the simulated one does not, so do it here.
  joiner.reportUnreachable('n1', 'connection refused');
  assert.equal(joiner.joinProblem(), 'seeds unreachable: n1 (connection refused)');
  const attempts = joiner.stats.joinAttempts;
  sim.runUntil(30_000);
  assert.ok(joiner.stats.joinAttempts > attempts, 'it keeps retrying its seeds');

  sim.start(0);
  sim.runUntil(sim.now + 30_000, () => joiner.liveMembers() === 2);
  assert.equal(joiner.liveMembers(), 2);
  assert.equal(joiner.joinProblem(), null);
});

test('suspicion, death and return of a peer are logged (death at warn level)', () => {
  const { sim, lines } = world({ nodes: 3 });
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.liveMembers() === 3));
  assert.ok(lines.some((l) => l.address === 'n1' && l.level === 'info' && l.msg === 'peer n2 joined'));
  lines.length = 0;

  sim.crash(2);
  const bothSeeDead = () => [0, 1].every((i) => sim.process(i)!.member('n3')?.state === 'dead');
  sim.runUntil(sim.now + 60_000, bothSeeDead);
  assert.ok(bothSeeDead());
  const about = (address: string) => lines.filter((l) => l.address === address && (l.level === 'info' || l.level === 'warn') && l.msg.startsWith('peer n3 ')).map((l) => l.msg);
  for (const observer of ['n1', 'n2']) {
    const seen = about(observer);
    assert.ok(seen.some((m) => /^peer n3 is suspected(: it did not answer our probe( nor \d+ indirect probes?)?| by n[12])$/.test(m)), `${observer}: ${seen.join(' | ')}`);
    assert.ok(seen.includes('peer n3 declared dead'), `${observer}: ${seen.join(' | ')}`);
  }

  lines.length = 0;
  sim.start(2);
  sim.runUntil(sim.now + 30_000, () => sim.process(0)!.member('n3')?.state === 'alive');
  assert.ok(about('n1').includes('peer n3 is alive again (was dead)'), about('n1').join(' | '));
});
