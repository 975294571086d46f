/**
 * Group commit for read-modify-write (docs/REPLICATION.md, "Read-modify-write", "Group commit"):
 * the operations of one partition that wait in its primary's serial queue are applied one after
 * the other to the keys' records in memory, each on the result of the one before and each with its
 * own HLC version, and leave as ONE fenced result: the final record of every key written, the
 * records they were built on (the records before the batch), and every operation's request id
 * with its result and the final versions of the keys it wrote.
 *
 * This module is the pure part: it applies the operations and says what the message carries. The
 * primary (rmw-primary.ts) decides which operations may join, sends the result and answers them.
 */
import type { Version } from './hlc.ts';
import { versionToString } from './hlc.ts';
import { makeRecord } from './partition-replica.ts';
import { decodeRecord, isDeadAt, type StoredRecord } from './record.ts';
import { applyRmw, type RmwOp, type RmwResult } from './rmw.ts';
import { encodeRmwResult, type WireRmwResult } from './rmw-wire.ts';

/** One operation of a batch once applied in memory. */
export interface BatchedOp<T> {
  requestId: string;
  /** Its keys (distinct), all of them: they are fresh under the claim once the batch is replicated. */
  keys: string[];
  result: RmwResult;
  res: WireRmwResult;
  /** The keys it wrote, in the order of the batch's written keys. */
  wrote: string[];
  /** What the caller keeps with it (its reply). */
  tag: T;
}

interface Snapshot {
  current: Map<string, StoredRecord | null>;
  written: Map<string, Uint8Array>;
  ops: number;
  bytes: number;
}

export class RmwBatch<T> {
  /** Every key read so far, with the record it held before the batch (null: none). */
  private readonly before = new Map<string, StoredRecord | null>();
  /** Each key's record as the batch left it so far (read or written). */
  private current = new Map<string, StoredRecord | null>();
  /** The final record of each key written, in the order keys were first written. */
  private written = new Map<string, Uint8Array>();
  private readonly applied: BatchedOp<T>[] = [];
  /** Records written plus results: what the fenced result will carry, roughly. */
  private size = 0;

  constructor(
    private readonly wallNowMs: number,
    private readonly maxValueBytes: number,
    /** A fresh version (the primary's HLC), one per operation that writes. */
    private readonly nextVersion: () => Version,
    /** A key's record in the own replica, read the first time the batch touches the key (for `op`, which decides whether the read counts as a lookup). */
    private readonly read: (key: string, op: RmwOp) => StoredRecord | null,
  ) {}

  get ops(): readonly BatchedOp<T>[] {
    return this.applied;
  }

  /** Bytes of records and results so far. */
  get bytes(): number {
    return this.size;
  }

  /** Whether an operation of the batch read or wrote `key` already (its record is the batch's, not the replica's). */
  touched(key: string): boolean {
    return this.current.has(key);
  }

  /** Applies `op` on the batch's current records of `keys` (distinct). */
  add(requestId: string, keys: string[], op: RmwOp, tag: T): BatchedOp<T> {
    const records = keys.map((key) => this.recordOf(key, op));
    const live = records.map((r) => (r === null || isDeadAt(r, this.wallNowMs) ? null : r));
    const outcome = applyRmw(op, live, this.wallNowMs, { maxValueBytes: this.maxValueBytes });
    const wrote: string[] = [];
    let version: Version | null = null;
    for (let i = 0; i < keys.length; i++) {
      const write = outcome.writes[i];
      if (write === null || write === undefined) continue;
      version ??= this.nextVersion();
      const key = keys[i]!;
      const bytes = write === 'delete' ? makeRecord(version, null, 0) : makeRecord(version, write.value, write.expiresAtMs, write.writtenAs);
      this.size += bytes.length - (this.written.get(key)?.length ?? 0);
      this.written.set(key, bytes);
      this.current.set(key, decodeRecord(bytes));
      wrote.push(key);
    }
    const res = encodeRmwResult(outcome.result);
    this.size += resultBytes(res) + requestId.length;
    const batched: BatchedOp<T> = { requestId, keys, result: outcome.result, res, wrote, tag };
    this.applied.push(batched);
    return batched;
  }

  /** The state now, to go back to when an operation added after it must not join after all. */
  save(): Snapshot {
    return { current: new Map(this.current), written: new Map(this.written), ops: this.applied.length, bytes: this.size };
  }

  restore(snapshot: Snapshot): void {
    this.current = snapshot.current;
    this.written = snapshot.written;
    this.applied.length = snapshot.ops;
    this.size = snapshot.bytes;
    // `before` keeps keys first read by the dropped operation: their records are unchanged, and
    // only written keys and the keys of operations kept are used from it.
  }

  /** The keys written, in order, with their final records. */
  get writtenKeys(): string[] {
    return [...this.written.keys()];
  }

  get writtenRecords(): Uint8Array[] {
    return [...this.written.values()];
  }

  /** Per written key, the version of the record it held before the batch ('' for none): what the result was built on. */
  get bases(): string[] {
    return this.writtenKeys.map((key) => {
      const read = this.before.get(key);
      return read === null || read === undefined ? '' : versionToString(read.version);
    });
  }

  /** Every key of the operations kept, in order, with the live record it held before the batch. */
  liveBefore(): { keys: string[]; records: (StoredRecord | null)[] } {
    const keys = [...new Set(this.applied.flatMap((op) => op.keys))];
    return { keys, records: keys.map((key) => this.liveOf(this.before.get(key) ?? null)) };
  }

  private liveOf(record: StoredRecord | null): StoredRecord | null {
    return record === null || isDeadAt(record, this.wallNowMs) ? null : record;
  }

  private recordOf(key: string, op: RmwOp): StoredRecord | null {
    if (this.current.has(key)) return this.current.get(key)!;
    const record = this.before.has(key) ? this.before.get(key)! : this.read(key, op);
    this.before.set(key, record);
    this.current.set(key, record);
    return record;
  }
}

/** Roughly the bytes a result takes on the wire. */
function resultBytes(res: WireRmwResult): number {
  const payload = res[1];
  if (payload instanceof Uint8Array) return payload.length + 8;
  if (typeof payload === 'string') return payload.length + 8;
  return 8;
}
