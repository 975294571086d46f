/**
 * Fault schedules: a list of timed actions, either scripted by a scenario or drawn from the seed
 * ("swarm" testing: each fault kind's rate is itself drawn from the seed, and is zero for about
 * half of the seeds, so some runs stress one fault hard while others mix several gently).
 *
 * Every fault is healed by the end of the fault phase; the rest of the run is the liveness phase,
 * in which the protocol must recover.
 */
import type { NetworkConfig } from './network.ts';
import type { SeededRandom } from '../runtime/seeded-random.ts';
import { namedStream } from './rng.ts';
import type { Simulation, SimProcess } from './simulation.ts';

export type FaultAction =
  | { kind: 'crash'; node: number; restartAfterMs: number }
  | { kind: 'pause'; node: number; forMs: number }
  | { kind: 'slow'; node: number; costMs: number; forMs: number }
  | { kind: 'isolate'; node: number; forMs: number }
  | { kind: 'split'; minority: number[]; forMs: number }
  | { kind: 'asymmetric'; from: number[]; to: number[]; forMs: number }
  | { kind: 'clog'; from: number; to: number; forMs: number }
  | { kind: 'clock-offset'; node: number; offsetMs: number }
  | { kind: 'clock-drift'; node: number; ppm: number }
  | { kind: 'clock-step'; node: number; stepMs: number };

export interface TimedFault {
  atMs: number;
  action: FaultAction;
}

export type FaultKind = 'crash' | 'pause' | 'slow' | 'isolate' | 'split' | 'asymmetric' | 'clog' | 'clock';
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'pause', 'slow', 'isolate', 'split', 'asymmetric', 'clog', 'clock'];

/** The parameters a swarm run drew from its seed; printed with the run so it can be understood. */
export interface SwarmProfile {
  network: Pick<NetworkConfig, 'lossRate' | 'duplicateRate' | 'minLatencyMs' | 'meanExtraLatencyMs'>;
  /** Expected faults of each kind per simulated minute (0 = this kind is off for the run). */
  ratesPerMinute: Record<FaultKind, number>;
  faultPhaseMs: number;
}

export interface SwarmLimits {
  /** At most this many nodes crashed or paused at once (keeps a quorum reachable when needed). */
  maxDown: number;
}

/** Maximum rates a swarm run may draw, per kind, in faults per simulated minute. */
const MAX_RATE_PER_MINUTE: Record<FaultKind, number> = {
  crash: 10,
  pause: 12,
  slow: 8,
  isolate: 6,
  split: 4,
  asymmetric: 6,
  clog: 12,
  clock: 8,
};

/**
 * Draws a swarm profile from the seed. About half of the fault kinds are off in any one run; a kind
 * in `always` runs at least at half its maximum rate (the draws are the same either way, so the
 * other kinds' rates do not change).
 */
export function drawSwarmProfile(seed: number, durationMs: number, kinds: readonly FaultKind[] = FAULT_KINDS, always: readonly FaultKind[] = []): SwarmProfile {
  const r = namedStream(seed, 'faults/profile');
  const maybe = (max: number) => (r.chance(0.5) ? 0 : round3(r.between(0, max)));
  const rates = {} as Record<FaultKind, number>;
  for (const kind of FAULT_KINDS) rates[kind] = kinds.includes(kind) ? maybe(MAX_RATE_PER_MINUTE[kind]) : 0;
  for (const kind of always) rates[kind] = Math.max(rates[kind], MAX_RATE_PER_MINUTE[kind] / 2);
  return {
    network: {
      lossRate: maybe(0.1),
      duplicateRate: maybe(0.05),
      minLatencyMs: round3(r.between(0.1, 2)),
      meanExtraLatencyMs: round3(r.between(0.1, 20)),
    },
    ratesPerMinute: rates,
    faultPhaseMs: Math.floor(durationMs * 0.6),
  };
}

