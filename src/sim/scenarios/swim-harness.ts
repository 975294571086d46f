/**
 * Shared machinery of the SWIM scenarios: a simulated cluster of SwimMembership processes, view
 * agreement checks, the event log that judges resurrections and false deaths, and an Env wrapper
 * that starves a member's message processing while its timers keep running (Lifeguard's
 * experiment: a member whose receive loop stalls still fires its own timeouts).
 */
import { LAN_PROFILE, type GossipConfig } from '../../gossip/config.ts';
import type { Membership, MembershipEvent } from '../../gossip/membership.ts';
import { SwimMembership } from '../../gossip/swim.ts';
import type { Env, ReceiveHandler } from '../../runtime/env.ts';
import type { NetworkConfig } from '../network.ts';
import { Simulation, nodeAddress } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';

/** The scenarios see each process only through the Membership interface, as a node does. */
export type SwimSim = Simulation<Membership>;

export interface ClusterOptions {
  seed: number;
  nodes: number;
  trace: EventTrace;
  config?: Partial<GossipConfig>;
  network?: Partial<NetworkConfig>;
  /** How many of the first nodes every member is given as seeds. */
  seedCount?: number;
  autoStart?: boolean;
  /** Decorates a node's Env (fault models that live inside a node, like a stalled receive loop). */
  wrapEnv?: (env: Env, index: number) => Env;
  /** Called for every membership event of every process, with who observed it. */
  onEvent?: (observer: number, observerIncarnation: number, event: MembershipEvent) => void;
}

export function buildCluster(options: ClusterOptions): SwimSim {
  const config: GossipConfig = { ...LAN_PROFILE, ...options.config };
  const seeds = Array.from({ length: Math.min(options.nodes, options.seedCount ?? 1) }, (_, i) => nodeAddress(i));
  return new Simulation<Membership>({
    seed: options.seed,
    nodes: options.nodes,
    trace: options.trace,
    network: options.network ?? {},
    autoStart: options.autoStart ?? true,
    factory: (env, { index, incarnation }) => {
      const m = new SwimMembership(options.wrapEnv ? options.wrapEnv(env, index) : env, {
        name: env.address,
        zone: `zone-${index % 3}`,
        meta: { proto: 1, port: 7000 + index },
        seeds,
        config,
      });
      const onEvent = options.onEvent;
      if (onEvent) m.subscribe((e) => onEvent(index, incarnation, e));
      m.start();
      return m;
    },
  });
}

/**
 * Null when every up member sees exactly the up members as alive, with the incarnation each claims
 * for itself, and nothing else as live (down members dead, left or forgotten). Otherwise, what differs.
 * Cost O(n): digests are compared across members, and one view is checked exactly.
 */
export function viewsAgree(sim: SwimSim): string | null {
  const up = sim.upNodes();
  if (up.length === 0) return null;
  const ref = up[0]!.process!;
  for (const n of up) {
    const p = n.process!;
    if (p.liveMembers() !== up.length) return `${n.address} sees ${p.liveMembers()} live members, ${up.length} are up`;
    if (p.viewDigest() !== ref.viewDigest()) return `${n.address} and ${up[0]!.address} see different views`;
  }
  for (const n of up) {
    const seen = ref.member(n.address);
    const own = n.process!.self().incarnation;
    if (!seen || seen.state !== 'alive') return `${up[0]!.address} sees ${n.address} as ${seen?.state ?? 'unknown'}`;
    if (seen.incarnation !== own) return `${up[0]!.address} knows ${n.address} at incarnation ${seen.incarnation}, it is at ${own}`;
  }
  return null;
}

/** Runs until views agree (checked every `stepMs`) or `untilMs`; returns the time they first agreed, or null. */
export function runUntilAgreed(sim: SwimSim, untilMs: number, stepMs = 100): number | null {
  for (let t = sim.now + stepMs; ; t = Math.min(t + stepMs, untilMs)) {
    sim.runUntil(t);
    if (viewsAgree(sim) === null) return sim.now;
    if (t >= untilMs) return null;
  }
}

/**
 * Judges membership events against the simulator's truth. A *resurrection* is a member shown alive
 * again at an incarnation no higher than the one an observer declared dead, by the same process
 * (no restart in between): the thing tombstones and incarnations exist to prevent. A *flap* is a
 * member declared dead and later alive again without having restarted: a false death, refuted.
 */
