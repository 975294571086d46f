/**
 * Where the read-modify-write keys' values live in memory over a run, for kv-rmw-crash-pressure:
 * which record of each watched key every node process's store holds, and how each stopped
 * holding it. The checker (kv-rmw-checker.ts) asks it whether an acknowledged update that is
 * missing at the end really left every memory, which a cache may do (one owner evicts the record,
 * the others crash), or was written over by a record built without it while some node still held
 * it, which is a bug whatever else happened.
 *
 * A record leaves a process by a *drop* (its store evicted it, refused it on insert, deleted it,
 * dropped its partition, or the process crashed) or by an *overwrite* (a record of another value
 * replaced it). An update is lost legitimately only when the last process holding it let go by a
 * drop. What this does not see: records in messages in flight (an update held only in a sync
 * message counts as gone; if that message later brings it back, its loss is excused all the same).
 *
 * Like kv-pressure's EvictionWatch, it only reads: it wraps each process's store to see the sets,
 * deletes and partition drops go by, and changes nothing they do, so a seed's trace is the same.
 */
import type { ShoalNode } from '../../node/node.ts';
import { compareVersions, type Version } from '../../replication/hlc.ts';
import { decodeRecord } from '../../replication/record.ts';
import type { Env } from '../../runtime/env.ts';
import type { Store } from '../../store/index.ts';
import type { ProcessInfo } from '../simulation.ts';

/** One process's store starting or stopping to hold a record of a watched key. */
interface MemoryEvent {
  atMs: number;
  /** The process (a restart is a new one), numbered in order of start. */
  process: number;
  /** The value it holds from now on (null: nothing, or a tombstone). */
  value: string | null;
  /** The version of the record it holds from now on (null: nothing). */
  version: Version | null;
  /** The previous record left by a drop (eviction, refusal, delete, partition drop, crash), not replaced by a set. */
  drop: boolean;
}

/** A moment no process held a value any more: how the last one let go, and when one held it again (null: never). */
interface Death {
  atMs: number;
  drop: boolean;
  revivedMs: number | null;
}

export class RmwMemoryRecord {
  /** Per watched key, every change of what a process holds, in time order. */
  private readonly events = new Map<string, MemoryEvent[]>();
  /** Per node index, its live process's number and the watched values it holds. */
  private readonly live = new Map<number, { process: number; held: Map<string, string | null> }>();
  private processes = 0;
  private readonly decoder = new TextDecoder();

  constructor(
    keys: readonly string[],
    private readonly now: () => number,
  ) {
    for (const key of keys) this.events.set(key, []);
  }

  /** KvCluster's `instrument` hook. */
  readonly instrument = (env: Env, info: ProcessInfo, build: (env: Env) => ShoalNode): ShoalNode => {
    const node = build(env);
    const memory = { process: this.processes++, held: new Map<string, string | null>() };
    this.live.set(info.index, memory);
    this.watch(node.store, memory.process, memory.held);
    return node;
  };

  /** KvCluster's `onCrash` hook: the process's memory is gone. */
  readonly crashed = (index: number): void => {
    const memory = this.live.get(index);
    if (memory === undefined) return;
    this.live.delete(index);
    for (const key of memory.held.keys()) this.note(key, memory.process, null, true);
  };

  /**
   * The judge of one update of `key`, present in the values for which `holds` is true (the
   * checker's LossJudge): whether it left every memory by a drop from `fromMs` (its
   * acknowledgement) to `toMs`. That is, no process held it at `fromMs` and the last one to hold
   * it before had dropped it, or the last holder dropped it at some time after `fromMs` up to `toMs`.
   */
  judge(key: string, holds: (value: string) => boolean): (fromMs: number, toMs: number) => boolean {
    const deaths = this.deaths(key, holds);
    return (fromMs, toMs) => {
      if (this.newestDropped(key, fromMs, toMs)) return true;
      // The death that left it held nowhere at fromMs, if it was.
      let before: Death | null = null;
      for (const d of deaths) {
        if (d.atMs <= fromMs) before = d.revivedMs !== null && d.revivedMs <= fromMs ? null : d;
        else if (d.atMs > toMs) break;
        else if (d.drop) return true;
      }
      return before?.drop ?? false;
    };
  }

  /**
   * Whether, at some moment from `fromMs` to `toMs`, the newest record of `key` any process had
   * held so far left every memory by a drop: the key was then evicted as a whole (its latest write
   * gone), so a record built on its absence is legitimate, whatever older records some process
   * still held. kv-rmw-crash-pressure BUGGIFY seed 46: an in-doubt APPEND built on the
   * acknowledged record lived only in the pressed primary's store, which evicted it; the next
   * APPEND read the key as evicted (a quorum GET misses then too) and wrote over the older record
   * a third owner held.
   */
  private newestDropped(key: string, fromMs: number, toMs: number): boolean {
    let newest: Version | null = null;
    const holders = new Set<number>();
    for (const e of this.events.get(key) ?? []) {
      if (e.atMs > toMs) break;
      const order = e.version === null || newest === null ? null : compareVersions(e.version, newest);
      if (e.version !== null && (newest === null || order! > 0)) {
        newest = e.version;
        holders.clear();
        holders.add(e.process);
      } else if (order === 0) holders.add(e.process);
      else if (holders.delete(e.process) && holders.size === 0 && e.drop && e.atMs >= fromMs) return true;
    }
    return false;
  }

  /** Each time the last process holding a value `holds` accepts let go of it, and when one held such a value again. */
  private deaths(key: string, holds: (value: string) => boolean): Death[] {
    const deaths: Death[] = [];
    const holders = new Set<number>();
    for (const e of this.events.get(key) ?? []) {
      const had = holders.size > 0;
      if (e.value !== null && holds(e.value)) holders.add(e.process);
      else holders.delete(e.process);
      if (had && holders.size === 0) deaths.push({ atMs: e.atMs, drop: e.drop, revivedMs: null });
      else if (!had && holders.size > 0 && deaths.length > 0) deaths[deaths.length - 1]!.revivedMs = e.atMs;
    }
    return deaths;
  }

  private watch(store: Store, process: number, held: Map<string, string | null>): void {
    const watched = (key: string) => this.events.has(key);
    // Watched keys this process held that its store no longer has: evicted, refused or dropped.
    const sweep = () => {
      for (const key of held.keys()) {
        if (!store.has(key)) {
          held.delete(key);
          this.note(key, process, null, true);
        }
      }
    };
    const set = store.set.bind(store);
    store.set = (key, value, options) => {
      const before = store.size + (store.has(key) ? 0 : 1);
      const stored = set(key, value, options);
      if (stored && watched(key)) {
        const record = decodeRecord(value);
        const text = record.tombstone ? null : this.decoder.decode(record.value);
        held.set(key, text);
        this.note(key, process, text, false, record.version);
      }
      if (store.size < before) sweep();
      return stored;
    };
    const del = store.delete.bind(store);
    store.delete = (key) => {
      const removed = del(key);
      sweep();
      return removed;
    };
    const dropPartition = store.dropPartition.bind(store);
    store.dropPartition = (partition) => {
      const removed = dropPartition(partition);
      sweep();
      return removed;
    };
  }

  private note(key: string, process: number, value: string | null, drop: boolean, version: Version | null = null): void {
    this.events.get(key)!.push({ atMs: this.now(), process, value, drop, version });
  }
}
