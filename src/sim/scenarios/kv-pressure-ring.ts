/**
 * `kv-pressure-ring`: kv-pressure-forgetful (stores several times too small, each node's eviction
 * shadow cut to 64 keys, so evicted keys are forgotten and the filter of forgotten keys answers for
 * them with an inexact bound, `ra` flag `ei`) while the ring changes on purpose, under the swarm's
 * faults: owners crash and restart with an empty store and catch up, owners stop for a restart
 * and come back, a new node joins and gains partitions, nodes drain (and undrain: they gain their
 * share back), nodes leave (the others gain their partitions) and join again, and one node misses
 * 3 s of writes before the node holding the most hints crashes with them (so an owner keeps an
 * older copy the restarted one can catch up from). Odd nodes have twice the even ones' memory.
 * A step waits until every node is up, none catching up, leaving or draining.
 *
 * It puts assumption (ii) of the inexact-eviction rule to the test (docs/REPLICATION.md, "An
 * inexact eviction answer asks the other owners before it decides"): an owner that restarted or
 * gained the partition and caught up from sources that had evicted and forgotten a write holds
 * the older copy and counts as "nothing newer". The kv checkers judge every read (no lost
 * acknowledged write at R + W > N, read-your-writes, no fabricated value), and here an eviction
 * inversion (an older value answered over a write some store evicted) fails the run rather than
 * being counted apart as in kv-pressure; misses stay allowed.
 *
 * Figures that show the case was exercised (the kv-pressure-ring sweep asserts them on seeds 5
 * and 10, test/sim/sweeps-pressure.test.ts):
 * `ring` (the steps done), `freshOwners` (reads where one owner answered an inexact eviction and
 * another, restarted, joined or newly gaining the partition, answered a copy or nothing: `beside`;
 * of those, the ones the coordinator answered over the inexact eviction: `countedInAnswer`; the
 * reads where that fresh owner's answer was older than a QUORUM or ALL write acknowledged before
 * the read: `behindBeside`, `behindWithCopy` when it held an older copy rather than nothing,
 * `behindCountedInAnswer` when the coordinator answered over the inexact eviction), and
 * `answersOverInexactEviction`.
 */
import type { ShoalNode } from '../../node/node.ts';
import { DrainRefusedError } from '../../node/drain.ts';
import { MessageFamily } from '../../node/wire.ts';
import { joinDatagram } from '../../protocol/datagram.ts';
import { compareVersions, ZERO_VERSION, type Version } from '../../replication/hlc.ts';
import { decodeKvMessage, type KvMessage } from '../../replication/messages.ts';
import { decodeRecord } from '../../replication/record.ts';
import type { Env, Transport } from '../../runtime/env.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { ProcessInfo } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';
import type { KvCluster } from './kv-cluster.ts';
import type { Op } from './kv-workload.ts';
import { FORGETFUL_SHADOW_ENTRIES, PRESSURE_MAX_MEMORY, PRESSURE_WORKLOAD, runKvPressure, type PressureExtras } from './kv-pressure.ts';
import { KV_WORKLOAD_START_MS } from './kv.ts';

/** The first ring step, once the workload has filled the stores past their budget. */
const FIRST_STEP_MS = 4_000;
/** Pause between one step's end and the next step's start (once the cluster is steady again). */
const STEP_GAP_MS = 1_500;
const STEADY_POLL_MS = 100;
/**
 * Odd nodes' memory: twice the others'. The even nodes evict and forget as in
 * kv-pressure-forgetful; the odd ones keep older copies a while longer, which a restarted owner
 * can catch up from (as in the memory-skew case of docs/REPLICATION.md, one small node beside
 * larger ones).
 */
const ROOMY_MEMORY = 2 * PRESSURE_MAX_MEMORY;
/** How long a crashed owner stays down, a drained node drained, a node that left away. */
const DOWN_MS = 1_000;
/** No step starts closer than this to the end of the fault phase (it must end before the heal). */
const STEP_MARGIN_MS = 5_000;

type Step = 'crash-restart' | 'join' | 'drain' | 'stop-restart' | 'leave' | 'miss-then-restart';
/** The steps in order: one join (a new node), then the others in turn until the fault phase ends. */
const FIRST_STEPS: readonly Step[] = ['crash-restart', 'join'];
const CYCLE: readonly Step[] = ['miss-then-restart', 'drain', 'stop-restart', 'leave', 'crash-restart'];
/** How long one owner hears no replication in a miss-then-restart step: the writes meanwhile are hinted for it. */
const MISS_MS = 3_000;

