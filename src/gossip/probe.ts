/**
 * The probe loop (memberlist's probe/probeNode): failure detection with Lifeguard's local health
 * awareness. Each protocol period the next member in probe order gets a ping; no ack within the
 * probe timeout sends ping-req to `indirectChecks` other members, which ping it for us and relay
 * its ack or, after NACK_AFTER_FRACTION of the timeout, a nack; no ack by the end of the period
 * makes the target a suspect. Period and timeout are stretched by the awareness multiplier, and
 * the probe's outcome (acked, or how many expected nacks never came) feeds the awareness score.
 *
 * Also here: answering pings, and probing on another member's behalf (ping-req).
 */
import type { NodeAddress, TimerId } from '../runtime/env.ts';
import type { Awareness } from './awareness.ts';
import { cover } from '../runtime/probes.ts';
import { NACK_AFTER_FRACTION } from './config.ts';
import type { SwimContext } from './context.ts';
import type { Dissemination } from './dissemination.ts';
import { encodedUpdate, type Entry } from './member-table.ts';

interface PendingAck {
  target: string;
  onAck(): void;
  onNack(): void;
}

interface ProbeInFlight {
  seq: number;
  target: string;
  address: NodeAddress;
  acked: boolean;
  indirectStarted: boolean;
  /** Members asked to ping the target for us (ping-req). */
  helpers: number;
  expectedNacks: number;
  nacks: number;
  timeoutTimer: TimerId;
}

/** Why this node suspects a peer it probed: what the suspect line of the log says (docs/OPERATIONS.md). */
export interface SuspicionCause {
  /** 'missed-probe': no ack and nobody to ask for an indirect probe; 'indirect-probe-failed': the ping-req helpers got no ack either. */
  reason: 'missed-probe' | 'indirect-probe-failed';
  indirectHelpers: number;
  /** Lifeguard: nacks received from the helpers, of those expected (a helper that does not even nack hints that we are the slow one). */
  nacks: number;
  expectedNacks: number;
  /** Lifeguard local health score after this probe (0 healthy; timeouts are stretched by score + 1). */
  healthScore: number;
  probeTimeoutMs: number;
}

export class ProbeLoop {
  private readonly pending = new Map<number, PendingAck>();
  private currentProbe: ProbeInFlight | null = null;
  private timer: TimerId | null = null;
  /** Short-lived timers (probe finish, nack, pending cleanup), cancelled by stop(). */
  private readonly oneShots = new Set<TimerId>();
  private seq: number;

  constructor(
    private readonly ctx: SwimContext,
    private readonly dissemination: Dissemination,
    private readonly awareness: Awareness,
    /** A probe of `target` failed: raise the suspicion (ourselves the accuser). */
    private readonly onProbeFailed: (target: Entry, why: SuspicionCause) => void,
  ) {
    // A random starting sequence number: acks meant for a previous life of this address do not match.
    this.seq = ctx.env.random.int(2 ** 30);
  }

  /** Arms the probe tick at a random phase, so a cluster started at once does not probe in lockstep. */
  start(): void {
    const { env, config } = this.ctx;
    this.timer = env.timers.setTimer(env.random.int(config.probeIntervalMs), () => this.tick());
  }

  stop(): void {
    const timers = this.ctx.env.timers;
    if (this.timer !== null) timers.cancelTimer(this.timer);
    if (this.currentProbe) timers.cancelTimer(this.currentProbe.timeoutTimer);
    for (const t of this.oneShots) timers.cancelTimer(t);
    this.oneShots.clear();
  }

  /** A ping reached us: ack it, unless it was meant for another member at our address. */
  answerPing(from: NodeAddress, seq: number, target: string): void {
    if (target !== this.ctx.name) {
      this.ctx.stats.misdirected++;
      return;
    }
    this.dissemination.send(from, { type: 'ack', seq, target: this.ctx.name });
  }

  ackReceived(seq: number, target: string): void {
    this.pendingFor(seq, target)?.onAck();
  }

  nackReceived(seq: number, target: string): void {
    this.pendingFor(seq, target)?.onNack();
  }

  /** A connection to `address` failed: a direct probe of it in flight fails now, and indirect probes start. */
  unreachable(address: NodeAddress): void {
    const probe = this.currentProbe;
    if (probe && probe.address === address && !probe.acked && !probe.indirectStarted) {
      this.ctx.env.timers.cancelTimer(probe.timeoutTimer);
      this.startIndirectProbe(probe);
    }
  }

