/**
 * One actor system per node: named actors with bounded mailboxes, handled one message at a time,
 * `tell`, `ask` with a timeout, and restart-on-failure supervision.
 *
 * Scheduling (why it is deterministic): there are no promises, microtasks or hidden timers in the
 * delivery path. A `tell` appends to the target's mailbox and puts the actor on the system's ready
 * queue. If no message is being handled at that moment (the tell came from outside: a transport
 * receive, a timer, a test), the system drains right there, synchronously, before `tell`
 * returns: it takes ready actors round-robin, one message per turn, until every mailbox is empty.
 * If a message is being handled (a re-entrant tell from inside a handler, to any actor including
 * itself), the message is only queued, and the running drain loop delivers it after the current
 * handler returns. So an actor never runs two handlers at once, each mailbox is FIFO, and the
 * order of everything is a pure function of the order of the outside calls, which the simulator
 * controls. A drain that exceeds MAX_MESSAGES_PER_DRAIN (a message storm or a ping-pong bug)
 * yields and continues from a zero-delay timer of the injected Timers, so it stays deterministic.
 *
 * Supervision: an actor whose handler throws is restarted: `stopped()` is called on the old
 * instance, its factory builds a fresh one (fresh state), the failure is counted and logged, the
 * failing message is dropped (an ask waiting on it fails at once with ActorFailedError), and the
 * rest of its mailbox is kept. The node lives on. An actor whose factory throws during a restart
 * is stopped.
 */
import { silentLogger, type Logger, type TimerId, type Timers } from '../runtime/env.ts';
import { actorAddress, formatAddress } from './address.ts';
import type { ActorAddress } from './address.ts';
import {
  ActorFailedError,
  ActorNotFoundError,
  ActorStoppedError,
  AskTimeoutError,
  DuplicateActorError,
  MailboxFullError,
} from './errors.ts';
import { BoundedQueue } from './mailbox.ts';

/**
 * Default mailbox bound. Large enough to absorb a burst of requests to one partition, small enough
 * that a stuck actor is noticed (rejections are counted) long before it exhausts memory.
 */
export const DEFAULT_MAILBOX_CAPACITY = 1024;

/** Messages handled in one synchronous drain before yielding to the timer queue. */
export const MAX_MESSAGES_PER_DRAIN = 100_000;

/** What an actor does with a message. Keep state in the object; the factory makes a fresh one on restart. */
export interface Actor<M> {
  receive(message: M): void;
  /** Called when the actor is stopped or replaced by a restart. Errors thrown here are logged and ignored. */
  stopped?(): void;
}

/** Sends a reply to an ask. Calls after the first, or after the ask timed out, are ignored (and counted). */
export type Reply<R> = (value: R) => void;

export type AskError = AskTimeoutError | MailboxFullError | ActorNotFoundError | ActorStoppedError | ActorFailedError;
export type AskResult<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: AskError };
export type AskCallback<R> = (result: AskResult<R>) => void;

/** Builds a request message that carries its reply function. */
export type RequestBuilder<M, R> = (reply: Reply<R>) => M;

export interface ActorRef<M> {
  readonly address: ActorAddress;
  /**
   * Queues `message`. Returns false, and counts it, if the mailbox is full (shed load) or the
   * actor no longer exists (a dead letter).
   */
  tell(message: M): boolean;
  /** Like `tell`, but throws MailboxFullError or ActorNotFoundError instead of returning false. */
  tellOrThrow(message: M): void;
}

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly system: ActorSystem;
  /**
   * Asks `target` and delivers the outcome to `callback` as a turn of THIS actor: the callback
   * never runs while this actor is handling another message, so it may touch the actor's state.
   */
  ask<N, R>(target: ActorRef<N>, request: RequestBuilder<N, R>, timeoutMs: number, callback: AskCallback<R>): void;
}

export type ActorFactory<M> = (context: ActorContext<M>) => Actor<M>;

export interface SpawnOptions {
  /** Default DEFAULT_MAILBOX_CAPACITY. */
  readonly mailboxCapacity?: number;
}