/** One owner's answer to a read, as the coordinator received it. */
interface Answer {
  from: string;
  /** An eviction bound from the filter of forgotten keys (`ei`). */
  inexact: boolean;
  /** The owner is restarted, joined, or gained the partition since the workload started. */
  fresh: boolean;
  /** Ready, and a copy or nothing (no eviction, no floor): it counts as "nothing newer" than its copy. */
  plain: boolean;
  /** Its copy (or nothing) is older than a QUORUM or ALL write acknowledged before the read was sent. */
  behindAcked: boolean;
  /** It answered a copy (not nothing). */
  copy: boolean;
}

/**
 * Watches reads from each coordinator: which key each read it sent asks about (its `r` messages),
 * and every answer it gets (`ra`), to count the reads where an owner answered an inexact eviction
 * and a fresh owner (restarted, joined, or holding a replica of the partition that it did not hold
 * when the workload started) answered too, and those where that fresh owner's copy was older than
 * an acknowledged QUORUM or ALL write: the case assumption (ii) is about.
 */
class FreshOwnerReads {
  readonly counts = {
    /** Reads with an inexact eviction answer and a fresh owner's plain answer. */
    beside: 0,
    /** Of those the coordinator answered over the inexact eviction. */
    countedInAnswer: 0,
    /** Reads with an inexact eviction answer and a fresh owner's plain answer older than an acknowledged strict write. */
    behindBeside: 0,
    /** Of those, the reads where that fresh owner held an older copy (not nothing): what a read could answer. */
    behindWithCopy: 0,
    /** Of the reads behind, those the coordinator answered over the inexact eviction. */
    behindCountedInAnswer: 0,
  };
  /** Per process: its replicas held when the workload started (none for a process started later). */
  private readonly original = new Map<ShoalNode, WeakSet<object>>();
  private readonly byName = new Map<string, ShoalNode>();
  /** Acknowledged non-sloppy QUORUM and ALL writes per key, in acknowledgement order. */
  private readonly strictAcks = new Map<string, { endMs: number; version: Version }[]>();
  /** Ring versions any coordinator was on when an answer reached it. */
  readonly ringVersions = new Set<string>();
  now: () => number = () => 0;

  readonly instrument = (env: Env, _info: ProcessInfo, build: (env: Env) => ShoalNode): ShoalNode => {
    /** The coordinator's reads by request id, from the `r` messages it sends. */
    const sent = new Map<number, { p: number; key: string; atMs: number }>();
    const answers = new Map<number, Answer[]>();
    const transport: Transport = {
      send: (to, bytes, lane) => {
        const whole = joinDatagram(bytes);
        const m = whole[0] === MessageFamily.kv ? decodeKvMessage(whole.subarray(1)) : null;
        if (m?.t === 'r' && !sent.has(m.id)) sent.set(m.id, { p: m.p, key: m.k, atMs: this.now() });
        env.transport.send(to, bytes, lane);
      },
      onReceive: (handler) => env.transport.onReceive(handler),
    };
    const node = build({ ...env, transport });
    this.byName.set(node.name, node);
    // Until the snapshot (processes started later never get one), every replica counts as fresh.
    this.original.set(node, new WeakSet());
    const onReply = node.kv.onReply.bind(node.kv);
    node.kv.onReply = (from: string, message: KvMessage) => {
      const read = message.t === 'ra' ? sent.get(message.id) : undefined;
      if (message.t !== 'ra' || read === undefined) return onReply(from, message);
      this.ringVersions.add(node.placement().version);
      let list = answers.get(message.id);
      if (!list) answers.set(message.id, (list = []));
      const before = { beside: this.beside(list), behind: this.behind(list), withCopy: this.behind(list, true), answered: node.kv.stats.answersOverInexactEviction };
      if (!list.some((a) => a.from === from)) {
        const plain = message.ready && message.e === undefined && message.f === undefined;
        const version = message.r ? decodeRecord(message.r).version : ZERO_VERSION;
        const acked = this.newestStrictBefore(read.key, read.atMs);
        list.push({ from, inexact: message.ei === true, fresh: this.fresh(from, read.p), plain, behindAcked: plain && acked !== null && compareVersions(version, acked) < 0, copy: message.r !== null });
      }
      onReply(from, message);
      if (!before.beside && this.beside(list)) this.counts.beside++;
      if (!before.behind && this.behind(list)) this.counts.behindBeside++;
      if (!before.withCopy && this.behind(list, true)) this.counts.behindWithCopy++;
      if (node.kv.stats.answersOverInexactEviction > before.answered) {
        if (this.beside(list)) this.counts.countedInAnswer++;
        if (this.behind(list)) this.counts.behindCountedInAnswer++;
      }
    };
    return node;
  };

