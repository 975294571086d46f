/**
 * A single-process, in-memory `KvService`: a map with TTLs and a one-node (or hand-set) topology.
 *
 * It exists for two jobs: tests of the client-facing server and the SDK (no cluster needed), and
 * a single-node mode in which the daemon serves clients without replication. It is not the
 * storage engine (src/store): no memory limit, no eviction, expired entries are dropped when read.
 */
import type {
  Callback,
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
import { DEFAULT_MAX_VALUE_BYTES } from '../protocol/limits.ts';
import { applyRmw } from '../replication/rmw.ts';
import { DEFAULT_PARTITION_COUNT } from '../ring/partition.ts';
import type { TopologyListener, TopologyObservable } from './topology-watch.ts';

export interface MemoryEntry {
  value: Uint8Array;
  /** Absolute wall-clock expiry in ms, or null for no expiry. */
  expiresAtMs: number | null;
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
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    // Copy: the caller's buffer may be reused or be a view into a larger network buffer.
    this.entries.set(k, { value: value.slice(), expiresAtMs: ttlMs > 0 ? this.wallMs() + ttlMs : null });
  }

  delete(key: Uint8Array): void {
    this.entries.delete(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  }

  get size(): number {
    return this.entries.size;
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
}

export class MemoryKv implements KvService, RmwService, TopologyObservable {
  readonly store: MemoryStore;
  private readonly wallMs: () => number;
  private current: TopologySnapshot;
  private readonly listeners = new Set<TopologyListener>();

  constructor(options: MemoryKvOptions = {}) {
    this.wallMs = options.wallMs ?? Date.now;
    this.store = options.store ?? new MemoryStore(this.wallMs);
    this.current = singleNodeTopology(
      options.nodeName ?? 'memory',
      options.clientAddress ?? '',
      options.partitions ?? DEFAULT_PARTITION_COUNT,
    );
  }

  get(key: Uint8Array, _options: GetOptions, done: Callback<GetResult>): void {
    const entry = this.store.get(key);
    done(null, { value: entry?.value ?? null, expiresAtMs: entry?.expiresAtMs ?? null, acks: 1 });
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

  /** Read-modify-write with Redis's semantics (applyRmw); atomic, since this keyspace is one map. */
  rmw(keys: Uint8Array[], op: RmwOp, _options: RmwOptions, done: Callback<RmwResult>): void {
    const nowMs = this.wallMs();
    const current = keys.map((key) => {
      const entry = this.store.get(key);
      return entry === null ? null : { value: entry.value, expiresAtMs: entry.expiresAtMs ?? 0 };
    });
    const { result, writes } = applyRmw(op, current, nowMs, { maxValueBytes: DEFAULT_MAX_VALUE_BYTES });
    writes.forEach((write, i) => {
      if (write === null) return;
      if (write === 'delete') return this.store.delete(keys[i]!);
      this.store.set(keys[i]!, write.value, 0);
      // The expiry is absolute; set it on the entry itself rather than as a ttl from a later clock reading.
      this.store.get(keys[i]!)!.expiresAtMs = write.expiresAtMs === 0 ? null : write.expiresAtMs;
    });
    done(null, result);
  }

  topology(): TopologySnapshot {
    return this.current;
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
