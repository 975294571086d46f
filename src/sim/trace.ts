/**
 * A running digest over every event of a simulated run. Two runs of the same seed must produce
 * the same digest; when they do not, the per-event hashes (kept only when asked for) locate the
 * first event where the runs diverged, and a third pass can describe the events around it.
 */
import { murmurRound } from '../protocol/hash.ts';
import { RunProbes } from './probes.ts';

export interface TraceOptions {
  /** Keep one hash per event so a second run can be compared event by event. */
  recordHashes?: boolean;
  /** Describe events with these indexes (0-based) in words, for divergence reports. */
  describeRange?: { from: number; to: number };
  /** The run's probes (rare-path counts, assertion failures, BUGGIFY); by default buggify is off. */
  probes?: RunProbes;
}

export class EventTrace {
  private a = 0x12345678;
  private b = 0x9abcdef0;
  private count = 0;
  private hashes: Uint32Array | null;
  readonly descriptions: { index: number; text: string }[] = [];
  /** What node code reported through its Env's probes during the run (every simulation of the run shares them). */
  readonly probes: RunProbes;

  constructor(private readonly options: TraceOptions = {}) {
    this.probes = options.probes ?? new RunProbes();
    this.hashes = options.recordHashes ? new Uint32Array(1024) : null;
  }

  get eventCount(): number {
    return this.count;
  }

  /** Whether the caller should build a description for the event about to be recorded. */
  wantsDescription(): boolean {
    const range = this.options.describeRange;
    return range !== undefined && this.count >= range.from && this.count <= range.to;
  }

  record(time: number, node: number, kind: number, payload: number, description?: string): void {
    const t = Math.round(time * 1000);
    let a = murmurRound(this.a, t);
    a = murmurRound(a, node);
    a = murmurRound(a, kind);
    a = murmurRound(a, payload);
    this.a = a;
    this.b = murmurRound(this.b, a ^ this.count);
    if (this.hashes) {
      if (this.count >= this.hashes.length) {
        const bigger = new Uint32Array(this.hashes.length * 2);
        bigger.set(this.hashes);
        this.hashes = bigger;
      }
      this.hashes[this.count] = a >>> 0;
    }
    if (description !== undefined) this.descriptions.push({ index: this.count, text: description });
    this.count++;
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }

  eventHashes(): Uint32Array {
    if (!this.hashes) throw new Error('this trace was not asked to record per-event hashes');
    return this.hashes.subarray(0, this.count);
  }
}

/** Index of the first event where two recorded traces differ, or -1 if they agree throughout. */
export function firstDivergence(x: EventTrace, y: EventTrace): number {
  const a = x.eventHashes();
  const b = y.eventHashes();
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
