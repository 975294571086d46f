/**
 * A single-process, in-memory `KvService`, `RmwService` and `ScanService`: a map with TTLs and a one-node (or
 * hand-set) topology. Read-modify-writes run `applyRmw` (src/replication/rmw.ts) on the map, and
 * remember request ids per partition as a cluster's primaries do (the same RequestMemory).
 *
 * It exists for two jobs: tests of the client-facing server and the SDK (no cluster needed), and
 * a single-node mode in which the daemon serves clients without replication. It is not the
 * storage engine (src/store): no memory limit, no eviction, expired entries are dropped when read.
 */
import type {
  Callback,
  ScanOptions,
  ScanPage,
  ScanService,
  DeleteOptions,
  GetOptions,
  GetResult,
  KvService,
  RmwOp,
  RmwOptions,
  RmwResult,
  RmwService,
  SetOptions,
  TopologySnapshot,
  WriteResult,
} from '../replication/api.ts';
import { MAX_EXPIRY_MS, type WrittenAs } from '../replication/record.ts';
import { applyRmw, type StoredRecordLike } from '../replication/rmw.ts';
import { RequestMemory } from '../replication/rmw-requests.ts';
import { decodeRmwResult, encodeRmwResult } from '../replication/rmw-wire.ts';
import { invalidScanRequest, pageOf } from '../replication/scan.ts';
import { DEFAULT_MAX_VALUE_BYTES } from '../protocol/limits.ts';
import { DEFAULT_PARTITION_COUNT, partitionOf } from '../ring/partition.ts';
import type { TopologyListener, TopologyObservable } from './topology-watch.ts';

export interface MemoryEntry {
  value: Uint8Array;
  /** Absolute wall-clock expiry in ms, or null for no expiry. */
  expiresAtMs: number | null;
  /** How the value was written (record.ts, WrittenAs); absent: written whole. */
  writtenAs?: WrittenAs;
}

/** Entries keyed by the key's bytes (as a latin1 string, which maps bytes 1:1 to code units). */
export class MemoryStore {
  private readonly entries = new Map<string, MemoryEntry>();

  constructor(private readonly wallMs: () => number) {}

  get(key: Uint8Array): MemoryEntry | null {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    const entry = this.entries.get(k);
    if (entry === undefined) return null;
    if (entry.expiresAtMs !== null && entry.expiresAtMs <= this.wallMs()) {
      this.entries.delete(k);
      return null;
    }
    return entry;
  }

  set(key: Uint8Array, value: Uint8Array, ttlMs: number): void {
    this.setAt(key, value, ttlMs > 0 ? this.wallMs() + ttlMs : null);
  }

  /** Sets a value with an absolute expiry (null: none), held to MAX_EXPIRY_MS as a cluster's records are. */
  setAt(key: Uint8Array, value: Uint8Array, expiresAtMs: number | null, writtenAs?: WrittenAs): void {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    // Copy: the caller's buffer may be reused or be a view into a larger network buffer.
    const entry: MemoryEntry = { value: value.slice(), expiresAtMs: expiresAtMs === null ? null : Math.min(expiresAtMs, MAX_EXPIRY_MS) };
    if (writtenAs !== undefined) entry.writtenAs = writtenAs;
    this.entries.set(k, entry);
  }

  now(): number {
    return this.wallMs();
  }

  delete(key: Uint8Array): void {
    this.entries.delete(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Calls `fn` with every live key (as its latin1 string); expired entries are dropped on the way. */
  forEachLiveKey(fn: (key: string) => void): void {
    const now = this.wallMs();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs !== null && entry.expiresAtMs <= now) this.entries.delete(key);
      else fn(key);
    }
  }
}

export interface MemoryKvOptions {
  /** Name of the one node, as the topology and `welcome` report it. Default `memory`. */
  nodeName?: string;
  /** Client address (`host:port`) the topology advertises; set it once the server listens. */
  clientAddress?: string;
  /** Wall clock for TTLs; tests pass a fake one. Default `Date.now`. */
  wallMs?: () => number;
  /** Share entries with other MemoryKv instances (several "nodes" over one data set, in tests). */
  store?: MemoryStore;
  /** Partition count of the one-node topology. Default DEFAULT_PARTITION_COUNT. */
  partitions?: number;
  /** Largest value a read-modify-write may produce (APPEND...); beyond it `too-large`. Default DEFAULT_MAX_VALUE_BYTES. */
  maxValueBytes?: number;
}

export class MemoryKv implements KvService, RmwService, ScanService, TopologyObservable {
  readonly store: MemoryStore;
  private current: TopologySnapshot;
  private readonly listeners = new Set<TopologyListener>();
  private readonly maxValueBytes: number;
  /** Request ids remembered with their results, per partition (as a partition's primary does). */
  private readonly requests = new Map<number, RequestMemory>();
  /** Operations applied, repeats answered from memory excluded (tests count them). */
  rmwApplied = 0;