export class MembershipJudge {
  resurrections = 0;
  flaps = 0;
  refutedSuspicions = 0;
  deathsDeclared = 0;
  readonly examples: string[] = [];
  /** observer key -> member -> what the observer last declared. */
  private readonly verdicts = new Map<string, Map<string, { deadIncarnation: number; subjectProcess: number; state: string }>>();

  constructor(private readonly sim: SwimSim) {}

  observe = (observer: number, observerIncarnation: number, event: MembershipEvent): void => {
    const key = `${observer}/${observerIncarnation}`;
    let byMember = this.verdicts.get(key);
    if (!byMember) this.verdicts.set(key, (byMember = new Map()));
    const subject = this.sim.indexOf(event.member.address);
    const subjectProcess = subject === undefined ? -1 : this.sim.nodes[subject]!.incarnation;
    const prior = byMember.get(event.member.name);
    switch (event.type) {
      case 'dead':
        this.deathsDeclared++;
        byMember.set(event.member.name, { deadIncarnation: event.member.incarnation, subjectProcess, state: 'dead' });
        return;
      case 'suspect':
        if (prior) prior.state = prior.state === 'dead' ? 'dead' : 'suspect';
        else byMember.set(event.member.name, { deadIncarnation: -1, subjectProcess, state: 'suspect' });
        return;
      case 'joined':
      case 'alive':
      case 'updated': {
        if (!prior) return;
        const sameProcess = prior.subjectProcess === subjectProcess;
        if (prior.state === 'dead' && sameProcess) {
          if (event.member.incarnation <= prior.deadIncarnation) {
            this.resurrections++;
            if (this.examples.length < 5) {
              this.examples.push(`${nodeAddress(observer)} saw ${event.member.name} alive at ${event.member.incarnation} after declaring it dead at ${prior.deadIncarnation}`);
            }
          } else {
            this.flaps++;
          }
        } else if (prior.state === 'suspect') {
          this.refutedSuspicions++;
        }
        prior.state = 'alive';
        return;
      }
      case 'left':
        byMember.delete(event.member.name);
        return;
    }
  };
}

export interface StallWindow {
  fromMs: number;
  toMs: number;
}

/**
 * Wraps a node's Env so that messages arriving during a stall window are held and handled only
 * when the window ends, while the node's timers fire on time. This is the starvation Lifeguard
 * studies: the receive path is late, the node's own deadlines are not, so it blames its peers.
 */
export function stallReceives(env: Env, windows: readonly StallWindow[]): Env {
  let handler: ReceiveHandler | null = null;
  const held: { from: string; bytes: Uint8Array }[] = [];
  let flushScheduled = false;
  const stallEnd = (now: number): number | null => {
    for (const w of windows) if (now >= w.fromMs && now < w.toMs) return w.toMs;
    return null;
  };
  const flush = () => {
    flushScheduled = false;
    const end = stallEnd(env.clock.monoMs());
    if (end !== null) {
      flushScheduled = true;
      env.timers.setTimer(end - env.clock.monoMs(), flush);
      return;
    }
    const batch = held.splice(0, held.length);
    for (const m of batch) handler?.(m.from, m.bytes);
  };
  return {
    ...env,
    transport: {
      send: (to, bytes, lane) => env.transport.send(to, bytes, lane),
      onReceive(h) {
        handler = h;
        env.transport.onReceive((from, bytes) => {
          const end = stallEnd(env.clock.monoMs());
          if (end === null && held.length === 0) {
            handler?.(from, bytes);
            return;
          }
          held.push({ from, bytes });
          if (!flushScheduled) {
            flushScheduled = true;
            env.timers.setTimer(Math.max(0, (end ?? env.clock.monoMs()) - env.clock.monoMs()), flush);
          }
        });
      },
    },
  };
}

/** Sum of every current process's message counters. */
export function trafficTotals(sim: SwimSim): { messages: number; bytes: number } {
  let messages = 0;
  let bytes = 0;
  for (const n of sim.upNodes()) {
    messages += n.process!.stats.messagesSent;
    bytes += n.process!.stats.bytesSent;
  }
  return { messages, bytes };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
