/**
 * Gray failures (Huang et al., HotOS 2017): a node that still answers SWIM's probes but serves
 * badly. They act through the network's one hook (SimNetwork.shaper) and the simulation's pause,
 * so the simulator's own fault schedule (faults.ts) is untouched:
 *
 * - slow replies: every message a node sends takes `factor` times its drawn latency (a starved
 *   process answering late; probes too, but far inside the probe timeout);
 * - packet loss: a fraction of the messages a node sends or receives is dropped;
 * - GC-style pauses: the node handles nothing for a while (Simulation.pause), drawn per node;
 * - a duty cycle: the node is paused, runs a little, is paused again (SIGSTOP/SIGCONT, as the
 *   probe's duty.py does to a real process: the grayest failure made from outside);
 * - event-loop stalls: every node stops for a few milliseconds now and then (a busy coordinator's
 *   own lag: GC scavenges, a large batch of answers), so the answers it awaits wait in its queue
 *   and look slower than the peers made them.
 *
 * Drops are drawn from their own named stream, so a run stays a function of its seed.
 */
import type { SeededRandom } from '../runtime/seeded-random.ts';
import { namedStream } from './rng.ts';
import type { Simulation, SimProcess } from './simulation.ts';

export type GrayFault = { kind: 'slow-replies'; node: number; factor: number } | { kind: 'packet-loss'; node: number; fraction: number };

/** The gray faults in force on one simulation; install() hooks them into its network. */
export class GrayFaults {
  private readonly active: GrayFault[] = [];
  private readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = namedStream(seed, 'gray-faults');
  }

  install<P extends SimProcess>(sim: Simulation<P>): void {
    sim.network.shaper = (from, to, latencyMs) => this.shape(from, to, latencyMs);
  }

  /** Puts `fault` in force; returns its undo. */
  add(fault: GrayFault): () => void {
    this.active.push(fault);
    return () => {
      const i = this.active.indexOf(fault);
      if (i >= 0) this.active.splice(i, 1);
    };
  }

  private shape(from: number, to: number, latencyMs: number): number | null {
    let latency = latencyMs;
    for (const f of this.active) {
      if (f.kind === 'slow-replies' && f.node === from) latency *= f.factor;
      else if (f.kind === 'packet-loss' && (f.node === from || f.node === to) && this.random.chance(f.fraction)) return null;
    }
    return latency;
  }
}

/**
 * Schedules GC-style pauses on every node in [fromMs, untilMs): gaps drawn exponentially with
 * mean `meanGapMs`, lengths uniform in [minPauseMs, maxPauseMs]. Returns how many it scheduled.
 */
export function scheduleGcPauses<P extends SimProcess>(
  sim: Simulation<P>,
  seed: number,
  options: { fromMs: number; untilMs: number; meanGapMs: number; minPauseMs: number; maxPauseMs: number },
): number {
  return scheduleRandomPauses(sim, seed, 'gc-pauses', 'gc-pause', { ...options, minMs: options.minPauseMs, maxMs: options.maxPauseMs });
}

/**
 * Pauses node `index` for `pausedMs`, lets it run `runningMs`, and again, over [fromMs, untilMs).
 * Returns how many pauses it scheduled.
 */
export function scheduleDutyCycle<P extends SimProcess>(
  sim: Simulation<P>,
  index: number,
  options: { fromMs: number; untilMs: number; pausedMs: number; runningMs: number },
): number {
  let count = 0;
  for (let at = options.fromMs; at < options.untilMs; at += options.pausedMs + options.runningMs) {
    sim.at(at, () => sim.pause(index, options.pausedMs), 'duty-pause');
    count++;
  }
  return count;
}

/**
 * Short event-loop stalls on every node in [fromMs, untilMs): gaps drawn exponentially with mean
 * `meanGapMs`, lengths uniform in [minMs, maxMs] (kept under the pause rule's 100 ms: these are a
 * busy process's ordinary lag, not pauses). Returns how many it scheduled.
 */
export function scheduleLoopStalls<P extends SimProcess>(
  sim: Simulation<P>,
  seed: number,
  options: { fromMs: number; untilMs: number; meanGapMs: number; minMs: number; maxMs: number },
): number {
  return scheduleRandomPauses(sim, seed, 'loop-stalls', 'loop-stall', options);
}

/** Pauses on every node at exponential gaps, each from its own named stream (so adding one kind never moves another's draws). */
function scheduleRandomPauses<P extends SimProcess>(
  sim: Simulation<P>,
  seed: number,
  stream: string,
  label: string,
  options: { fromMs: number; untilMs: number; meanGapMs: number; minMs: number; maxMs: number },
): number {
  const r = namedStream(seed, stream);
  let count = 0;
  for (const node of sim.nodes) {
    for (let at = options.fromMs + r.exponential(options.meanGapMs); at < options.untilMs; at += r.exponential(options.meanGapMs)) {
      const forMs = r.between(options.minMs, options.maxMs);
      sim.at(at, () => sim.pause(node.index, forMs), label);
      at += forMs;
      count++;
    }
  }
  return count;
}