  /** Called once the workload starts: every replica held now is an original one. */
  snapshot(processes: readonly ShoalNode[]): void {
    for (const node of processes) this.original.set(node, new WeakSet(node.heldPartitions().values()));
  }

  completed = (op: Op): void => {
    if (op.kind !== 'write' || op.outcome !== 'acked' || op.version === null || op.sloppy || op.consistency === 'one') return;
    let list = this.strictAcks.get(op.key);
    if (!list) this.strictAcks.set(op.key, (list = []));
    list.push({ endMs: op.endMs!, version: op.version });
  };

  private newestStrictBefore(key: string, atMs: number): Version | null {
    let newest: Version | null = null;
    for (const a of this.strictAcks.get(key) ?? []) {
      if (a.endMs >= atMs) break;
      if (newest === null || compareVersions(a.version, newest) > 0) newest = a.version;
    }
    return newest;
  }

  /** Whether `name`'s replica of partition p is fresh: its process restarted or joined, or it gained p since the workload started. */
  private fresh(name: string, p: number): boolean {
    const node = this.byName.get(name);
    const replica = node?.heldPartitions().get(p);
    return node !== undefined && replica !== undefined && !this.original.get(node)!.has(replica);
  }

  /** An inexact eviction answer and a fresh owner's plain answer (from different owners: one answer is not both). */
  private beside(list: readonly Answer[]): boolean {
    return list.some((a) => a.inexact) && list.some((b) => b.fresh && b.plain);
  }

  /** As `beside`, with the fresh owner's copy (`withCopy`: a copy, not nothing) older than an acknowledged strict write. */
  private behind(list: readonly Answer[], withCopy = false): boolean {
    return list.some((a) => a.inexact) && list.some((b) => b.fresh && b.behindAcked && (b.copy || !withCopy));
  }
}

/**
 * Runs the ring steps: each waits until the cluster is steady (every node up, none catching up,
 * leaving or stopping), does its change, and the next follows STEP_GAP_MS after it ended. Nodes
 * are picked from the scenario's own stream, so the other draws stay as they were.
 */
