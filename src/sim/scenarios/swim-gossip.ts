/**
 * `gossip`: SWIM + Lifeguard under swarm faults (every fault kind's rate drawn from the seed) plus
 * junk input: each member is fed malformed, truncated, oversized, wrong-version and
 * foreign-cluster messages at a rate drawn from the seed.
 *
 * Invariants (checked throughout, faults or not):
 * - incarnations never regress: an observer never replaces a member's incarnation by a lower one;
 * - no resurrection: a member declared dead comes back only by a new incarnation of itself;
 * - only real members: junk never puts a made-up member in anyone's view;
 * - a running member always sees itself alive.
 * Liveness (once faults stop): every live member sees exactly the live members, all alive, at the
 * incarnation each claims, with identical views.
 */
import { encodeGossipMessage } from '../../gossip/wire.ts';
import type { Env } from '../../runtime/env.ts';
import { runChecked, type Checker } from '../checkers.ts';
import { drawSwarmProfile, drawSwarmSchedule, scheduleFaults } from '../faults.ts';
import { namedStream } from '../rng.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import { nodeAddress } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';
import { MembershipJudge, buildCluster, round, viewsAgree, type SwimSim } from './swim-harness.ts';

/** Mean gap between junk messages at a member, when junk is on for the run. */
const JUNK_MEAN_GAP_MS = 500;
const JUNK_SOURCE = 'intruder';
/** Past the largest gossip message a member accepts by default (`maxMessageBytes`, 8 MiB). */
const OVERSIZED_JUNK_BYTES = 9 * 1024 * 1024;

interface World {
  sim: SwimSim;
  judge: MembershipJudge;
  /** observer key -> member -> highest incarnation seen while the entry existed. */
  seen: Map<string, Map<string, number>>;
  addresses: Set<string>;
}

const checkers: Checker<World>[] = [
  {
    name: 'incarnations-never-regress',
    invariant: ({ sim, seen }) => {
      for (const n of sim.upNodes()) {
        const key = `${n.index}/${n.incarnation}`;
        let byMember = seen.get(key);
        if (!byMember) seen.set(key, (byMember = new Map()));
        const present = new Set<string>();
        for (const m of n.process!.members()) {
          present.add(m.name);
          const before = byMember.get(m.name);
          if (before !== undefined && m.incarnation < before) return `${n.address} went back from incarnation ${before} to ${m.incarnation} for ${m.name}`;
          byMember.set(m.name, m.incarnation);
        }
        // A reclaimed tombstone may legitimately come back at any incarnation (a restarted member).
        for (const name of byMember.keys()) if (!present.has(name)) byMember.delete(name);
      }
      return null;
    },
  },
  {
    name: 'no-resurrection',
    invariant: ({ judge }) => (judge.resurrections > 0 ? judge.examples.join('; ') : null),
  },
  {
    name: 'only-real-members',
    invariant: ({ sim, addresses }) => {
      for (const n of sim.upNodes()) {
        for (const m of n.process!.members()) if (!addresses.has(m.name)) return `${n.address} lists a member that does not exist: ${JSON.stringify(m.name)}`;
      }
      return null;
    },
  },
  {
    name: 'self-alive',
    invariant: ({ sim }) => {
      for (const n of sim.upNodes()) {
        const self = n.process!.self();
        if (self.state !== 'alive') return `${n.address} sees itself ${self.state}`;
      }
      return null;
    },
  },
  { name: 'views-agree', liveness: ({ sim }) => viewsAgree(sim) },
];

/**
 * Feeds a member junk through its own receive path, at seeded times, from a made-up sender.
 * `oversized` is one datagram past the size limit, shared by every member and every send: a fresh
 * 9 MiB array per junk message was most of the scenario's CPU (zeroing and collecting it).
 */
