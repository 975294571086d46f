/**
 * FLUSHALL by flush floor (flush-floors.ts; docs/REPLICATION.md, "Flush floors"): one HLC version
 * V taken now is every partition's floor. Each live member of the ring gets it in one `fl` message
 * (every partition's floor: a node that holds none of a partition keeps the floor anyway, one
 * version per partition, so it is flushed too should the ring give it the partition), and the
 * flush is done once every one of them acknowledged (`fla`). A member that is down gets it as a
 * floor hint, delivered when membership sees it up again; anti-entropy carries floors too, so a
 * hint lost with this node's memory only delays it.
 *
 * Cost: one message per member, whatever the number of keys; each replica deletes its records
 * at or below V in one pass over each partition (PartitionReplica.settleFloor). The per-key flush
 * before it listed every key from every live owner and sent a tombstone for each to every owner.
 */
import type { Callback, FlushResult } from './api.ts';
import type { ReplicationContext } from './context.ts';
import { flattenFloors } from './flush-floors.ts';
import { compareVersions, MAX_LOGICAL, type HybridLogicalClock, type Version } from './hlc.ts';
import type { KvMessage } from './messages.ts';
import { firstRequestId } from './request-ids.ts';

/** The largest node id (u32 on the wire, record.ts): a floor orders after every version of its millisecond. */
const MAX_NODE_ID = 0xffff_ffff;
/** How many request timeouts a flush waits for every live member's acknowledgement (each timeout resends). */
const FLUSH_ATTEMPTS = 3;

interface PendingFlush {
  floor: Version;
  /** Members not yet acknowledged -> the id of the message sent to each. */
  awaiting: Map<string, number>;
  attemptsLeft: number;
  done: Callback<FlushResult>;
}

/** A member's floors not yet delivered: partition -> floor, and the last delivery in flight. */
interface FloorHint {
  floors: Map<number, Version>;
  storedAtMs: number;
  sent: { id: number; atMs: number; floors: Map<number, Version> } | null;
}

export interface FlushStats {
  flushes: number;
  floorHintsStored: number;
  floorHintsDelivered: number;
}

