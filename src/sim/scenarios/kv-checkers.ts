/**
 * Judges the kv workload's history as each read returns:
 *
 * - no fabricated value: a value read is one some client wrote to that key, and a read that names
 *   a known write's version returns that write's value;
 * - no lost acknowledged write: for reads and writes with R + W > N and writes without sloppy
 *   quorum, the version read is at least as new as every such write acknowledged before the read
 *   began (the scenario keeps at most N - W replicas of a partition down or catching up at once,
 *   with W = 2: a W=1 write lives on one replica until it spreads, so when a crash came between
 *   its acknowledgement and the read it may have wiped that replica; such misses are counted as
 *   `oneWritesLostToCrash`, not violations);
 * - read-your-writes: a client that stuck to one coordinator reads (R + W > N) at least its own
 *   latest acknowledged write, sloppy or not, unless a network partition overlapped the two;
 * - causal versions: a write coordinated by a node is versioned after every version that node
 *   (the same incarnation: its HLC lives in memory) returned to any client before the write began,
 *   as its hybrid logical clock folds in every version it reads or applies;
 * - clock-skew inversions are counted apart: a read returned a write that is newer by HLC version
 *   than a write acknowledged later in real time (last-writer-wins decided by skewed clocks);
 * - versions across restarts: unless both writes went through one node (whatever its incarnation),
 *   which must version the later one after the earlier (coordinator.ts, restamp).
 *
 * A scenario may pass `explain` to classify a failed lost-write or read-your-writes check itself
 * (kv-pressure counts the ones memory-pressure evictions account for); whatever it does not
 * explain stays a violation.
 *
 * Real processes (test/integration/nemesis.test.ts) judge their history here too, with versions
 * bounded rather than known (`KvHistoryOptions.versions`).
 */
import type { Consistency } from '../../replication/api.ts';
import { requiredReplicas } from '../../replication/config.ts';
import { compareVersions, MAX_LOGICAL, versionToString, ZERO_VERSION, type Version } from '../../replication/hlc.ts';
import type { Op, OpListener, ReadOp, WriteOp } from './kv-workload.ts';

/**
 * Given a read that failed `checker` (it returned something older than `missed`, an acknowledged
 * write's version), returns true when the scenario accounts for it, so it is not a violation.
 */
export type ExplainAnomaly = (checker: 'no-lost-acknowledged-write' | 'read-your-writes', read: ReadOp, missed: Version) => boolean;

export interface KvHistoryOptions {
  /**
   * `exact` (default): every op carries the version the cluster gave it (the simulator asks its
   * nodes). `bounds`: real daemons' replies carry no version, so a history recorded from outside
   * gives a write the lowest version it can have (`lowestVersionFrom` its start by the wall clock
   * the nodes' HLCs share) and a read the highest the version of what it returned can have
   * (`highestVersionBy` that write's end, or the read's if sooner). A read whose upper
   * bound is below an acknowledged write's lower bound surely returned something older, so the
   * lost-write and read-your-writes rules hold on bounds (overlapping ones pass); the rules that
   * match exact versions (causal versions, a read naming a write's version, inversions) are off.
   */
  versions?: 'exact' | 'bounds';
}

/** A bound's lower end: the oldest version an HLC stamps at or after wall time `ms` (with `versions: 'bounds'`). */
export function lowestVersionFrom(ms: number): Version {
  return { wallMs: ms, logical: 0, node: 0 };
}

/** A bound's upper end: the newest version an HLC can have stamped by wall time `ms` (node ids are unsigned 32-bit). */
export function highestVersionBy(ms: number): Version {
  return { wallMs: ms, logical: MAX_LOGICAL, node: 0xffff_ffff };
}

interface StrictLevel {
  endMs: number[];
  version: Version[];
  maxVersion: Version[];
}

interface KeyHistory {
  /** Every value ever sent for this key (acknowledged or not). */
  written: Set<string>;
  /** Acknowledged non-sloppy writes per W (index = W), in acknowledgement order, with their versions and running max versions. */
  strict: StrictLevel[];
  /** Every acknowledged write, in acknowledgement order. */
  acked: WriteOp[];
  /**
   * Acknowledged writes by version. Per key: last-writer-wins compares versions of one key only,
   * and two incarnations of a node may give two keys one version (a restarted node's clock starts
   * again from its wall clock), which is harmless.
   */
  byVersion: Map<string, WriteOp>;
}

