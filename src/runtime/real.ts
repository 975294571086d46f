/**
 * The production implementation of the seam: Node's clock and timers, `Math.random`, and pino.
 * The transport is passed in (the `ws` transport, or a test double), because it has a lifecycle of
 * its own (listening sockets, connections) that the caller owns.
 */
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Clock, Env, Logger, NodeAddress, Random, TimerId, Timers, Transport } from './env.ts';

/**
 * Wall time in microseconds. Date.now() has only milliseconds, so the fraction comes from the
 * monotonic clock, anchored to the instant Date.now() turns to a new millisecond (found by waiting
 * for it: at most 1 ms, once, and again only when the wall clock is stepped or slewed more than a
 * millisecond away from the anchor). The result is kept inside Date.now()'s current millisecond,
 * so TIME's seconds and the milliseconds every other part of the node uses never disagree.
 */
let wallMinusMonoMs: number | null = null;
function anchorWallToMono(): number {
  const before = Date.now();
  let wall = Date.now();
  while (wall === before) wall = Date.now();
  return wall - performance.now();
}
function realWallUs(): number {
  wallMinusMonoMs ??= anchorWallToMono();
  let wall = Date.now();
  let precise = wallMinusMonoMs + performance.now();
  if (precise < wall - 1 || precise >= wall + 2) {
    wallMinusMonoMs = anchorWallToMono();
    wall = Date.now();
    precise = wallMinusMonoMs + performance.now();
  }
  const wallUs = wall * 1000;
  return Math.min(Math.max(Math.floor(precise * 1000), wallUs), wallUs + 999);
}

export const realClock: Clock = {
  wallMs: () => Date.now(),
  monoMs: () => performance.now(),
  wallUs: realWallUs,
};

/**
 * Node timers behind numeric ids, so core code never holds a `Timeout` object.
 *
 * A zero delay runs on `setImmediate`, not `setTimeout(0)`: core code uses `setTimer(0)` for
 * "after the current turn" (a message to the node's own replica, a callback that must not run
 * inside the call that caused it), and Node clamps `setTimeout(0)` to 1 ms, which cost every such
 * hop a millisecond of latency. `setImmediate` gives the same "later, never inside" guarantee
 * without the clamp.
 */
export class RealTimers implements Timers {
  private nextId = 1;
  private readonly timeouts = new Map<TimerId, NodeJS.Timeout>();
  private readonly immediates = new Map<TimerId, NodeJS.Immediate>();

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    if (delayMs <= 0) {
      this.immediates.set(
        id,
        setImmediate(() => {
          this.immediates.delete(id);
          fn();
        }),
      );
    } else {
      this.timeouts.set(
        id,
        setTimeout(() => {
          this.timeouts.delete(id);
          fn();
        }, delayMs),
      );
    }
    return id;
  }

  cancelTimer(id: TimerId): void {
    const timeout = this.timeouts.get(id);
    if (timeout !== undefined) {
      clearTimeout(timeout);
      this.timeouts.delete(id);
      return;
    }
    const immediate = this.immediates.get(id);
    if (immediate !== undefined) {
      clearImmediate(immediate);
      this.immediates.delete(id);
    }
  }

  /** Timers still pending (for tests). */
  get pendingCount(): number {
    return this.timeouts.size + this.immediates.size;
  }

  /** Cancels every pending timer; used on shutdown so the process can exit. */
  cancelAll(): void {
    for (const timeout of this.timeouts.values()) clearTimeout(timeout);
    for (const immediate of this.immediates.values()) clearImmediate(immediate);
    this.timeouts.clear();
    this.immediates.clear();
  }
}

export const realRandom: Random = {
  next: () => Math.random(),
  int: (n) => Math.floor(Math.random() * n),
};

export interface RealLoggerOptions {
  level?: string;
  /** Human-readable output (pino-pretty); defaults to whether stdout is a terminal. */
  pretty?: boolean;
  name?: string;
}

export function createLogger(options: RealLoggerOptions = {}): Logger & pino.Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const settings = { name: options.name ?? 'shoal', level: options.level ?? 'info' };
  if (pretty) {
    // Formatted on this thread and written at once, as the JSON lines are: as a pino transport,
    // pino-pretty ran in a worker, so its lines could come out after a later stderr line (the reason
    // a start failed), and it coloured them into files and pipes too.
    const prettify = prettyFactory({ colorize: process.stdout.isTTY === true });
    const out = pino.destination({ dest: 1, sync: true });
    return pino(settings, { write: (line: string) => void out.write(prettify(line)) });
  }
  // JSON lines are written as they are logged, as process.stdout writes to a file or pipe on Linux:
  // pino's default buffers them, so a line logged before the process writes to stderr (the
  // reason a start failed) or exits could come out after it.
  return pino(settings, pino.destination({ dest: 1, sync: true }));
}

export interface RealEnvOptions {
  address: NodeAddress;
  transport: Transport;
  log?: Logger;
}

export interface RealEnv extends Env {
  readonly timers: RealTimers;
}

export function createRealEnv(options: RealEnvOptions): RealEnv {
  return {
    address: options.address,
    clock: realClock,
    timers: new RealTimers(),
    random: realRandom,
    // Not seeded: one process in a million restarts would share its predecessor's request ids (request-ids.ts).
    incarnation: Math.floor(Math.random() * 2 ** 20),
    transport: options.transport,
    log: options.log ?? createLogger(),
  };
}