export interface ActorSystemOptions {
  /** This node's member name; the `node` part of every address. */
  readonly node: string;
  /** For ask timeouts and drain continuations (the Env's timers). */
  readonly timers: Timers;
  /** Where failures are reported (the Env's logger). */
  readonly log?: Logger;
}

export interface ActorStats {
  readonly processed: number;
  /** Handler failures, each followed by a restart. */
  readonly failures: number;
  /** Messages refused because the mailbox was full. */
  readonly rejected: number;
  readonly mailboxSize: number;
  readonly mailboxHighWater: number;
  readonly mailboxCapacity: number;
}

export interface SystemStats {
  readonly actors: number;
  readonly processed: number;
  readonly failures: number;
  readonly restarts: number;
  readonly rejected: number;
  /** Messages to actors that did not exist, or still queued when their actor stopped. */
  readonly deadLetters: number;
  readonly askTimeouts: number;
  /** Replies that arrived after their ask had already been settled (timed out, or replied twice). */
  readonly lateReplies: number;
  /** Errors thrown by edge (non-actor) ask callbacks; logged and swallowed so they cannot hit an actor. */
  readonly callbackErrors: number;
}

type Envelope<M> =
  | { readonly kind: 'message'; readonly message: M; readonly ask: PendingAsk<unknown> | undefined }
  | { readonly kind: 'turn'; readonly run: () => void };

interface Cell<M> {
  readonly address: ActorAddress;
  readonly factory: ActorFactory<M>;
  readonly mailbox: BoundedQueue<Envelope<M>>;
  readonly ref: ActorRef<M>;
  readonly context: ActorContext<M>;
  actor: Actor<M> | undefined;
  scheduled: boolean;
  stopped: boolean;
  processed: number;
  failures: number;
  rejected: number;
}

/** One outstanding ask: settles exactly once, by reply, failure or timeout. */
class PendingAsk<R> {
  settled = false;
  timer: TimerId | undefined;
  constructor(
    readonly target: ActorAddress,
    private readonly deliver: AskCallback<R>,
  ) {}

  settle(result: AskResult<R>): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.deliver(result);
    return true;
  }
}


export class ActorSystem {
  readonly node: string;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly cells = new Map<string, Cell<never>>();
  private readonly ready = new BoundedQueue<Cell<never>>(Infinity);
  private readonly pendingAsks = new Set<PendingAsk<unknown>>();
  private draining = false;
  private continuation: TimerId | undefined;
  private counters = {
    processed: 0,
    failures: 0,
    restarts: 0,
    rejected: 0,
    deadLetters: 0,
    askTimeouts: 0,
    lateReplies: 0,
    callbackErrors: 0,
  };

  constructor(options: ActorSystemOptions) {
    this.node = options.node;
    this.timers = options.timers;
    this.log = options.log ?? silentLogger;
  }

  /** Creates an actor. Throws DuplicateActorError if the name is taken, or whatever the factory throws. */
  spawn<M>(name: string, factory: ActorFactory<M>, options: SpawnOptions = {}): ActorRef<M> {
    const address = actorAddress(this.node, name);
    if (this.cells.has(name)) throw new DuplicateActorError(address);
    const capacity = options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
    const cell: Cell<M> = {
      address,
      factory,
      mailbox: new BoundedQueue<Envelope<M>>(capacity),
      ref: {
        address,
        tell: (message) => this.deliver(cell, { kind: 'message', message, ask: undefined }) === 'queued',
        tellOrThrow: (message) => {
          const outcome = this.deliver(cell, { kind: 'message', message, ask: undefined });
          if (outcome === 'full') throw new MailboxFullError(address, capacity);
          if (outcome === 'gone') throw new ActorNotFoundError(address);
        },
      },
      context: {
        get self() {
          return cell.ref;
        },
        system: this,
        ask: (target, request, timeoutMs, callback) =>
          this.startAsk(target, request, timeoutMs, (result) => this.enqueueTurn(cell, () => callback(result))),
      },
      actor: undefined,
      scheduled: false,
      stopped: false,
      processed: 0,
      failures: 0,
      rejected: 0,
    };
    // Mail the factory sends (to itself, or to an actor that answers at once) waits in the mailbox
    // until the actor exists: drained now, it would reach an actor that is not built yet.
    const wasDraining = this.draining;
    this.draining = true;
    let built = false;
    try {
      cell.actor = factory(cell.context);
      built = true;
    } finally {
      this.draining = wasDraining;
      // A factory that throws leaves no actor: mail it sent itself becomes dead letters.
      if (built) this.cells.set(name, cell as Cell<never>);
      else cell.stopped = true;
      if (!this.draining && this.ready.size > 0) this.drain();
    }
    return cell.ref;
  }