export class KvHistoryChecker implements OpListener {
  readonly violations: { checker: string; atMs: number; message: string }[] = [];
  readonly figures = { readsChecked: 0, strictReadsChecked: 0, rywReadsChecked: 0, skewInversions: 0, oneWritesLostToCrash: 0 };
  private readonly keys = new Map<string, KeyHistory>();
  /** Latest acknowledged write per `${client}/${key}`. */
  private readonly ownLatest = new Map<string, WriteOp>();
  /** Per coordinator incarnation (`${node}/${incarnation}`): versions it returned, in completion order, with running maxima. */
  private readonly returnedBy = new Map<string, { endMs: number[]; maxVersion: Version[] }>();

  constructor(
    private readonly replicas: number,
    /** Whether a network partition was active at any time in [fromMs, toMs]. */
    private readonly partitionDuring: (fromMs: number, toMs: number) => boolean,
    private readonly explain?: ExplainAnomaly,
    /** Whether a node crashed at any time in (fromMs, toMs); without it, W=1 writes are checked like the others. */
    private readonly crashDuring?: (fromMs: number, toMs: number) => boolean,
    private readonly options: KvHistoryOptions = {},
  ) {}

  private get exact(): boolean {
    return this.options.versions !== 'bounds';
  }

  issued(op: Op): void {
    if (op.kind === 'write' && op.value !== null) this.history(op.key).written.add(op.value);
  }

  completed(op: Op): void {
    if (this.exact && op.kind === 'write' && op.outcome === 'acked') this.checkCausal(op);
    if (this.exact && (op.outcome === 'acked' || op.outcome === 'ok') && op.version) this.noteReturned(op, op.version);
    if (op.kind === 'write') {
      if (op.outcome === 'acked') this.onAck(op);
    } else if (op.outcome === 'ok') {
      this.onRead(op);
    }
  }

  private onAck(w: WriteOp): void {
    const h = this.history(w.key);
    h.acked.push(w);
    if (w.version) h.byVersion.set(versionToString(w.version), w);
    this.ownLatest.set(`${w.client}/${w.key}`, w);
    if (w.sloppy || !w.version) return;
    const level = h.strict[this.needed(w.consistency)]!;
    const previous = level.maxVersion[level.maxVersion.length - 1];
    level.endMs.push(w.endMs!);
    level.version.push(w.version);
    level.maxVersion.push(previous && compareVersions(previous, w.version) > 0 ? previous : w.version);
  }

  private onRead(r: ReadOp): void {
    this.figures.readsChecked++;
    const h = this.history(r.key);
    const readVersion = r.version ?? ZERO_VERSION;
    const source = r.version && this.exact ? h.byVersion.get(versionToString(r.version)) : undefined;

    if (r.value !== null && !h.written.has(r.value)) {
      return this.violate('no-fabricated-value', r, `read of ${r.key} returned "${r.value}", which no client wrote to it`);
    }
    if (source && r.value !== null && source.value !== r.value) {
      return this.violate('no-fabricated-value', r, `read of ${r.key} returned "${r.value}" with the version of the write of "${source.value}"`);
    }

    const readNeeded = this.needed(r.consistency);
    for (let w = 1; w <= this.replicas; w++) {
      if (w + readNeeded <= this.replicas) continue;
      this.figures.strictReadsChecked++;
      const newest = newestAckedBefore(h.strict[w]!, r.startMs);
      if (newest && compareVersions(readVersion, newest) < 0) {
        if (w === 1 && this.everyNewerOneWriteCrashedOn(h.strict[1]!, r, readVersion)) {
          this.figures.oneWritesLostToCrash++;
          continue;
        }
        if (this.explain?.('no-lost-acknowledged-write', r, newest)) return;
        return this.violate(
          'no-lost-acknowledged-write',
          r,
          `read (${r.consistency}) of ${r.key} started at ${r.startMs.toFixed(1)}ms returned version ${this.shown(readVersion)}${this.exact ? '' : ` ("${r.value}")`}, ` +
            `older than ${this.shown(newest)} acknowledged before it (W=${w})`,
        );
      }
    }

    const own = this.ownLatest.get(`${r.client}/${r.key}`);
    if (r.sticky && own?.sticky && own.version && own.coordinator === r.coordinator && own.endMs! < r.startMs) {
      const strictEnough = this.needed(own.consistency) + readNeeded > this.replicas;
      if (strictEnough && !this.partitionDuring(own.startMs, r.endMs!)) {
        this.figures.rywReadsChecked++;
        if (compareVersions(readVersion, own.version) < 0) {
          if (this.explain?.('read-your-writes', r, own.version)) return;
          return this.violate(
            'read-your-writes',
            r,
            `client ${r.client} wrote ${r.key} (version ${this.shown(own.version)}${own.sloppy ? ', sloppy' : ''}) through n${r.coordinator + 1}, then read ${this.shown(readVersion)} there`,
          );
        }
      }
    }

    if (source && source.endMs !== null) this.checkInversions(h, r, source, readVersion);
  }