/** Draws the timed faults of a swarm run from its profile. */
export function drawSwarmSchedule(seed: number, nodes: number, profile: SwarmProfile, limits: SwarmLimits): TimedFault[] {
  const r = namedStream(seed, 'faults/schedule');
  const events: TimedFault[] = [];
  const end = profile.faultPhaseMs;
  const down: { node: number; until: number }[] = [];
  const nodeFree = (at: number, node: number) => !down.some((d) => d.node === node && d.until > at);
  const downCount = (at: number) => down.filter((d) => d.until > at).length;
  const anyNode = () => r.int(nodes);
  const dur = (lo: number, hi: number, at: number) => Math.min(r.between(lo, hi), end - at);

  for (const kind of FAULT_KINDS) {
    const rate = profile.ratesPerMinute[kind];
    if (rate <= 0 || nodes < 2) continue;
    for (let at = r.exponential(60_000 / rate); at < end; at += r.exponential(60_000 / rate)) {
      const atMs = Math.floor(at);
      switch (kind) {
        case 'crash':
        case 'pause': {
          const node = anyNode();
          if (downCount(atMs) >= limits.maxDown || !nodeFree(atMs, node)) break;
          const forMs = Math.floor(dur(kind === 'crash' ? 500 : 50, kind === 'crash' ? 15_000 : 5_000, atMs));
          down.push({ node, until: atMs + forMs });
          events.push({ atMs, action: kind === 'crash' ? { kind, node, restartAfterMs: forMs } : { kind, node, forMs } });
          break;
        }
        case 'slow':
          events.push({ atMs, action: { kind, node: anyNode(), costMs: round3(r.between(1, 50)), forMs: Math.floor(dur(500, 10_000, atMs)) } });
          break;
        case 'isolate':
          events.push({ atMs, action: { kind, node: anyNode(), forMs: Math.floor(dur(500, 10_000, atMs)) } });
          break;
        case 'split': {
          const size = 1 + r.int(Math.max(1, Math.floor((nodes - 1) / 2)));
          const minority = shuffled(r, nodes).slice(0, size).sort((a, b) => a - b);
          events.push({ atMs, action: { kind, minority, forMs: Math.floor(dur(1_000, 15_000, atMs)) } });
          break;
        }
        case 'asymmetric': {
          const node = anyNode();
          const others = shuffled(r, nodes).filter((n) => n !== node).slice(0, 1 + r.int(nodes - 1));
          const outbound = r.chance(0.5);
          events.push({
            atMs,
            action: { kind, from: outbound ? [node] : others, to: outbound ? others : [node], forMs: Math.floor(dur(500, 10_000, atMs)) },
          });
          break;
        }
        case 'clog': {
          const from = anyNode();
          let to = anyNode();
          if (to === from) to = (to + 1) % nodes;
          events.push({ atMs, action: { kind, from, to, forMs: Math.floor(dur(100, 5_000, atMs)) } });
          break;
        }
        case 'clock': {
          const node = anyNode();
          const which = r.int(3);
          const action: FaultAction =
            which === 0
              ? { kind: 'clock-offset', node, offsetMs: Math.floor(r.between(-5_000, 5_000)) }
              : which === 1
                ? { kind: 'clock-drift', node, ppm: Math.floor(r.between(-500, 500)) }
                : { kind: 'clock-step', node, stepMs: Math.floor(r.between(-2_000, 2_000)) };
          events.push({ atMs, action });
          break;
        }
      }
    }
  }
  return events.sort((a, b) => a.atMs - b.atMs);
}

/** Schedules every fault on the simulation, and a full heal at `healAtMs`. */
export function scheduleFaults<P extends SimProcess>(sim: Simulation<P>, faults: readonly TimedFault[], healAtMs: number): void {
  for (const f of faults) sim.at(f.atMs, () => applyFault(sim, f.action), f.action.kind);
  sim.at(healAtMs, () => healEverything(sim), 'heal');
}

export function applyFault<P extends SimProcess>(sim: Simulation<P>, action: FaultAction): void {
  const net = sim.network;
  switch (action.kind) {
    case 'crash': {
      sim.crash(action.node);
      sim.after(action.restartAfterMs, () => sim.start(action.node), 'restart');
      return;
    }
    case 'pause':
      return sim.pause(action.node, action.forMs);
    case 'slow':
      return sim.slow(action.node, action.costMs, action.forMs);
    case 'isolate': {
      const others = sim.nodes.map((n) => n.index).filter((i) => i !== action.node);
      const undoOut = net.cut([action.node], others);
      const undoIn = net.cut(others, [action.node]);
      sim.after(action.forMs, () => (undoOut(), undoIn()), 'heal-isolate');
      return;
    }
    case 'split': {
      const minority = new Set(action.minority);
      const a = sim.nodes.map((n) => n.index).filter((i) => minority.has(i));
      const b = sim.nodes.map((n) => n.index).filter((i) => !minority.has(i));
      const undoAB = net.cut(a, b);
      const undoBA = net.cut(b, a);
      sim.after(action.forMs, () => (undoAB(), undoBA()), 'heal-split');
      return;
    }
    case 'asymmetric': {
      const undo = net.cut(action.from, action.to);
      sim.after(action.forMs, undo, 'heal-asymmetric');
      return;
    }
    case 'clog':
      return net.clog(action.from, action.to, sim.now + action.forMs);
    case 'clock-offset':
      return sim.nodes[action.node]!.clock.setOffset(action.offsetMs);
    case 'clock-drift':
      return sim.nodes[action.node]!.clock.setDrift(action.ppm);
    case 'clock-step':
      return sim.nodes[action.node]!.clock.step(action.stepMs);
  }
}

/**
 * Ends the fault phase: partitions and clogs healed, crashed nodes restarted, pauses and slowness
 * lifted, loss and duplication off. Clock errors are left in place: a real cluster lives with skew.
 */
export function healEverything<P extends SimProcess>(sim: Simulation<P>): void {
  sim.network.healAll();
  sim.network.config = { ...sim.network.config, lossRate: 0, duplicateRate: 0 };
  for (const node of sim.nodes) {
    node.pausedUntil = Math.min(node.pausedUntil, sim.now);
    node.slowUntil = 0;
    if (!node.up) sim.start(node.index);
  }
}

function shuffled(r: SeededRandom, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
