/**
 * Joining (memberlist's Join): a push-pull with every seed, retried with jittered exponential
 * backoff forever, until some peer is alive in our view and a peer's full table has come in (a
 * push-pull answer or a peer's own sync, not only gossip's piggyback); if every peer we knew dies,
 * it starts again. Meanwhile it keeps what each seed last told us, so joinProblem() can say why we are not
 * in yet: a seed unreachable (the transport's reason), silent, or of another cluster (it refused us).
 */
import { cappedBackoff } from '../protocol/backoff.ts';
import type { NodeAddress, TimerId } from '../runtime/env.ts';
import { JOIN_BACKOFF_FACTOR, JOIN_JITTER_MIN } from './config.ts';
import type { SwimContext } from './context.ts';
import type { ClusterRefusal, VersionRefusal } from './membership.ts';
import type { PushPull } from './push-pull.ts';
import type { Seeds } from './seeds.ts';

/** What a seed last told us; a seed that never answered (or answered in our cluster) has none. */
export type SeedProblem =
  | { kind: 'unreachable'; reason: string }
  | { kind: 'refused'; name: string; cluster: string }
  | { kind: 'version'; name: string; reason: string };

export class Join {
  private readonly seedProblems = new Map<NodeAddress, SeedProblem>();
  private timer: TimerId | null = null;
  /** Join attempts since this member last saw others: the exponent of the join backoff. */
  private backoffAttempt = 0;

  constructor(
    private readonly ctx: SwimContext,
    private readonly seeds: Seeds,
    private readonly pushPull: PushPull,
  ) {}

  /** Whether we still wait for a seed to answer. */
  get joining(): boolean {
    return this.timer !== null;
  }

  isSeed(address: NodeAddress): boolean {
    return this.seeds.has(address);
  }

  start(): void {
    if (this.seeds.worthJoining) this.attempt();
  }

  stop(): void {
    if (this.timer !== null) this.ctx.env.timers.cancelTimer(this.timer);
  }

  /** A peer changed state; if every peer we knew is gone, look for the cluster through the seeds again. */
  peerChanged(): void {
    const { life, table } = this.ctx;
    if (table.liveCount <= 1 && !life.leaving && life.started && this.seeds.worthJoining && this.timer === null) this.attempt();
  }

  /** A seed spoke our cluster's gossip: it has no problem to report any more. */
  heardFrom(address: NodeAddress): void {
    if (this.seeds.has(address)) this.seedProblems.delete(address);
  }

  /** The transport could not reach `address`; for a seed, `reason` is what joinProblem() reports. */
  unreachable(address: NodeAddress, reason: string): void {
    if (this.seeds.has(address)) this.seedProblems.set(address, { kind: 'unreachable', reason });
  }

  /** A seed of our cluster refused our sync for our protocol version (`reason` in words). */
  versionRefusedBy(seed: NodeAddress, name: string, reason: string): void {
    if (this.seeds.has(seed)) this.seedProblems.set(seed, { kind: 'version', name, reason });
  }

  /** A seed of another cluster refused our sync. */
  refusedBy(seed: NodeAddress, problem: SeedProblem & { kind: 'refused' }): void {
    this.seedProblems.set(seed, problem);
  }

  /**
   * While we have seeds and see no live peer (joining, or every peer we knew is gone): why no
   * seed has let us in, in words: seeds of another cluster that refused us, seeds the transport
   * could not reach (with its reason), seeds that have not answered. Null when not joining.
   */
  problem(): string | null {
    const { life, table } = this.ctx;
    if (!this.seeds.worthJoining || table.liveCount > 1 || life.stopped || life.leaving) return null;
    const refused: string[] = [];
    const unreachable: string[] = [];
    const silent: string[] = [];
    for (const seed of this.seeds.list) {
      const p = this.seedProblems.get(seed);
      if (p === undefined) silent.push(seed);
      else if (p.kind === 'unreachable') unreachable.push(`${seed} (${p.reason})`);
      else refused.push(p.kind === 'version' ? p.reason : this.refusalText(seed, p));
    }
    const parts = [...refused];
    if (unreachable.length > 0) parts.push(`seeds unreachable: ${unreachable.join(', ')}`);
    if (silent.length > 0) parts.push(`no answer from seeds: ${silent.join(', ')}`);
    return parts.join('; ');
  }

  /** While joining: a seed of another cluster that refused us, with the reason in words; null otherwise. */
  clusterRefusal(): ClusterRefusal | null {
    if (this.problem() === null) return null;
    for (const [seed, p] of this.seedProblems) {
      if (p.kind === 'refused') return { seed, name: p.name, cluster: p.cluster, reason: this.refusalText(seed, p) };
    }
    return null;
  }

  /** While joining: a seed that refused us for our protocol version, with the reason in words; null otherwise. */
  versionRefusal(): VersionRefusal | null {
    if (this.problem() === null) return null;
    for (const [seed, p] of this.seedProblems) if (p.kind === 'version') return { seed, name: p.name, reason: p.reason };
    return null;
  }

  refusalText(seed: NodeAddress, p: { name: string; cluster: string }): string {
    return `seed ${seed} (node ${p.name}) belongs to cluster "${p.cluster}", this node to cluster "${this.ctx.config.clusterName}" (cluster names must match)`;
  }

  private attempt(): void {
    const { env, config, life, stats, table } = this.ctx;
    this.timer = null;
    if (life.stopped || life.leaving) return;
    // In once a peer is alive and a full table has come in: a restarted member that gossip's
    // piggyback told of one peer (its syncs' answers lost or late) knows one member, not the
    // cluster, and would build its first ring from that (restart-probe F7).
    if (table.liveCount > 1 && life.heardFullState) {
      this.backoffAttempt = 0;
      return;
    }
    stats.joinAttempts++;
    // Every seed, as memberlist's Join does: each seed that answers learns us and bridges what it knows.
    // (One seed per attempt was tried: members started together then formed one island per seed.)
    for (const seed of this.seeds.list) this.pushPull.sendState(seed, false);
    // And a peer we heard of, in case no seed answers: it knows the cluster as well as a seed.
    if (table.liveCount > 1) {
      const [peer] = table.sample(1, (e) => e.member.state === 'alive' && !this.seeds.has(e.member.address));
      if (peer) this.pushPull.sendState(peer.member.address, false);
    }
    const base = cappedBackoff(this.backoffAttempt++, { initialDelayMs: config.joinRetryInitialMs, maxDelayMs: config.joinRetryMaxMs, factor: JOIN_BACKOFF_FACTOR });
    const jittered = base * (JOIN_JITTER_MIN + env.random.next());
    this.timer = env.timers.setTimer(jittered, () => this.attempt());
  }
}