  /** The live actor with this name, if any. */
  lookup<M>(name: string): ActorRef<M> | undefined {
    return (this.cells.get(name) as Cell<M> | undefined)?.ref;
  }

  /**
   * Asks `target` from outside any actor (an edge: a client handler, a test). The callback runs
   * synchronously when the outcome is known: inside the target's turn for a reply, from the timer
   * for a timeout, or before `ask` returns if the message could not be queued.
   */
  ask<M, R>(target: ActorRef<M>, request: RequestBuilder<M, R>, timeoutMs: number, callback: AskCallback<R>): void {
    this.startAsk(target, request, timeoutMs, (result) => {
      try {
        callback(result);
      } catch (err) {
        this.counters.callbackErrors++;
        this.log.error({ actor: formatAddress(target.address), err: describe(err) }, 'ask callback threw');
      }
    });
  }

  /** `ask` as a Promise, for callers at the edge (core code uses the callback forms). */
  askPromise<M, R>(target: ActorRef<M>, request: RequestBuilder<M, R>, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.ask(target, request, timeoutMs, (result) => (result.ok ? resolve(result.value) : reject(result.error)));
    });
  }

  /**
   * Stops an actor: it handles nothing more, its queued messages become dead letters (asks among
   * them fail with ActorStoppedError), and its name is free again. Old refs stay dead.
   */
  stop(target: ActorRef<unknown> | string): boolean {
    const name = typeof target === 'string' ? target : target.address.name;
    const cell = this.cells.get(name);
    if (!cell || (typeof target !== 'string' && cell.ref !== target)) return false;
    this.cells.delete(name);
    cell.stopped = true;
    for (const envelope of cell.mailbox.drain()) {
      if (envelope.kind !== 'message') continue;
      this.counters.deadLetters++;
      envelope.ask?.settle({ ok: false, error: new ActorStoppedError(cell.address) });
    }
    this.retire(cell);
    return true;
  }

  /** Stops every actor, fails every outstanding ask with ActorStoppedError and cancels the system's timers. */
  shutdown(): void {
    for (const name of [...this.cells.keys()]) this.stop(name);
    for (const ask of [...this.pendingAsks]) {
      if (ask.timer !== undefined) this.timers.cancelTimer(ask.timer);
      ask.settle({ ok: false, error: new ActorStoppedError(ask.target) });
    }
    this.pendingAsks.clear();
    if (this.continuation !== undefined) this.timers.cancelTimer(this.continuation);
    this.continuation = undefined;
  }

  stats(): SystemStats {
    return { actors: this.cells.size, ...this.counters };
  }

  actorStats(name: string): ActorStats | undefined {
    const cell = this.cells.get(name);
    if (!cell) return undefined;
    return {
      processed: cell.processed,
      failures: cell.failures,
      rejected: cell.rejected,
      mailboxSize: cell.mailbox.size,
      mailboxHighWater: cell.mailbox.highWater,
      mailboxCapacity: cell.mailbox.capacity,
    };
  }

  private deliver<M>(cell: Cell<M>, envelope: Envelope<M>): 'queued' | 'full' | 'gone' {
    if (cell.stopped) {
      this.counters.deadLetters++;
      return 'gone';
    }
    if (!cell.mailbox.push(envelope)) {
      cell.rejected++;
      this.counters.rejected++;
      return 'full';
    }
    this.schedule(cell);
    return 'queued';
  }

  /** Queues `run` as a turn of `cell`, past the mailbox bound: it answers an ask the actor itself made. */
  private enqueueTurn<M>(cell: Cell<M>, run: () => void): void {
    if (cell.stopped) return;
    cell.mailbox.push({ kind: 'turn', run }, true);
    this.schedule(cell);
  }

  private startAsk<M, R>(target: ActorRef<M>, request: RequestBuilder<M, R>, timeoutMs: number, deliver: AskCallback<R>): void {
    const pending = new PendingAsk<R>(target.address, (result) => {
      this.pendingAsks.delete(pending as PendingAsk<unknown>);
      if (pending.timer !== undefined) this.timers.cancelTimer(pending.timer);
      deliver(result);
    });
    const reply: Reply<R> = (value) => {
      if (!pending.settle({ ok: true, value })) this.counters.lateReplies++;
    };
    const cell = this.cells.get(target.address.name) as Cell<M> | undefined;
    if (!cell || cell.ref !== target) {
      this.counters.deadLetters++;
      pending.settle({ ok: false, error: new ActorNotFoundError(target.address) });
      return;
    }
    this.pendingAsks.add(pending as PendingAsk<unknown>);
    // The timer is armed before queueing: delivery may run the handler (and its reply) right away.
    pending.timer = this.timers.setTimer(timeoutMs, () => {
      pending.timer = undefined;
      if (pending.settle({ ok: false, error: new AskTimeoutError(target.address, timeoutMs) })) this.counters.askTimeouts++;
    });
    const outcome = this.deliver(cell, { kind: 'message', message: request(reply), ask: pending as PendingAsk<unknown> });
    if (outcome === 'full') pending.settle({ ok: false, error: new MailboxFullError(target.address, cell.mailbox.capacity) });
  }

  private schedule<M>(cell: Cell<M>): void {
    if (!cell.scheduled) {
      cell.scheduled = true;
      this.ready.push(cell as Cell<never>);
    }
    if (!this.draining) this.drain();
  }

  private drain(): void {
    this.draining = true;
    try {
      let budget = MAX_MESSAGES_PER_DRAIN;
      while (this.ready.size > 0) {
        if (budget-- === 0) {
          this.continuation ??= this.timers.setTimer(0, () => {
            this.continuation = undefined;
            if (!this.draining) this.drain();
          });
          return;
        }
        const cell = this.ready.shift()!;
        cell.scheduled = false;
        const envelope = cell.stopped ? undefined : cell.mailbox.shift();
        if (envelope === undefined) continue;
        this.runTurn(cell, envelope);
        // Round-robin: an actor with more mail goes to the back of the line.
        if (!cell.stopped && cell.mailbox.size > 0) {
          cell.scheduled = true;
          this.ready.push(cell);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private runTurn(cell: Cell<never>, envelope: Envelope<never>): void {
    try {
      if (envelope.kind === 'turn') envelope.run();
      else cell.actor!.receive(envelope.message);
      cell.processed++;
      this.counters.processed++;
    } catch (err) {
      cell.failures++;
      this.counters.failures++;
      this.log.warn({ actor: formatAddress(cell.address), err: describe(err) }, 'actor failed; restarting it');
      if (envelope.kind === 'message') envelope.ask?.settle({ ok: false, error: new ActorFailedError(cell.address, err) });
      this.restart(cell);
    }
  }

  private restart(cell: Cell<never>): void {
    if (cell.stopped) return; // it stopped itself before throwing
    this.retire(cell);
    try {
      cell.actor = cell.factory(cell.context);
      this.counters.restarts++;
    } catch (err) {
      this.log.error({ actor: formatAddress(cell.address), err: describe(err) }, 'actor factory failed on restart; stopping the actor');
      cell.actor = undefined;
      this.stop(cell.ref);
    }
  }

  /** Lets the current instance clean up; it is about to be replaced or dropped. */
  private retire(cell: Cell<never>): void {
    const actor = cell.actor;
    cell.actor = undefined;
    try {
      actor?.stopped?.();
    } catch (err) {
      this.log.warn({ actor: formatAddress(cell.address), err: describe(err) }, 'actor stopped() threw');
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