  /**
   * Writes acknowledged after `source` ended and before the read began, yet versioned older than
   * it: last-writer-wins decided by skewed clocks (counted), unless both went through one node,
   * which must version the later one after (a violation: across its restarts too).
   */
  private checkInversions(h: KeyHistory, r: ReadOp, source: WriteOp, readVersion: Version): void {
    let inverted = false;
    for (const w of h.acked) {
      if (w.endMs! >= r.startMs) break;
      if (w.startMs <= source.endMs! || !w.version || compareVersions(w.version, readVersion) >= 0) continue;
      if (w.coordinator === source.coordinator) {
        return this.violate(
          'versions-across-restarts',
          r,
          `read of ${r.key} returned ${versionToString(readVersion)}, written through n${w.coordinator + 1} (incarnation ${source.incarnation}) before its write ` +
            `versioned ${versionToString(w.version)} (incarnation ${w.incarnation}) was acknowledged: one node versioned a later write of the key older`,
        );
      }
      inverted = true;
    }
    if (inverted) this.figures.skewInversions++;
  }

  /**
   * Whether each W=1 write newer than the read and acknowledged before it began was followed by a
   * crash before the read: its one holder may have been wiped before the write spread (kv-pressure
   * seed 230000: a delete acknowledged by its coordinator alone, cut off from both other owners,
   * which crashed 115 ms later with the hints for them).
   */
  private everyNewerOneWriteCrashedOn(level: StrictLevel, r: ReadOp, readVersion: Version): boolean {
    if (!this.crashDuring) return false;
    for (let i = 0; i < level.endMs.length && level.endMs[i]! < r.startMs; i++) {
      if (compareVersions(level.version[i]!, readVersion) > 0 && !this.crashDuring(level.endMs[i]!, r.startMs)) return false;
    }
    return true;
  }

  private checkCausal(w: WriteOp): void {
    const returned = this.returnedBy.get(`${w.coordinator}/${w.incarnation}`);
    const before = returned ? newestAckedBefore(returned, w.startMs) : null;
    if (w.version && before && compareVersions(w.version, before) <= 0) {
      this.violations.push({
        checker: 'causal-versions',
        atMs: w.endMs!,
        message:
          `write of ${w.key} through n${w.coordinator + 1} started at ${w.startMs.toFixed(1)}ms got version ${versionToString(w.version)}, ` +
          `not after ${versionToString(before)}, which n${w.coordinator + 1} had returned before it`,
      });
    }
  }

  private noteReturned(op: Op, version: Version): void {
    const id = `${op.coordinator}/${op.incarnation}`;
    let level = this.returnedBy.get(id);
    if (!level) this.returnedBy.set(id, (level = { endMs: [], maxVersion: [] }));
    const previous = level.maxVersion[level.maxVersion.length - 1];
    level.endMs.push(op.endMs!);
    level.maxVersion.push(previous && compareVersions(previous, version) > 0 ? previous : version);
  }

  /** A version as a message shows it: with bounds, which side of a wall-clock millisecond it lies. */
  private shown(v: Version): string {
    if (this.exact || v.wallMs === 0) return versionToString(v);
    return v.logical === 0 ? `>= ${v.wallMs}ms` : `<= ${v.wallMs}ms`;
  }

  private needed(consistency: Consistency): number {
    return requiredReplicas(consistency, this.replicas);
  }

  private history(key: string): KeyHistory {
    let h = this.keys.get(key);
    if (!h) {
      h = { written: new Set(), strict: Array.from({ length: this.replicas + 1 }, () => ({ endMs: [], version: [], maxVersion: [] })), acked: [], byVersion: new Map() };
      this.keys.set(key, h);
    }
    return h;
  }

  private violate(checker: string, r: ReadOp, message: string): void {
    this.violations.push({ checker, atMs: r.endMs ?? r.startMs, message });
  }
}

/** The newest version among writes acknowledged strictly before `t` (acks are in time order). */
function newestAckedBefore(level: { endMs: number[]; maxVersion: Version[] }, t: number): Version | null {
  let lo = 0;
  let hi = level.endMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (level.endMs[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : level.maxVersion[lo - 1]!;
}