export class FlushCoordinator {
  readonly stats: FlushStats = { flushes: 0, floorHintsStored: 0, floorHintsDelivered: 0 };
  private nextId: number;
  /** Message id -> the flush it belongs to. */
  private readonly pending = new Map<number, PendingFlush>();
  private readonly hints = new Map<string, FloorHint>();
  /** The floor hints' delivery timer, armed only while there are hints: a cluster that never flushes runs no timer (and every simulator seed replays as before). */
  private timer: number | null = null;
  private stopped = false;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly hlc: HybridLogicalClock,
  ) {
    this.nextId = firstRequestId(ctx.env);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.ctx.env.timers.cancelTimer(this.timer);
    this.timer = null;
    const flushes = new Set(this.pending.values());
    this.pending.clear();
    for (const flush of flushes) flush.done({ code: 'unavailable', message: 'the coordinating node is shutting down' });
  }

  /** Whether every member of the ring can take a floor (else FLUSHALL deletes key by key, as before floors). */
  canFlush(): boolean {
    return this.ctx.placement().members.every((m) => m.name === this.ctx.selfName || (this.ctx.knowsFloors?.(m.name) ?? true));
  }

  /** Raises every partition's floor to a fresh version on every member; `done` once every live one holds it. */
  flushAll(done: Callback<FlushResult>): void {
    const placement = this.ctx.placement();
    // The whole millisecond: a write stamped in it by another node (its HLC concurrent with this
    // one's: same ms, any counter) was not written after the flush, so it goes too. Every member
    // that takes the floor folds it into its HLC, so what it versions afterwards is newer.
    const floor: Version = { wallMs: this.hlc.now().wallMs, logical: MAX_LOGICAL, node: MAX_NODE_ID };
    this.stats.flushes++;
    let answered = false;
    const once: Callback<FlushResult> = (error, result) => {
      if (answered) return;
      answered = true;
      done(error, result);
    };
    const flush: PendingFlush = { floor, awaiting: new Map(), attemptsLeft: FLUSH_ATTEMPTS, done: once };
    for (const { name } of placement.members) {
      if (this.ctx.isAlive(name)) flush.awaiting.set(name, 0);
      else this.hint(name, floor);
    }
    // This node itself, even outside the ring (leaving): its coordinator versions later writes after it.
    flush.awaiting.set(this.ctx.selfName, 0);
    this.sendAll(flush);
  }

  /** `fla`: true when it was an acknowledgement this coordinator waited for. */
  onMessage(from: string, message: KvMessage): boolean {
    if (message.t !== 'fla') return false;
    const flush = this.pending.get(message.id);
    if (flush !== undefined) {
      this.pending.delete(message.id);
      if (flush.awaiting.get(from) === message.id) flush.awaiting.delete(from);
      if (flush.awaiting.size === 0) flush.done(null, { floor: flush.floor });
      return true;
    }
    const hint = this.hints.get(from);
    if (hint?.sent?.id === message.id) {
      for (const [p, floor] of hint.sent.floors) if (hint.floors.get(p) === floor) hint.floors.delete(p);
      hint.sent = null;
      if (hint.floors.size === 0) {
        this.hints.delete(from);
        this.stats.floorHintsDelivered++;
      }
    }
    return true;
  }

  /** Floor hints waiting, per member (for tests and status). */
  hintTargets(): string[] {
    return [...this.hints.keys()];
  }

  private allFloors(floor: Version): number[] {
    const partitions = this.ctx.placement().partitions;
    return flattenFloors(Array.from({ length: partitions }, (_, p) => [p, floor] as const));
  }

  /** Sends the floor to every member still awaited, then resends or gives up after a request timeout. */
  private sendAll(flush: PendingFlush): void {
    const message = (id: number): KvMessage => ({ t: 'fl', id, f: this.allFloors(flush.floor) });
    for (const name of flush.awaiting.keys()) {
      const id = this.nextId++;
      flush.awaiting.set(name, id);
      this.pending.set(id, flush);
      this.ctx.send(name, message(id), 'bulk');
    }
    flush.attemptsLeft--;
    this.ctx.env.timers.setTimer(this.ctx.config.requestTimeoutMs, () => {
      if (flush.awaiting.size === 0) return;
      for (const id of flush.awaiting.values()) this.pending.delete(id);
      // A member membership now takes for down gets the floor as a hint, and is not waited for.
      for (const name of [...flush.awaiting.keys()]) {
        if (name === this.ctx.selfName || this.ctx.isAlive(name)) continue;
        flush.awaiting.delete(name);
        this.hint(name, flush.floor);
      }
      if (flush.awaiting.size === 0) return flush.done(null, { floor: flush.floor });
      if (flush.attemptsLeft > 0) return this.sendAll(flush);
      const silent = [...flush.awaiting.keys()];
      for (const name of silent) this.hint(name, flush.floor);
      flush.done({ code: 'unavailable', message: `${silent.length} members did not acknowledge the flush in time (${silent.join(', ')}); they get it when they answer again` });
    });
  }

  private hint(target: string, floor: Version): void {
    if (target === this.ctx.selfName) return;
    let hint = this.hints.get(target);
    if (hint === undefined) this.hints.set(target, (hint = { floors: new Map(), storedAtMs: 0, sent: null }));
    hint.storedAtMs = this.ctx.env.clock.monoMs();
    for (let p = 0; p < this.ctx.placement().partitions; p++) {
      const held = hint.floors.get(p);
      if (held === undefined || compareVersions(held, floor) < 0) hint.floors.set(p, floor);
    }
    this.stats.floorHintsStored++;
    this.armDelivery();
  }

  private armDelivery(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = this.ctx.env.timers.setTimer(this.ctx.config.hintDeliveryIntervalMs, () => {
      this.timer = null;
      this.deliverHints();
      if (this.hints.size > 0) this.armDelivery();
    });
  }

  /**
   * Every hint delivery interval: floor hints for members up again are sent (again after the hint
   * resend time while unacknowledged); those older than the hint window, or for members no longer
   * in the ring, are dropped (anti-entropy carries floors to whoever still needs them).
   */
  private deliverHints(): void {
    const now = this.ctx.env.clock.monoMs();
    const members = new Set(this.ctx.placement().members.map((m) => m.name));
    for (const [target, hint] of this.hints) {
      if (hint.storedAtMs + this.ctx.config.hintWindowMs <= now || !members.has(target)) {
        this.hints.delete(target);
        continue;
      }
      if (!this.ctx.isAlive(target) || (hint.sent !== null && hint.sent.atMs + this.ctx.config.hintResendMs > now)) continue;
      const id = this.nextId++;
      hint.sent = { id, atMs: now, floors: new Map(hint.floors) };
      this.ctx.send(target, { t: 'fl', id, f: flattenFloors(hint.floors) }, 'bulk');
    }
  }
}