  /** We are asked to probe `target` for `requester`: relay its ack, or nack if it stays silent. */
  probeForOther(requester: NodeAddress, theirSeq: number, target: string, targetAddress: NodeAddress, wantNack: boolean): void {
    const { config, life } = this.ctx;
    if (life.leaving) return;
    const seq = this.nextSeq();
    let answered = false;
    this.pending.set(seq, {
      target,
      onAck: () => {
        if (answered) return;
        answered = true;
        this.dissemination.send(requester, { type: 'ack', seq: theirSeq, target });
      },
      onNack: () => {},
    });
    this.dissemination.send(targetAddress, { type: 'ping', seq, target });
    if (wantNack) {
      this.later(config.probeTimeoutMs * NACK_AFTER_FRACTION, () => {
        if (answered || life.stopped) return;
        answered = true;
        this.dissemination.send(requester, { type: 'nack', seq: theirSeq, target });
      });
    }
    this.later(config.probeIntervalMs, () => this.pending.delete(seq));
  }

  private tick(): void {
    const { env, config, stats, table, life } = this.ctx;
    if (life.stopped) return;
    const interval = this.awareness.scale(config.probeIntervalMs);
    this.timer = env.timers.setTimer(interval, () => this.tick());
    // Once per protocol period, the table forgets tombstones older than deadReclaimMs.
    if (table.tombstones > 0) stats.reclaimed += table.reclaim(env.clock.monoMs() - config.deadReclaimMs);
    if (life.leaving) return;
    const target = table.nextProbeTarget();
    if (!target) return;
    stats.probes++;
    const seq = this.nextSeq();
    const probe: ProbeInFlight = {
      seq,
      target: target.member.name,
      address: target.member.address,
      acked: false,
      indirectStarted: false,
      helpers: 0,
      expectedNacks: 0,
      nacks: 0,
      timeoutTimer: 0,
    };
    this.currentProbe = probe;
    this.pending.set(seq, {
      target: probe.target,
      onAck: () => {
        if (probe.indirectStarted && !probe.acked) cover(this.ctx.env, 'indirect-probe-ack');
        probe.acked = true;
      },
      onNack: () => {
        probe.nacks++;
      },
    });
    // Buddy system: a suspect hears of its suspicion from the prober itself and can refute at once.
    const buddy = config.lifeguard && target.member.state === 'suspect' ? encodedUpdate(target) : null;
    this.dissemination.send(probe.address, { type: 'ping', seq, target: probe.target }, buddy);
    probe.timeoutTimer = env.timers.setTimer(this.awareness.scale(config.probeTimeoutMs), () => {
      if (!probe.acked && !life.stopped) this.startIndirectProbe(probe);
    });
    this.later(interval, () => this.finishProbe(probe));
  }

  private startIndirectProbe(probe: ProbeInFlight): void {
    const { config, stats, table } = this.ctx;
    probe.indirectStarted = true;
    const helpers = table.sample(config.indirectChecks, (e) => e.member.state === 'alive' && e.member.name !== probe.target);
    const wantNack = config.lifeguard;
    for (const h of helpers) {
      stats.indirectProbes++;
      this.dissemination.send(h.member.address, { type: 'ping-req', seq: probe.seq, target: probe.target, targetAddress: probe.address, wantNack });
    }
    probe.helpers = helpers.length;
    probe.expectedNacks = wantNack ? helpers.length : 0;
  }

  private finishProbe(probe: ProbeInFlight): void {
    this.pending.delete(probe.seq);
    if (this.currentProbe === probe) this.currentProbe = null;
    if (this.ctx.life.stopped) return;
    if (probe.acked) {
      this.awareness.apply(-1);
      return;
    }
    this.ctx.stats.probesFailed++;
    // Lifeguard: helpers that did not even nack suggest that we, not the target, are the slow one.
    this.awareness.apply(probe.expectedNacks > 0 ? probe.expectedNacks - Math.min(probe.nacks, probe.expectedNacks) : 1);
    const entry = this.ctx.table.get(probe.target);
    if (!entry || entry.member.address !== probe.address) return;
    this.onProbeFailed(entry, {
      reason: probe.indirectStarted && probe.helpers > 0 ? 'indirect-probe-failed' : 'missed-probe',
      indirectHelpers: probe.helpers,
      nacks: probe.nacks,
      expectedNacks: probe.expectedNacks,
      healthScore: this.awareness.score,
      probeTimeoutMs: this.awareness.scale(this.ctx.config.probeTimeoutMs),
    });
  }

  private pendingFor(seq: number, target: string): PendingAck | undefined {
    const p = this.pending.get(seq);
    return p && p.target === target ? p : undefined;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) % Number.MAX_SAFE_INTEGER;
    return this.seq;
  }

  /** A short-lived timer that stop() cancels with the rest, so a stopped member leaves none armed. */
  private later(delayMs: number, fn: () => void): void {
    const id = this.ctx.env.timers.setTimer(delayMs, () => {
      this.oneShots.delete(id);
      fn();
    });
    this.oneShots.add(id);
  }
}
