/**
 * The production implementation of the seam: Node's clock and timers, `Math.random`, and pino.
 * The transport is passed in (the `ws` transport, or a test double), because it has a lifecycle of
 * its own (listening sockets, connections) that the caller owns.
 */
import pino from 'pino';
import type { Clock, Env, Logger, NodeAddress, Random, TimerId, Timers, Transport } from './env.ts';

export const realClock: Clock = {
  wallMs: () => Date.now(),
  monoMs: () => performance.now(),
};

/** Node timers behind numeric ids, so core code never holds a `Timeout` object. */
export class RealTimers implements Timers {
  private nextId = 1;
  private readonly pending = new Map<TimerId, NodeJS.Timeout>();

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    const handle = setTimeout(() => {
      this.pending.delete(id);
      fn();
    }, Math.max(0, delayMs));
    this.pending.set(id, handle);
    return id;
  }

  cancelTimer(id: TimerId): void {
    const handle = this.pending.get(id);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.pending.delete(id);
    }
  }

  /** Cancels every pending timer; used on shutdown so the process can exit. */
  cancelAll(): void {
    for (const handle of this.pending.values()) clearTimeout(handle);
    this.pending.clear();
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
  return pino({
    name: options.name ?? 'shoal',
    level: options.level ?? 'info',
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
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
    transport: options.transport,
    log: options.log ?? createLogger(),
  };
}