function scheduleRingSteps(cluster: KvCluster, faultPhaseEndMs: number, done: Record<Step | 'drainsRefused' | 'restartsSkipped', number>): void {
  const sim = cluster.sim;
  const pick = sim.stream('kv-pressure-ring/steps');
  const steady = () => sim.upNodes().length === sim.nodes.length && !cluster.anyCatchingUp() && !cluster.anyStopping() && sim.upNodes().every((n) => n.process!.drainProgress().state === 'serving');
  // A restart takes the node's hints with it: the owners they were for keep the older copy, and
  // the restarted node catches up from them. So restarts go to the node holding the most hints.
  const mostHints = (except = -1): number => {
    const held = sim.upNodes().filter((node) => node.index !== except).map((node) => ({ index: node.index, hints: node.process!.stats().hints.held }));
    const most = Math.max(...held.map((h) => h.hints));
    const candidates = held.filter((h) => h.hints === most);
    return candidates[pick.int(candidates.length)]!.index;
  };
  let n = 0;
  const next = (): void => {
    if (sim.now + STEP_MARGIN_MS > faultPhaseEndMs) return;
    if (!steady()) return void sim.after(STEADY_POLL_MS, next, 'ring-step-poll');
    const step = n < FIRST_STEPS.length ? FIRST_STEPS[n]! : CYCLE[(n - FIRST_STEPS.length) % CYCLE.length]!;
    n++;
    const i = step === 'crash-restart' || step === 'stop-restart' ? mostHints() : pick.int(sim.nodes.length);
    const then = () => sim.after(STEP_GAP_MS, next, 'ring-step');
    switch (step) {
      case 'miss-then-restart': {
        // One node hears nothing for MISS_MS (it still sends: gossip keeps it alive); writes are
        // acknowledged by the other owners, which hint them. Then the node holding the most hints
        // crashes with them, and the node that missed the writes keeps the older copies.
        const others = sim.nodes.map((node) => node.index).filter((other) => other !== i);
        const undo = sim.network.cut(others, [i]);
        done[step]++;
        return void sim.after(MISS_MS, () => {
          undo();
          // Not while the swarm has a node down or catching up: two wiped owners lose writes no protocol could keep.
          if (!steady()) return void (done.restartsSkipped++, then());
          const victim = mostHints(i);
          cluster.crash(victim);
          sim.after(DOWN_MS, () => (cluster.restart(victim), then()), 'ring-restart');
        }, 'ring-miss');
      }
      case 'crash-restart':
        cluster.crash(i);
        done[step]++;
        return void sim.after(DOWN_MS, () => (cluster.restart(i), then()), 'ring-restart');
      case 'join':
        cluster.addNode();
        done[step]++;
        return then();
      case 'stop-restart':
        return cluster.stopForRestart(i, () => {
          done[step]++;
          sim.after(DOWN_MS, () => (cluster.restart(i), then()), 'ring-restart');
        });
      case 'leave':
        return cluster.leave(i, () => {
          done[step]++;
          sim.after(DOWN_MS, () => (cluster.restart(i), then()), 'ring-rejoin');
        });
      case 'drain':
        try {
          sim.process(i)!.drain();
        } catch (error) {
          if (!(error instanceof DrainRefusedError)) throw error;
          done.drainsRefused++;
          return then();
        }
        done[step]++;
        return void sim.after(STEADY_POLL_MS, function undrainOnceDrained(): void {
          const node = sim.process(i);
          // A node that crashed while draining comes back undrained.
          if (node && node.drainProgress().state === 'draining') return void sim.after(STEADY_POLL_MS, undrainOnceDrained, 'ring-drain-poll');
          sim.after(DOWN_MS, () => (sim.process(i)?.undrain(), then()), 'ring-undrain');
        }, 'ring-drain-poll');
    }
  };
  sim.at(FIRST_STEP_MS, next, 'ring-step');
  // The heal starts every node that is down; one that left must be counted as a member again first.
  sim.at(faultPhaseEndMs, () => {
    for (const node of sim.nodes) if (!node.up) cluster.restart(node.index);
  }, 'ring-heal');
}

export function runKvPressureRing(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const reads = new FreshOwnerReads();
  const steps = { 'crash-restart': 0, join: 0, drain: 0, 'stop-restart': 0, leave: 0, 'miss-then-restart': 0, drainsRefused: 0, restartsSkipped: 0 };
  const extras: PressureExtras = {
    instrument: reads.instrument,
    inversionsFail: true,
    nodeConfig: ({ index }) => ({ maxMemory: index % 2 === 0 ? PRESSURE_MAX_MEMORY : ROOMY_MEMORY }),
    completed: reads.completed,
    operations: (cluster, faultPhaseEndMs) => {
      reads.now = () => cluster.sim.now;
      cluster.sim.at(KV_WORKLOAD_START_MS, () => reads.snapshot(cluster.sim.upNodes().map((n) => n.process!)), 'fresh-owner-snapshot');
      scheduleRingSteps(cluster, faultPhaseEndMs, steps);
    },
    figures: () => ({ ring: { ...steps, distinctRings: reads.ringVersions.size }, freshOwners: reads.counts }),
  };
  return runKvPressure(options, trace, { workload: PRESSURE_WORKLOAD, maxMemory: PRESSURE_MAX_MEMORY, disk: null, shadowEntries: FORGETFUL_SHADOW_ENTRIES, extras });
}

export const kvPressureRingScenario: Scenario = {
  name: 'kv-pressure-ring',
  summary: 'kv-pressure-forgetful while owners crash or stop and restart, a node joins, nodes drain and undrain, leave and rejoin: restarted and newly gaining owners under pressure',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  minNodes: 4,
  run: runKvPressureRing,
};
