/**
 * The request ids a partition remembers with their read-modify-write results, so a repeat (a
 * client's retry, or a duplicated message) is answered with the first result instead of being
 * applied again. Kept by the partition's actor on every replica that applied the result (the
 * fenced write carries the id), so a new primary learns them in its claim (rmw-primary.ts).
 *
 * Each id also knows, per key its result wrote, the version of the newest record known to hold its
 * effect: the record it wrote, moved on to each later result built on that record (`advance`). A
 * new primary trusts an id only when that version is the newest record its claim read: a replica
 * can remember an id whose record a later result overwrote without building on it (a result
 * refused elsewhere, left on one replica, then missed by a claim: kv-rmw seed 400293), and
 * answering a repeat of it would report an effect that is gone.
 *
 * Bounded by count and by age: a repeat later than either is applied again (docs/REPLICATION.md,
 * "Read-modify-write").
 */
import { compareVersions, versionFromString } from './hlc.ts';
import type { WireRmwResult } from './rmw-wire.ts';

/** Request ids a partition remembers by default. */
export const DEFAULT_RMW_REQUESTS_REMEMBERED = 1024;
/** How long a partition remembers a request id by default (a client retries well within this). */
export const DEFAULT_RMW_REQUEST_MEMORY_MS = 5 * 60_000;

/**
 * Past the count bound, ids younger than `minKeepMs` are kept anyway, up to `hardMaxEntries`: a
 * retry comes within its coordinator's deadline (RMW_DEADLINE_TIMEOUTS request timeouts, 4 s by
 * default) and a client's few attempts, and a hot partition under group commit remembers 1,024
 * ids in well under a second (kv-rmw-hot seed 10: 1,024 ids lasted about 4 s, and an INCR
 * retried 7 s after its first, unanswered, application was applied again).
 */
export interface RequestRetention {
  minKeepMs: number;
  hardMaxEntries: number;
}

/**
 * Lineage links kept per key (noteBuilt), and the most a claim's answer sends of one key: enough to
 * tell that the newest record a claim reads was built, result on result, on the record an id
 * stands for at an owner that missed the latest results (kv-rmw-hot seed 1350627: two results
 * behind). Past them a retry is applied again. A partition keeps as many links in all as it
 * remembers ids by count (least recently built keys' oldest links go first).
 */
export const RECORD_LINKS_PER_KEY = 32;

/** What a partition actor keeps (the bounds above; docs/REPLICATION.md, "Request ids"). */
export const RMW_REQUEST_RETENTION: RequestRetention = { minKeepMs: 30_000, hardMaxEntries: 16 * DEFAULT_RMW_REQUESTS_REMEMBERED };

/**
 * The ids standing for one record of one key. They move on together: a result built on that
 * record moves the whole cell in one step (`advance`), not id by id, which on a hot key under
 * group commit was a fifth of a node's busy time (every remembered id stands for its one record).
 */
interface Cell {
  version: string;
  ids: Set<string>;
}

interface Remembered {
  result: WireRmwResult;
  atMs: number;
  /** Insertion order, which is `entries`' order (listFor() sorts by it). */
  seq: number;
  /** The keys the result wrote (empty when not known). */
  keys: readonly string[];
  /** Per key, the cell of the newest record known to hold the result's effect; null when a peer did not say. */
  cells: Cell[] | null;
}

/**
 * A remembered request as it travels: id, result, the keys its result wrote, and per key the
 * version of the newest record known to hold its effect (absent from peers that do not send it).
 */
export type RememberedRequest = [string, WireRmwResult, string[], string[]] | [string, WireRmwResult, string[]] | [string, WireRmwResult];

export class RequestMemory {
  /** In insertion order, which is age order (a re-remembered id moves to the end). */
  private readonly entries = new Map<string, Remembered>();
  /** Per key, per record version: the cell of the ids standing for that record. */
  private readonly byRecord = new Map<string, Map<string, Cell>>();
  /** The ids whose versions or keys are not known (a peer did not send them): not in `byRecord`, so listFor() looks at each. */
  private readonly unindexed = new Set<string>();
  private nextSeq = 0;
  /**
   * Per key, the lineage of the fenced results applied here: each result's record version -> the
   * version of the record it was built on (its base); the newest RECORD_LINKS_PER_KEY per key, and
   * `maxEntries` in all. Keys in order of their last link.
   */
  private readonly links = new Map<string, Map<string, string>>();
  private linkCount = 0;

