/**
 * A simulated disk for the disk tier (src/store/disk): bytes in memory, every completion queued so
 * the test or scenario decides when (and in which order) the device answers, and faults drawn from
 * a seeded stream: failed writes, torn writes (a prefix reaches the medium, then an error), bits
 * that rot on the medium, and crashes that cut an in-flight write short.
 */
import type { Random } from '../runtime/env.ts';
import type { BlockDevice, IoDone } from '../store/disk/device.ts';

export interface DiskFaults {
  /** Probability that a write fails with nothing written. */
  writeError: number;
  /** Probability that a write fails after a random prefix of it reached the medium. */
  tornWrite: number;
  /** Probability, per write, that one random bit of the medium rots. */
  rot?: number;
}

export const NO_DISK_FAULTS: DiskFaults = { writeError: 0, tornWrite: 0 };

interface Pending {
  run: () => void;
  /** For writes: what a crash leaves of it (a random prefix reaches the medium). */
  crash?: () => void;
}

export class SimDisk implements BlockDevice {
  readonly bytes: Uint8Array;
  /** How many bytes reads may see: lower it to play a file cut short. */
  visibleBytes: number;
  private pending: Pending[] = [];
  /** When set, each completion is also scheduled through it (the simulator's timers); otherwise the caller steps. */
  private autoRun: ((fn: () => void) => void) | null = null;
  /** While held, completions wait (as on a device stalled or far slower than the network) until `release`. */
  private held = false;
  readonly counts = { reads: 0, writes: 0, writeErrors: 0, tornWrites: 0, bitsRotted: 0, crashes: 0 };

  constructor(readonly size: number, private readonly random: Random, private readonly faults: DiskFaults = NO_DISK_FAULTS) {
    this.bytes = new Uint8Array(size);
    this.visibleBytes = size;
  }

  /** Completions run through `schedule` from now on (a restarted node passes its new timers); null: stepped by hand. */
  attach(schedule: ((fn: () => void) => void) | null): void {
    this.autoRun = schedule;
  }

  read(offset: number, length: number, done: IoDone<Uint8Array>): void {
    this.counts.reads++;
    this.enqueue({ run: () => done(null, this.bytes.slice(offset, Math.max(offset, Math.min(this.visibleBytes, offset + length)))) });
  }

  write(offset: number, bytes: Uint8Array, done: IoDone<void>): void {
    this.counts.writes++;
    const roll = this.random.next();
    const tornAt = () => this.random.int(bytes.length + 1);
    if (this.random.next() < (this.faults.rot ?? 0)) this.rot();
    this.enqueue({
      run: () => {
        if (roll < this.faults.writeError) {
          this.counts.writeErrors++;
          return done(new Error('simulated write error'), undefined);
        }
        if (roll < this.faults.writeError + this.faults.tornWrite) {
          this.counts.tornWrites++;
          this.bytes.set(bytes.subarray(0, tornAt()), offset);
          return done(new Error('simulated torn write'), undefined);
        }
        this.bytes.set(bytes, offset);
        done(null, undefined);
      },
      crash: () => this.bytes.set(bytes.subarray(0, tornAt()), offset),
    });
  }

  /** Holds every completion not already scheduled, until `release`: a device that stalls. */
  hold(): void {
    this.held = true;
  }

  /** Schedules what `hold` kept waiting, and answers as before from now on. */
  release(): void {
    this.held = false;
    for (const entry of this.pending) this.schedule(entry);
  }

  private enqueue(entry: Pending): void {
    this.pending.push(entry);
    if (!this.held) this.schedule(entry);
  }

  private schedule(entry: Pending): void {
    this.autoRun?.(() => {
      const at = this.pending.indexOf(entry);
      if (at === -1) return;
      this.pending.splice(at, 1);
      entry.run();
    });
  }

  /** Completions waiting. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Runs up to `n` waiting completions, each picked at random (reads and writes answer out of order). */
  step(n = 1): void {
    for (let i = 0; i < n && this.pending.length > 0; i++) {
      const [next] = this.pending.splice(this.random.int(this.pending.length), 1);
      next!.run();
    }
  }

  /** Runs completions until none wait (bounded: each completion may queue more). */
  settle(maxSteps = 1_000_000): void {
    for (let i = 0; i < maxSteps && this.pending.length > 0; i++) this.step();
  }

  /** Flips one random bit among the first `usedBytes` bytes of the medium. */
  rot(usedBytes = this.size): void {
    this.counts.bitsRotted++;
    this.bytes[this.random.int(Math.max(1, usedBytes))]! ^= 1 << this.random.int(8);
  }

  /** The process died: nothing waiting completes, and each in-flight write leaves a random prefix. */
  crash(): void {
    this.counts.crashes++;
    for (const p of this.pending) p.crash?.();
    this.pending = [];
  }
}