  constructor(options: MemoryKvOptions = {}) {
    this.store = options.store ?? new MemoryStore(options.wallMs ?? Date.now);
    this.current = singleNodeTopology(
      options.nodeName ?? 'memory',
      options.clientAddress ?? '',
      options.partitions ?? DEFAULT_PARTITION_COUNT,
    );
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  /**
   * Applies `op` at once (one process: nothing to replicate). A request id this partition
   * remembers is answered with its first result and not applied again.
   */
  rmw(keys: Uint8Array[], op: RmwOp, options: RmwOptions, done: Callback<RmwResult>): void {
    const first = keys[0];
    if (first === undefined) return done({ code: 'bad-request', message: 'a read-modify-write needs at least one key' });
    const partition = partitionOf(first, this.current.partitions);
    if (keys.some((key) => partitionOf(key, this.current.partitions) !== partition)) {
      return done({ code: 'bad-request', message: 'the keys of one read-modify-write must all be in one partition' });
    }
    const now = this.store.now();
    let memory = this.requests.get(partition);
    const remembered = options.requestId === undefined ? undefined : memory?.get(options.requestId, now);
    if (remembered !== undefined) return done(null, decodeRmwResult(remembered));
    const distinct = distinctKeys(keys, op);
    const current = distinct.keys.map((key): StoredRecordLike | null => {
      const entry = this.store.get(key);
      return entry === null ? null : { value: entry.value, expiresAtMs: entry.expiresAtMs ?? 0, writtenAs: entry.writtenAs };
    });
    const outcome = applyRmw(distinct.op, current, now, { maxValueBytes: this.maxValueBytes });
    outcome.writes.forEach((write, i) => {
      const key = distinct.keys[i]!;
      if (write === null) return;
      if (write === 'delete') this.store.delete(key);
      // An expiry not after now deletes the key, as Redis does (applyRmw may leave that to us).
      else if (write.expiresAtMs !== 0 && write.expiresAtMs <= now) this.store.delete(key);
      else this.store.setAt(key, write.value, write.expiresAtMs === 0 ? null : write.expiresAtMs, write.writtenAs);
    });
    this.rmwApplied++;
    if (options.requestId !== undefined) {
      if (memory === undefined) this.requests.set(partition, (memory = new RequestMemory()));
      memory.remember(options.requestId, encodeRmwResult(outcome.result), now);
    }
    done(null, outcome.result);
  }

  get(key: Uint8Array, _options: GetOptions, done: Callback<GetResult>): void {
    const entry = this.store.get(key);
    done(null, { value: entry?.value ?? null, expiresAtMs: entry?.expiresAtMs ?? null, acks: 1, ...(entry?.writtenAs !== undefined ? { writtenAs: entry.writtenAs } : {}) });
  }

  set(key: Uint8Array, value: Uint8Array, options: SetOptions, done: Callback<WriteResult>): void {
    const ttlMs = options.ttlMs ?? 0;
    if (!Number.isFinite(ttlMs) || ttlMs < 0) {
      done({ code: 'bad-request', message: `ttlMs must be a non-negative number, got ${ttlMs}` });
      return;
    }
    this.store.set(key, value, ttlMs);
    done(null, { acks: 1 });
  }

  delete(key: Uint8Array, _options: DeleteOptions, done: Callback<WriteResult>): void {
    this.store.delete(key);
    done(null, { acks: 1 });
  }

  topology(): TopologySnapshot {
    return this.current;
  }

  /**
   * Pages of one partition's keys as a cluster serves them (replication/scan.ts: scan-hash order,
   * the same positions). Each call walks every key: this is for tests and small single-node use.
   */
  scanPartition(partition: number, after: number, options: ScanOptions, done: Callback<ScanPage>): void {
    const invalid = invalidScanRequest(this.current.partitions, partition, after, options.count);
    if (invalid !== null) return done({ code: 'bad-request', message: invalid });
    const page = pageOf((visit) => this.forEachKeyOf(partition, visit), after, options.count, options.match ?? null);
    done(null, { keys: page.keys.map((k) => Uint8Array.from(Buffer.from(k, 'latin1'))), next: page.next, examined: page.examined });
  }

  countPartition(partition: number, done: Callback<number>): void {
    const invalid = invalidScanRequest(this.current.partitions, partition, 0, 1);
    if (invalid !== null) return done({ code: 'bad-request', message: invalid });
    let n = 0;
    this.forEachKeyOf(partition, () => n++);
    done(null, n);
  }

  private forEachKeyOf(partition: number, visit: (key: string) => void): void {
    const partitions = this.current.partitions;
    this.store.forEachLiveKey((key) => {
      if (partitionOf(Buffer.from(key, 'latin1'), partitions) === partition) visit(key);
    });
  }

  /** Replaces the topology (e.g. once the listening port is known) and tells subscribers. */
  setTopology(topology: TopologySnapshot): void {
    const changed = topology.version !== this.current.version;
    this.current = topology;
    if (changed) for (const listener of this.listeners) listener(topology.version);
  }

  onTopologyChange(listener: TopologyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Every partition owned by the one node. */
export function singleNodeTopology(nodeName: string, clientAddress: string, partitions: number): TopologySnapshot {
  return {
    version: `single:${nodeName}@${clientAddress}`,
    partitions,
    replicas: 1,
    nodes: [{ name: nodeName, clientAddress, zone: 'default' }],
    owners: Array.from({ length: partitions }, () => [nodeName]),
  };
}

/**
 * Each key once, as applyRmw wants: DEL counts a key given twice once, MSETNX keeps a repeated
 * key's last value, RENAME of a key to itself passes the one key.
 */
function distinctKeys(keys: Uint8Array[], op: RmwOp): { keys: Uint8Array[]; op: RmwOp } {
  const byText = new Map<string, number>();
  const out: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  keys.forEach((key, i) => {
    const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    const at = byText.get(text);
    if (at === undefined) {
      byText.set(text, out.length);
      out.push(key);
      if (op.op === 'msetnx') values.push(op.values[i]!);
    } else if (op.op === 'msetnx') {
      values[at] = op.values[i]!;
    }
  });
  return { keys: out, op: op.op === 'msetnx' ? { op: 'msetnx', values } : op };
}