  constructor(
    private readonly maxEntries = DEFAULT_RMW_REQUESTS_REMEMBERED,
    private readonly maxAgeMs = DEFAULT_RMW_REQUEST_MEMORY_MS,
    /** None: the count bound alone. */
    private readonly retention: RequestRetention | null = null,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The first result of `requestId`, if still remembered at `nowMs`. */
  get(requestId: string, nowMs: number): WireRmwResult | undefined {
    this.forgetOlderThan(nowMs);
    return this.entries.get(requestId)?.result;
  }

  /**
   * Remembers a result; the first one stays (a repeat answers it, so it never changes). Versions
   * given for an id already remembered replace older ones key by key (its effect moved on), and
   * with them the result: a primary applies a request again when its first effect was lost.
   */
  remember(requestId: string, result: WireRmwResult, nowMs: number, keys: readonly string[] = [], versions: readonly string[] | null = null): void {
    const known = this.entries.get(requestId);
    if (known !== undefined) {
      if (versions === null || versions.length !== known.keys.length) return;
      const held = versionsOf(known);
      const newer = newerOf(held, versions);
      if (newer.some((v, i) => v !== held?.[i])) {
        this.unindex(requestId, known);
        known.result = result;
        this.index(requestId, known, newer);
      }
      return;
    }
    const entry: Remembered = { result, atMs: nowMs, seq: this.nextSeq++, keys, cells: null };
    this.entries.set(requestId, entry);
    if (versions !== null && versions.length === keys.length && keys.length > 0) this.index(requestId, entry, versions);
    else this.unindexed.add(requestId);
    while (this.entries.size > this.maxEntries) {
      const [oldest, r] = this.entries.entries().next().value!;
      if (this.retention !== null && this.entries.size <= this.retention.hardMaxEntries && nowMs - r.atMs < this.retention.minKeepMs) break;
      this.forget(oldest);
    }
    this.forgetOlderThan(nowMs);
  }

  /** Every id remembered at `nowMs`, oldest first. */
  list(nowMs: number): RememberedRequest[] {
    this.forgetOlderThan(nowMs);
    return [...this.entries].map(([id, r]) => travelling(id, r));
  }

  /** Whether some remembered id stands for a record of `key` (only then can a write to it move ids on). */
  tracks(key: string): boolean {
    return this.byRecord.has(key);
  }

  /**
   * Whether the remembered result of `requestId` is in the records `versionOf` reports (each key's
   * version there, null for none): true when its versions are not known (a peer did not send them).
   */
  heldIn(requestId: string, versionOf: (key: string) => string | null): boolean {
    const r = this.entries.get(requestId);
    return r?.cells == null || r.keys.every((key, i) => versionOf(key) === r.cells![i]!.version);
  }

  /** Every id whose effect is in `key`'s record at version `from` is now in the one at `to` (built on it). */
  advance(key: string, from: string, to: string): void {
    const records = this.byRecord.get(key);
    const cell = records?.get(from);
    if (cell === undefined || from === to) return;
    records!.delete(from);
    const there = records!.get(to);
    if (there === undefined) {
      cell.version = to;
      records!.set(to, cell);
      return;
    }
    // Ids stand for `to` already: the smaller cell's ids join the larger one.
    const [big, small] = there.ids.size >= cell.ids.size ? [there, cell] : [cell, there];
    big.version = to;
    records!.set(to, big);
    for (const id of small.ids) {
      const r = this.entries.get(id)!;
      r.cells![r.keys.indexOf(key)] = big;
      big.ids.add(id);
    }
  }

  /** Notes that `key`'s record at `version` was built on the one at `base` (a fenced result applied here, in time or late). */
  noteBuilt(key: string, base: string, version: string): void {
    let links = this.links.get(key);
    if (links === undefined) links = new Map();
    else this.links.delete(key);
    this.links.set(key, links);
    if (links.get(version) === base) return;
    if (!links.has(version)) this.linkCount++;
    links.set(version, base);
    if (links.size > RECORD_LINKS_PER_KEY) this.dropOldestLink(key, links);
    while (this.linkCount > this.maxEntries) {
      const [oldestKey, oldest] = this.links.entries().next().value!;
      this.dropOldestLink(oldestKey, oldest);
    }
  }

  /**
   * A result applied late, after the one built on its record (kv-rmw seed 230828): the ids standing
   * for its record `version` stand for `held`, the record built on it that this replica holds.
   */
  catchUp(key: string, version: string, held: string): void {
    if (this.links.get(key)?.get(held) === version) this.advance(key, version, held);
  }

  /**
   * The lineage of `key`'s record at `version` as this replica knows it, newest first: [record,
   * base] pairs, each base the next pair's record, up to RECORD_LINKS_PER_KEY (a claim's answer).
   */
  lineageOf(key: string, version: string): [string, string][] {
    const links = this.links.get(key);
    const out: [string, string][] = [];
    for (let at = version, base = links?.get(at); base !== undefined && out.length < RECORD_LINKS_PER_KEY; at = base, base = links!.get(at)) out.push([at, base]);
    return out;
  }

  /**
   * The ids whose results wrote one of `keys` (or whose keys are not known), for sync data
   * carrying those keys' records: an id goes where its effect goes, and not elsewhere, since a
   * replica told of an id whose effect it never holds would answer a repeat without it.
   */
  listFor(keys: ReadonlySet<string>, nowMs: number): RememberedRequest[] {
    this.forgetOlderThan(nowMs);
    // Through the index, not a walk of every id: a claim asks for this on every new key, and a
    // partition may remember 16,384 ids.
    const ids = new Set<string>();
    for (const key of keys) for (const cell of this.byRecord.get(key)?.values() ?? []) for (const id of cell.ids) ids.add(id);
    for (const id of this.unindexed) {
      const r = this.entries.get(id)!;
      if (r.keys.length === 0 || r.keys.some((k) => keys.has(k))) ids.add(id);
    }
    const found = [...ids].map((id) => [id, this.entries.get(id)!] as const);
    // Oldest first, as remembered.
    found.sort((a, b) => a[1].seq - b[1].seq);
    return found.map(([id, r]) => travelling(id, r));
  }

  /** Remembers every request of a list received from a peer. */
  rememberAll(list: readonly RememberedRequest[], nowMs: number): void {
    for (const [id, result, keys, versions] of list) this.remember(id, result, nowMs, keys ?? [], versions ?? null);
  }

  private forgetOlderThan(nowMs: number): void {
    for (const [id, r] of this.entries) {
      if (nowMs - r.atMs <= this.maxAgeMs) break;
      this.forget(id);
    }
  }

  private dropOldestLink(key: string, links: Map<string, string>): void {
    links.delete(links.keys().next().value!);
    this.linkCount--;
    if (links.size === 0) this.links.delete(key);
  }

  private forget(id: string): void {
    this.unindex(id, this.entries.get(id)!);
    this.unindexed.delete(id);
    this.entries.delete(id);
  }

  /** Puts `r` (key by key) in the cells of `versions`. */
  private index(id: string, r: Remembered, versions: readonly string[]): void {
    this.unindexed.delete(id);
    r.cells = versions.map((version, i) => {
      const key = r.keys[i]!;
      let records = this.byRecord.get(key);
      if (records === undefined) this.byRecord.set(key, (records = new Map()));
      let cell = records.get(version);
      if (cell === undefined) records.set(version, (cell = { version, ids: new Set() }));
      cell.ids.add(id);
      return cell;
    });
  }

  private unindex(id: string, r: Remembered): void {
    r.cells?.forEach((cell, i) => {
      cell.ids.delete(id);
      if (cell.ids.size > 0) return;
      const key = r.keys[i]!;
      const records = this.byRecord.get(key);
      if (records?.get(cell.version) !== cell) return;
      records.delete(cell.version);
      if (records.size === 0) this.byRecord.delete(key);
    });
    r.cells = null;
  }
}

function versionsOf(r: Remembered): string[] | null {
  return r.cells === null ? null : r.cells.map((c) => c.version);
}

function travelling(id: string, r: Remembered): RememberedRequest {
  const versions = versionsOf(r);
  return versions === null ? [id, r.result, [...r.keys]] : [id, r.result, [...r.keys], versions];
}

/** Key by key, the newer of two version lists (a malformed one from a peer never wins). */
function newerOf(known: string[] | null, incoming: readonly string[]): string[] {
  if (known === null) return [...incoming];
  return known.map((mine, i) => {
    const a = versionFromString(mine);
    const b = versionFromString(incoming[i]!);
    return b !== null && (a === null || compareVersions(b, a) > 0) ? incoming[i]! : mine;
  });
}