function withJunk(env: Env, seed: number, meanGapMs: number, clusterName: string, oversized: Uint8Array): Env {
  const r = namedStream(seed, `junk/${env.address}`);
  let deliver: ((from: string, bytes: Uint8Array) => void) | null = null;
  let lastReal: Uint8Array | null = null;
  const junk = (): Uint8Array => {
    switch (r.int(6)) {
      case 0:
        return Uint8Array.from({ length: 1 + r.int(200) }, () => r.int(256));
      case 1:
        return lastReal ? lastReal.subarray(0, r.int(lastReal.length)) : new Uint8Array([0x95]);
      case 2:
        return encodeGossipMessage({ cluster: `${clusterName}-other`, sender: 'n1', body: { type: 'gossip' }, updates: [fakeUpdate('n999')] });
      case 3:
        return oversized;
      case 4: {
        const m = encodeGossipMessage({ cluster: clusterName, sender: 'n1', body: { type: 'gossip' }, updates: [] });
        m[1] = 0x7f; // wire version 127
        return m;
      }
      default:
        // Valid msgpack, wrong shape: an update with a bad state code.
        return Uint8Array.from([0x95, 0x01, 0xa1, 0x78, 0xa1, 0x79, 0x06, 0x91, 0x97, 0xa1, 0x7a, 0xa1, 0x7a, 0xa0, 0x01, 0x09, 0x80, 0xc0]);
    }
  };
  const tick = () => {
    if (deliver) deliver(JUNK_SOURCE, junk());
    env.timers.setTimer(r.exponential(meanGapMs), tick);
  };
  env.timers.setTimer(r.exponential(meanGapMs), tick);
  return {
    ...env,
    transport: {
      send: (to, bytes, lane) => env.transport.send(to, bytes, lane),
      onReceive(handler) {
        deliver = handler;
        env.transport.onReceive((from, bytes) => {
          lastReal = bytes;
          handler(from, bytes);
        });
      },
    },
  };
}

function fakeUpdate(name: string) {
  return { name, address: name, zone: '', incarnation: 99, state: 'alive' as const, meta: {}, accuser: null };
}

export function runGossipSwarm(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const swarm = options.faults === 'swarm';
  const profile = swarm ? drawSwarmProfile(options.seed, options.durationMs) : null;
  const junkOn = swarm && namedStream(options.seed, 'junk/profile').chance(0.5);
  const faultPhaseEndMs = profile?.faultPhaseMs ?? 0;
  const oversized = new Uint8Array(junkOn ? OVERSIZED_JUNK_BYTES : 0);
  const world = {} as World;
  const sim = buildCluster({
    seed: options.seed,
    nodes: options.nodes,
    trace,
    seedCount: Math.min(3, options.nodes),
    network: profile?.network ?? {},
    wrapEnv: junkOn ? (env) => withJunk(env, options.seed, JUNK_MEAN_GAP_MS, 'shoal', oversized) : undefined,
    onEvent: (o, i, e) => world.judge.observe(o, i, e),
  });
  Object.assign(world, { sim, judge: new MembershipJudge(sim), seen: new Map(), addresses: new Set(sim.nodes.map((n) => n.address)) });
  const schedule = profile ? drawSwarmSchedule(options.seed, options.nodes, profile, { maxDown: Math.max(1, options.nodes - 2) }) : [];
  if (profile) scheduleFaults(sim, schedule, faultPhaseEndMs);
  const result = runChecked({ sim, world, checkers, faultPhaseEndMs, durationMs: options.durationMs, stopWhenLive: false });

  const totals = { malformed: 0, oversized: 0, unsupportedVersion: 0, foreignCluster: 0, refutations: 0, deathsDeclared: 0, suspicionsRaised: 0 };
  for (const n of sim.upNodes()) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += n.process!.stats[k];
  return {
    violations: result.violations,
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile, faultsScheduled: schedule.length, junk: junkOn } : { junk: false },
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : round(result.recoveryMs / 1000),
      flaps: world.judge.flaps,
      resurrections: world.judge.resurrections,
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
      gossip: totals,
      network: { ...sim.network.stats },
      seeds: [0, 1, 2].slice(0, options.nodes).map(nodeAddress),
    },
  };
}

export const gossipScenario: Scenario = {
  name: 'gossip',
  summary: 'SWIM + Lifeguard under swarm faults and junk input; views must agree once faults stop',
  defaults: { nodes: 16, durationMs: 120_000, faults: 'swarm' },
  run: runGossipSwarm,
};
