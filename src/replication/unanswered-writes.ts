/**
 * Writes a coordinator finished (answered, or failed at their deadline) while owners were still
 * silent, kept a while so that such an owner's late ack can still tell of a record an earlier
 * incarnation of this node gave the key, newer than the write (`wa` `sv`). Without this the late
 * ack changed nothing, and a write acknowledged by the other owners was lost to the predecessor's
 * record once sync spread it (test/sim/hlc-restart.test.ts, "told late"; docs/REPLICATION.md,
 * "Versions across restarts").
 *
 * Bounded by count, bytes and age: the oldest are forgotten first (each through `forget`, so the
 * coordinator stops keeping the versions it stamped for the key since: stampedSince). A key's
 * writes are forgotten too once the coordinator stamps a newer write of it (`dropKey`): that one
 * tells of the predecessor's record itself, and an older one started again could land above it;
 * so the versions stampedSince keeps behind a kept write stay those of writes in flight, not every
 * write of a hot key for the whole window. A late ack for a write forgotten is ignored, as before.
 */
import type { Version } from './hlc.ts';

/** Writes kept at once. */
export const UNANSWERED_KEPT = 1024;
/** Their records' bytes kept at once; a larger record is not kept. */
export const UNANSWERED_MAX_BYTES = 8 * 1024 * 1024;
/** How long a write is kept after it finished, in ms: an ack later than this is ignored. */
export const UNANSWERED_WINDOW_MS = 60_000;

export interface UnansweredWrite {
  /** The key as the store names it, and the version the write was stamped with (the same object stampedSince holds). */
  key: string;
  version: Version;
  /** Owners and stand-ins that had not answered when the write finished. */
  silent: Set<string>;
  bytes: number;
  finishedAtMs: number;
  /** Starts the write again under a fresh version, answering nobody (its caller was answered). */
  reissue: () => void;
}

export class UnansweredWrites {
  private readonly writes = new Map<number, UnansweredWrite>();
  /** The ids kept per key, for dropKey. */
  private readonly byKey = new Map<string, Set<number>>();
  private bytes = 0;

  constructor(private readonly forget: (write: UnansweredWrite) => void) {}

  /** Keeps write `id`; false when it is not kept (no silent owner, or too large), and the caller forgets it at once. */
  keep(id: number, write: UnansweredWrite): boolean {
    if (write.silent.size === 0 || write.bytes > UNANSWERED_MAX_BYTES) return false;
    this.expire(write.finishedAtMs);
    while (this.writes.size >= UNANSWERED_KEPT || this.bytes + write.bytes > UNANSWERED_MAX_BYTES) this.drop(this.writes.keys().next().value!);
    this.writes.set(id, write);
    let ids = this.byKey.get(write.key);
    if (ids === undefined) this.byKey.set(write.key, (ids = new Set()));
    ids.add(id);
    this.bytes += write.bytes;
    return true;
  }

  /** The kept write `id` when `from` is one of its silent owners (it is no longer silent then); undefined otherwise. */
  answered(id: number, from: string, nowMs: number): UnansweredWrite | undefined {
    this.expire(nowMs);
    const write = this.writes.get(id);
    return write !== undefined && write.silent.delete(from) ? write : undefined;
  }

  /** Stops keeping write `id`. */
  drop(id: number): void {
    const write = this.writes.get(id);
    if (write === undefined) return;
    this.writes.delete(id);
    const ids = this.byKey.get(write.key)!;
    ids.delete(id);
    if (ids.size === 0) this.byKey.delete(write.key);
    this.bytes -= write.bytes;
    this.forget(write);
  }

  /** Stops keeping every write of `key` (a newer write of it was stamped). */
  dropKey(key: string): void {
    const ids = this.byKey.get(key);
    if (ids !== undefined) for (const id of [...ids]) this.drop(id);
  }

  /** Forgets every write, without `forget` (the node is stopping). */
  clear(): void {
    this.writes.clear();
    this.byKey.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.writes.size;
  }

  /** In finishing order, so the oldest are first. */
  private expire(nowMs: number): void {
    for (const [id, write] of this.writes) {
      if (nowMs - write.finishedAtMs < UNANSWERED_WINDOW_MS) break;
      this.drop(id);
    }
  }
}
