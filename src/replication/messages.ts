/**
 * Node-to-node replication messages and their msgpack codec. Keys travel as store keys (latin1
 * strings, see record.ts) and records as their stored bytes (header + value), so a replica writes
 * what it receives without re-encoding.
 *
 * The transport is shared with gossip; src/node puts a one-byte family prefix in front of these
 * bytes and strips it before `decodeKvMessage`.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { MAX_FRAME_DEPTH, MsgpackScanError, scanMsgpack } from '../protocol/msgpack-scan.ts';
import type { Version } from './hlc.ts';
import { HEADER_BYTES } from './record.ts';
import type { RememberedRequest } from './rmw-requests.ts';
import type { WireRmwOp, WireRmwResult } from './rmw-wire.ts';

export type KvMessage =
  /**
   * Replica write. `h` is set on a sloppy-quorum write to a fallback: the owner it stands in for.
   * `v`: the ring version the coordinator routed it by (a replica that has moved past that ring
   * answers `ns`, see docs/REPLICATION.md "Ring changes"); absent only in hand-built messages.
   */
  | { t: 'w'; id: number; p: number; k: string; r: Uint8Array; h?: string; v?: string }
  /**
   * Replica write acknowledged. `sv`: the replica kept a record the write's own node stamped that
   * is newer than the write, or as new with other bytes: a version an earlier incarnation of that
   * node handed out (its HLC lives in memory; coordinator.ts, onWriteAck). 16 bytes after the
   * binary ack; a node before the field reads the ack alone.
   */
  | { t: 'wa'; id: number; sv?: Version }
  /** The replica's store refused a write for its memory budget (noeviction, or larger than the budget): it will not be acknowledged. */
  | { t: 'wo'; id: number }
  /** The replica's partition actor refused a write or read: its mailbox is full (backpressure). */
  | { t: 'nb'; id: number }
  /**
   * Replica read; `v` as in `w`. `n`: the partition's owner count in that ring, sent only when
   * it is below the replication factor (a cluster of N data holders or fewer; otherwise no ring
   * has more owners): a replica behind that ring whose own ring has more owners of the partition
   * answers as not caught up (replica-host.ts, behindLargerRing). Such a read goes as msgpack;
   * older nodes ignore the field. `pk`: a peek (GetOptions.peek, OBJECT): the replica reads the
   * key without counting a use (no frequency, recency, hot-key or hit/miss count). Also msgpack
   * only; a node before the field ignores it and reads the key as any read (counting a use).
   */
  | { t: 'r'; id: number; p: number; k: string; v?: string; n?: number; pk?: boolean }
  /**
   * Refusal of a `w` or `r` routed by ring `rv`, which this replica has moved past (the
   * partition's owners changed since): `v` is the replica's ring version, `o` the owners in it.
   * `r`: refusing a read of a partition it still holds (its handoff has not finished), the
   * replica's record of the key, if it has one (the coordinator merges it into the read's answer).
   */
  | { t: 'ns'; id: number; rv: string; v: string; o: string[]; r?: Uint8Array }
  /**
   * Read answer: the stored record (or null) and whether this replica has finished its catch-up
   * sync; `e`, with no record, the newest version of the key this replica evicted, if it remembers
   * one (eviction-shadow.ts); `ei`, with `e`, that `e` is inexact: the watermark of the filter of
   * forgotten keys, at or above the version evicted, not proof that a version that new was written.
   * `h`, with neither a record nor `e`: the partition's forgetting horizon (ForgottenKeys.horizon),
   * newer than its floor: this replica evicted and forgot keys there, so any version of this key it
   * may have evicted and no longer knows of is at or below `h` (an inexact eviction bound that, unlike
   * `e`, does not keep the key's copies from being repaired into it).
   * `vh`: the replica caught the partition up from sources that had forgotten keys (their
   * forgetting horizons, ForgottenKeys.inherit), so it cannot vouch for "nothing newer" at or below
   * `vh`: with a record older than it (sent only to coordinators at VOUCH_PROTOCOL or later: it
   * changes the record's offset), or, with `h` and no record, equal to `h` (a flag bit only).
   */
  | { t: 'ra'; id: number; r: Uint8Array | null; ready: boolean; e?: Version; f?: Version; ei?: true; h?: Version; vh?: Version }
  /** Read repair: newer record for a stale replica; not acknowledged (anti-entropy backs it up). */
  | { t: 'rp'; p: number; k: string; r: Uint8Array }
  /** Hinted handoff delivery, acknowledged with `ha` so the hint can be forgotten. */
  | { t: 'hd'; id: number; p: number; k: string; r: Uint8Array }
  | { t: 'ha'; id: number }
  /**
   * Sync request: flat [partition, digest, partition, digest, ...] for partitions shared with the
   * receiver; `f`: the sender's flush floors of those partitions (flat, as in `fl`), which the
   * receiver raises its own to before it compares anything. `b`: the sender compares large
   * partitions by bucket (SYNC_BUCKETS, the number it uses): the receiver may answer `bd` for them.
   * Older nodes ignore the field and answer full lists.
   */
  | { t: 'sq'; d: number[]; f?: number[]; b?: number }
  /**
   * Sync response: partitions whose digests matched, and the (key, version) lists of those that
   * did not. `v` is the sender's ring version: an answer counts towards catch-up or handoff only
   * between nodes on the same ring (a node with a partial view must not call itself caught up).
   * `f`: the answerer's flush floors of the partitions asked about, raised before the lists are used.
   * `bd`: differing partitions too large for a list, as [partition, bucket digest...] (only to an
   * asker that sent `b`); the asker asks for the lists of the buckets that differ with `sb`.
   * `u`: of the differing partitions, those the answerer is catching up from the asker and pulls
   * from it by its own rounds: the asker pushes nothing of them unless it is handing them off (a
   * push would only duplicate the pull). Older nodes send no `u` and ignore it: they push as before.
   * `fh`: the answerer's forgetting horizons (ForgottenKeys.horizon) of the differing partitions that
   * have one, flat as `f`: the asker, an owner too, pushes nothing the answerer lacks at or below
   * them. Older nodes send none and ignore it.
   * `hc`: the answerer's hybrid logical clock (replica-host.ts clockReading), folded in by the
   * asker: a restarted node's clock passes every version its peers received, its predecessor's
   * among them. Older nodes send none and ignore it.
   */
  | { t: 'sr'; eq: number[]; df: SyncDiff[]; v: string; f?: number[]; bd?: number[][]; u?: number[]; fh?: number[]; hc?: Version }
  /**
   * Flush floors (flush-floors.ts): flat [partition, wallMs, logical, node, ...]; the receiver
   * raises its floors to them, deleting what they flush, and answers `fla` (FLUSHALL's coordinator
   * and floor hints wait for it; a read's floor repair ignores it). Only sent to members of protocol
   * version FLUSH_FLOORS_PROTOCOL or later: older ones cannot decode it.
   */
  | { t: 'fl'; id: number; f: number[] }
  | { t: 'fla'; id: number }
  /** Sync bucket request: the (key, version) lists of partition p's buckets `b` (answered with `sl`). */
  | { t: 'sb'; p: number; b: number[] }
  /**
   * Sync bucket lists: the (key, version) pairs of partition p's buckets `b` (flat versions `x`, as
   * in SyncDiff), those `sb` asked for that fit the answer's budget, in the order asked; `c`: every
   * bucket asked is there (the answer is complete, like an `sr` list); `v` and `u` (true: p is
   * one of them) and `fh` (p's) as in `sr`.
   */
  | { t: 'sl'; p: number; b: number[]; k: string[]; x: number[]; v: string; c: boolean; u?: boolean; fh?: Version }
  /**
   * Sync want: send me these keys of partition p. `n`: not the last want of this exchange (it came
   * from an `sl` that covers only some of the differing buckets), so the answer carries no `last`:
   * it must not end the asker's catch-up. Only sent to a node that sent `sl`, or as a value hunt.
   * `h` (with `n`): a value hunt (value-hunts.ts), numbered: the answer's last batch carries the
   * number in `h` instead of `last`. Nodes before VALUE_HUNT_PROTOCOL ignore `h` and answer as to
   * `n` alone.
   */
  | { t: 'sw'; p: number; k: string[]; n?: boolean; h?: number }
  /**
   * Sync data: records of partition p; `last` marks the final answer to a want; `v` as in `sr`.
   * `ek`/`ev`: keys the sender's store evicted (wanted, or newer than the receiver's), with the
   * evicted versions (flat, as in SyncDiff): the receiver keeps them as evicted too. `q`: the
   * read-modify-write request ids the sender remembers for p (rmw-requests.ts), so they travel
   * with the records whose results they are. `h`: the final answer to the value hunt of that number (never with `last`), `hr`
   * the keys of it that did not fit (value-hunts.ts). With `last`: `nk` the keys wanted that the
   * sender holds nothing of (no record, no evicted version), and `bz` that it was too busy to read
   * the partition and answered nothing (sync.ts, onWantAnswered). Nodes before them send neither
   * and ignore both.
   */
  | { t: 'sd'; p: number; k: string[]; r: Uint8Array[]; last: boolean; v: string; ek?: string[]; ev?: number[]; q?: RememberedRequest[]; h?: number; hr?: string[]; nk?: string[]; bz?: boolean }
  /**
   * Keyspace scan (scan.ts): a page of partition p's live keys whose scan hash is >= `a`, looking
   * at `c` keys in scan-hash order, those matching the Redis glob `m` (bytes) returned.
   */
  | { t: 'sc'; id: number; p: number; a: number; c: number; m?: Uint8Array }
  /**
   * Scan answer. `s`: 'ok' (then `k`, `n`, `x` hold the page), or why this holder does not serve
   * the partition: 'none' (not held), 'catching-up' (held, not caught up or not an owner in a
   * confirmed ring), 'busy' (its mailbox is full). `n`: the next scan-hash position, -1 when the
   * partition is done; `x`: keys looked at.
   */
  | { t: 'sa'; id: number; s: ScanStatus; k: string[]; n: number; x: number }
  /** Count of partition p's live keys (scan.ts). */
  | { t: 'cn'; id: number; p: number }
  /** Count answer; `s` as in `sa`, `n` the count when 'ok'. */
  | { t: 'ca'; id: number; s: ScanStatus; n: number }
  // ---- read-modify-write (rmw-coordinator.ts, rmw-primary.ts; docs/REPLICATION.md "Read-modify-write") ----
  /**
   * Read-modify-write request to the keys' primary: operation `o` (rmw-wire.ts) on store keys `k`
   * of partition `p`, at consistency `c`, with request id `q` (a repeat is answered with the first result).
   * `dl`: the client's deadline (absolute wall ms), past which the primary does not start the
   * operation (answers a final `timeout`); absent: none. Primaries that predate it ignore it.
   */
  | { t: 'x'; id: number; p: number; k: string[]; o: WireRmwOp; c: string; q: string; dl?: number }
  /** The primary's answer: `res` the result, or `err` a KvErrorCode with message `msg`; `f`: final, do not retry. */
  | { t: 'xr'; id: number; res?: WireRmwResult; err?: string; msg?: string; f?: boolean }
  /**
   * Primary claim and read: a replica whose promised fencing epoch is at most `e` raises it to `e`
   * (refusing every older one from then on) and answers the records of `k`.
   */
  | { t: 'xc'; id: number; p: number; e: number; k: string[] }
  /**
   * Answer to `xc`: `ok` false with the replica's higher epoch `e`; else its records (null: none),
   * whether it is caught up, and the request ids it remembers for the partition with their results (`d`).
   */
  /**
   * `xk`/`xv`: the claimed keys (by index) the replica's store evicted, and the versions evicted (none from older builds).
   * `lk`/`lv`/`lb`: lineage links of the claimed keys (by index): a record version and the version of the record its
   * fenced result was built on (none from older builds, which a claimer then does without).
   */
  | { t: 'xca'; id: number; ok: boolean; e: number; ready: boolean; r: (Uint8Array | null)[]; d: RememberedRequest[]; xk?: number[]; xv?: string[]; lk?: number[]; lv?: string[]; lb?: string[] }
  /**
   * Fenced read-modify-write result: applied only by a replica whose promised epoch is at most `e`.
   * `u`: earlier request ids of the partition whose results may have been applied without reaching
   * a quorum (rmw-primary.ts): the replica remembers them too. `b`: per key, the version of the
   * record the operation read and built on ('' for none), so ids standing for it move on to `r`.
   */
  | { t: 'xw'; id: number; p: number; e: number; k: string[]; r: Uint8Array[]; q: string; res: WireRmwResult; u?: RememberedRequest[]; b?: string[] }
  /**
   * Answer to `xw`: applied (`ok`), or refused for the replica's higher epoch `e`, or (`o`) refused
   * whole because its store has no room (--eviction-policy noeviction), which fails the operation
   * with `out-of-memory` once the replicas left cannot reach its level.
   */
  | { t: 'xwa'; id: number; ok: boolean; e: number; o?: boolean };

/** How a holder answered a scan or count request (see `sa`). */
export type ScanStatus = 'ok' | 'none' | 'catching-up' | 'busy';

/** [partition, keys, flat versions (wallMs, logical, node per key)] */
export type SyncDiff = [number, string[], number[]];

/** Thrown for bytes that do not decode to a replication message. */
export class MalformedKvMessageError extends Error {
  override readonly name = 'MalformedKvMessageError';
}

type FieldKind =
  | 'number'
  | 'number?'
  | 'number-lists?'
  | 'string'
  | 'bytes?'
  | 'scan-status'
  | 'boolean'
  | 'boolean?'
  | 'record'
  | 'record?'
  | 'record-or-absent'
  | 'string?'
  | 'version?'
  | 'numbers'
  | 'numbers?'
  | 'strings'
  | 'strings?'
  | 'records'
  | 'records-or-null'
  | 'diffs'
  | 'map'
  | 'list'
  | 'list?'
  | 'pairs'
  | 'pairs?';

/**
 * The fields each message must carry, checked on decode: a peer running another version (or
 * anyone who can reach the peer port) must not be able to crash a handler with a missing field.
 */
const SCHEMA: Record<KvMessage['t'], Record<string, FieldKind>> = {
  w: { id: 'number', p: 'number', k: 'string', r: 'record', h: 'string?', v: 'string?' },
  wa: { id: 'number', sv: 'version?' },
  wo: { id: 'number' },
  nb: { id: 'number' },
  r: { id: 'number', p: 'number', k: 'string', v: 'string?', n: 'number?', pk: 'boolean?' },
  ns: { id: 'number', rv: 'string', v: 'string', o: 'strings', r: 'record-or-absent' },
  ra: { id: 'number', r: 'record?', ready: 'boolean', e: 'version?', f: 'version?', h: 'version?', vh: 'version?' },
  rp: { p: 'number', k: 'string', r: 'record' },
  hd: { id: 'number', p: 'number', k: 'string', r: 'record' },
  ha: { id: 'number' },
  sq: { d: 'numbers', f: 'numbers?', b: 'number?' },
  sr: { eq: 'numbers', df: 'diffs', v: 'string', f: 'numbers?', bd: 'number-lists?', u: 'numbers?', fh: 'numbers?', hc: 'version?' },
  sb: { p: 'number', b: 'numbers' },
  sl: { p: 'number', b: 'numbers', k: 'strings', x: 'numbers', v: 'string', c: 'boolean', u: 'boolean?', fh: 'version?' },
  fl: { id: 'number', f: 'numbers' },
  fla: { id: 'number' },
  sw: { p: 'number', k: 'strings', n: 'boolean?', h: 'number?' },
  sd: { p: 'number', k: 'strings', r: 'records', last: 'boolean', v: 'string', ek: 'strings?', ev: 'numbers?', q: 'pairs?', h: 'number?', hr: 'strings?', nk: 'strings?', bz: 'boolean?' },
  sc: { id: 'number', p: 'number', a: 'number', c: 'number', m: 'bytes?' },
  sa: { id: 'number', s: 'scan-status', k: 'strings', n: 'number', x: 'number' },
  cn: { id: 'number', p: 'number' },
  ca: { id: 'number', s: 'scan-status', n: 'number' },
  // Operations and results inside these are checked by rmw-wire.ts when they are used.
  x: { id: 'number', p: 'number', k: 'strings', o: 'map', c: 'string', q: 'string' },
  xr: { id: 'number', res: 'list?', err: 'string?', msg: 'string?', f: 'boolean?' },
  xc: { id: 'number', p: 'number', e: 'number', k: 'strings' },
  xca: { id: 'number', ok: 'boolean', e: 'number', ready: 'boolean', r: 'records-or-null', d: 'pairs', xk: 'numbers?', xv: 'strings?', lk: 'numbers?', lv: 'strings?', lb: 'strings?' },
  xw: { id: 'number', p: 'number', e: 'number', k: 'strings', r: 'records', q: 'string', res: 'list', u: 'pairs?', b: 'strings?' },
  xwa: { id: 'number', ok: 'boolean', e: 'number', o: 'boolean?' },
};

const SCAN_STATUSES: readonly unknown[] = ['ok', 'none', 'catching-up', 'busy'] satisfies ScanStatus[];

const isRecord = (x: unknown): boolean => x instanceof Uint8Array && x.length >= HEADER_BYTES;
const isNumbers = (x: unknown): boolean => Array.isArray(x) && x.every((n) => typeof n === 'number');
/** Remembered read-modify-write requests: [id, result], [id, result, keys] or [id, result, keys, versions]. */
const isPairs = (x: unknown): boolean =>
  Array.isArray(x) &&
  x.every((d) => Array.isArray(d) && typeof d[0] === 'string' && Array.isArray(d[1]) && (d[2] === undefined || isStrings(d[2])) && (d[3] === undefined || isStrings(d[3])));
const isStrings = (x: unknown): boolean => Array.isArray(x) && x.every((n) => typeof n === 'string');
/**
 * A version as HLC makes them: three safe non-negative integers. Checked here, once for every
 * message that carries one, so no handler meets a fractional, negative or unsafe clock reading
 * (folding one into the clock would stamp every later write with it).
 */
const isVersion = (x: unknown): boolean =>
  typeof x === 'object' && x !== null && ['wallMs', 'logical', 'node'].every((f) => {
    const n = (x as Record<string, unknown>)[f];
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  });

const FIELD_CHECKS: Record<FieldKind, (x: unknown) => boolean> = {
  number: (x) => typeof x === 'number',
  'number-lists?': (x) => x === undefined || (Array.isArray(x) && x.every((l) => isNumbers(l) && (l as number[]).length > 0)),
  string: (x) => typeof x === 'string',
  boolean: (x) => typeof x === 'boolean',
  'bytes?': (x) => x === undefined || x instanceof Uint8Array,
  'scan-status': (x) => SCAN_STATUSES.includes(x),
  'boolean?': (x) => x === undefined || typeof x === 'boolean',
  'number?': (x) => x === undefined || (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0),
  record: isRecord,
  'record?': (x) => x === null || isRecord(x),
  'record-or-absent': (x) => x === undefined || isRecord(x),
  'string?': (x) => x === undefined || typeof x === 'string',
  'version?': (x) => x === undefined || isVersion(x),
  numbers: isNumbers,
  'numbers?': (x) => x === undefined || isNumbers(x),
  strings: isStrings,
  'strings?': (x) => x === undefined || isStrings(x),
  records: (x) => Array.isArray(x) && x.every(isRecord),
  'records-or-null': (x) => Array.isArray(x) && x.every((r) => r === null || isRecord(r)),
  map: (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
  list: (x) => Array.isArray(x),
  'list?': (x) => x === undefined || Array.isArray(x),
  pairs: isPairs,
  'pairs?': (x) => x === undefined || isPairs(x),
  diffs: (x) => Array.isArray(x) && x.every((d) => Array.isArray(d) && typeof d[0] === 'number' && isStrings(d[1]) && isNumbers(d[2])),
};

/** SCHEMA's fields of each message type as [field, kind] pairs, listed once: validate checks every message received. */
const SCHEMA_FIELDS = Object.fromEntries(Object.entries(SCHEMA).map(([t, fields]) => [t, Object.entries(fields)])) as Record<KvMessage['t'], [string, FieldKind][]>;

function validate(message: KvMessage): KvMessage {
  for (const [field, kind] of SCHEMA_FIELDS[message.t]) {
    if (!FIELD_CHECKS[kind]((message as unknown as Record<string, unknown>)[field])) {
      throw new MalformedKvMessageError(`replication message "${message.t}" has a missing or malformed field "${field}" (want ${kind})`);
    }
  }
  return message;
}

// One encoder and decoder for the process: msgpack's encode()/decode() build a fresh one (with
// its buffers and caches) on every call, which cost more than the message itself on the hot path.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/**
 * The messages of every client request (replica writes and reads, and their answers) have a fixed
 * binary layout instead of a msgpack map: no field names, no generic encoder walk, the record
 * copied once. The first byte tells them apart from msgpack, whose maps start at 0x80; the rest
 * of the messages (and a write carrying a hint owner, or a key with a code unit over 255) are
 * msgpack maps. Layouts (big-endian):
 *
 *   w   0x01 id:f64 p:u32 ringLength:u8 ring(latin1) keyLength:u16 key(latin1) record
 *   wa  0x02 id:f64
 *   nb  0x03 id:f64
 *   r   0x04 id:f64 p:u32 ringLength:u8 ring(latin1) key(latin1)
 *       (ring: the ring version `v`; length 0 when absent; a read carrying `n` or `pk` is a msgpack map)
 *   ra  0x05 id:f64 flags:u8 (bit 0 ready, bit 1 has a record, bit 2 evicted, bit 3 floor,
 *       bit 4 the evicted version is inexact, bit 5 forgetting horizon, bit 6 inherited horizon) record?
 *       evicted or floor: wallMs:f64 logical:u32 node:u32 (instead of a record)
 *       horizon: wallMs:f64 logical:u32 node:u32 (after the floor, if any)
 *       with a record and bit 6: vh wallMs:f64 logical:u32 node:u32, then the record
 */
const Tag = { w: 0x01, wa: 0x02, nb: 0x03, r: 0x04, ra: 0x05 } as const;
const RA_READY = 1;
const RA_HAS_RECORD = 2;
const RA_EVICTED = 4;
/**
 * A flush floor instead of a record (`f`): in the 16 bytes an evicted version takes (never both:
 * an evicted version is newer than the floor, which deleted those below it). A reader that predates
 * floors ignores the bit and reads "no record", as it did before.
 */
const RA_FLOOR = 8;
/**
 * With RA_EVICTED: the version is the filter of forgotten keys' watermark ("evicted at or below"),
 * `ei`. A reader that predates the bit reads it as an exact eviction (a miss over any older copy,
 * as before); a replica that predates it never sets it: a mixed cluster answers as before.
 */
const RA_INEXACT = 16;
/**
 * With no record and no evicted version: the partition's forgetting horizon (`h`), in 16 bytes
 * after the floor's, if any. A reader that predates the bit reads the answer as before (nothing
 * held, or the floor) and ignores the bytes after it: a mixed cluster answers as before.
 */
const RA_HORIZON = 32;
/**
 * The replica's inherited forgetting horizon (`vh`). With a record: 16 bytes before it, so a
 * reader that predates the bit would take them for the record's start: sent only to coordinators
 * at VOUCH_PROTOCOL or later (ReplicaHost.decodesVouch). With no record: the bit alone, saying `h` is
 * (at least) inherited; a reader that predates it tests the other bits only and reads `h` as before.
 */
const RA_VOUCH = 64;
/**
 * The first node protocol version (src/gossip/protocol-version.ts) that decodes a record after an
 * inherited horizon (RA_VOUCH): a replica sends it only to coordinators at this version or later.
 */
export const VOUCH_PROTOCOL = 4;
/** An encoded version (wall ms f64, logical u32, node u32). */
const VERSION_BYTES = 16;
/** Store keys are latin1 strings (record.ts) of at most the key limit, far below u16. */
const MAX_BINARY_KEY = 0xffff;
/** Ring versions are hex digests (src/ring/ring.ts), far below u8. */
const MAX_BINARY_RING = 0xff;

export function encodeKvMessage(message: KvMessage): Uint8Array {
  switch (message.t) {
    case 'w':
      if (message.h === undefined && isLatin1(message.k, MAX_BINARY_KEY) && isLatin1(message.v ?? '', MAX_BINARY_RING)) {
        const ring = message.v ?? '';
        const keyAt = 16 + ring.length;
        const out = new Uint8Array(keyAt + message.k.length + message.r.length);
        const view = header(out, Tag.w, message.id);
        view.setUint32(9, message.p);
        writeRing(out, ring);
        view.setUint16(keyAt - 2, message.k.length);
        writeLatin1(out, keyAt, message.k);
        out.set(message.r, keyAt + message.k.length);
        return out;
      }
      break;
    case 'wa': {
      const out = new Uint8Array(message.sv === undefined ? 9 : 9 + VERSION_BYTES);
      const view = header(out, Tag.wa, message.id);
      if (message.sv !== undefined) writeVersion(view, 9, message.sv);
      return out;
    }
    case 'nb': {
      const out = new Uint8Array(9);
      header(out, Tag[message.t], message.id);
      return out;
    }
    case 'r':
      if (message.n === undefined && message.pk === undefined && isLatin1(message.k, Number.MAX_SAFE_INTEGER) && isLatin1(message.v ?? '', MAX_BINARY_RING)) {
        const ring = message.v ?? '';
        const out = new Uint8Array(14 + ring.length + message.k.length);
        header(out, Tag.r, message.id).setUint32(9, message.p);
        writeRing(out, ring);
        writeLatin1(out, 14 + ring.length, message.k);
        return out;
      }
      break;
    case 'ra': {
      const record = message.r;
      const evicted = record === null ? message.e : undefined;
      const floor = record === null && evicted === undefined ? message.f : undefined;
      const horizon = record === null && evicted === undefined ? message.h : undefined;
      const version = evicted ?? floor;
      const vouch = record !== null ? message.vh : horizon !== undefined ? message.vh : undefined;
      const versionBytes = (version !== undefined ? VERSION_BYTES : 0) + (horizon !== undefined ? VERSION_BYTES : 0);
      const recordAt = record !== null && vouch !== undefined ? 10 + VERSION_BYTES : 10;
      const out = new Uint8Array(record !== null ? recordAt + record.length : 10 + versionBytes);
      const view = header(out, Tag.ra, message.id);
      view.setUint8(
        9,
        (message.ready ? RA_READY : 0) |
          (record === null ? 0 : RA_HAS_RECORD) |
          (evicted === undefined ? 0 : RA_EVICTED) |
          (floor === undefined ? 0 : RA_FLOOR) |
          (evicted !== undefined && message.ei === true ? RA_INEXACT : 0) |
          (horizon === undefined ? 0 : RA_HORIZON) |
          (vouch === undefined ? 0 : RA_VOUCH),
      );
      if (record !== null && vouch !== undefined) writeVersion(view, 10, vouch);
      if (record !== null) out.set(record, recordAt);
      if (version !== undefined) writeVersion(view, 10, version);
      if (horizon !== undefined) writeVersion(view, version !== undefined ? 10 + VERSION_BYTES : 10, horizon);
      return out;
    }
    default:
      break;
  }
  return encoder.encode(message);
}

/**
 * Encodes a message once however many members it goes to: the coordinator sends one message
 * object to every owner of a key, and every send after the first reuses the first one's bytes
 * (the transport copies them into what it sends). Only the last message is remembered, which is
 * all a send loop needs. This relies on messages being values, never changed once sent (see
 * ReplicationContext.send).
 */
export class KvMessageEncoder {
  private last: KvMessage | null = null;
  private lastBytes: Uint8Array = new Uint8Array(0);

  encode(message: KvMessage): Uint8Array {
    if (message !== this.last) {
      this.lastBytes = encodeKvMessage(message);
      this.last = message;
    }
    return this.lastBytes;
  }
}

function header(out: Uint8Array, tag: number, id: number): DataView {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint8(0, tag);
  view.setFloat64(1, id);
  return view;
}

/** The ring version at offset 13 of a `w` or `r`: length byte, then latin1. */
function writeRing(out: Uint8Array, ring: string): void {
  out[13] = ring.length;
  writeLatin1(out, 14, ring);
}

/** The ring version written by writeRing (undefined when empty) and the offset after it. */
function readRing(bytes: Uint8Array): { v: string | undefined; end: number } {
  const end = 14 + (bytes[13] ?? 0);
  return { v: end === 14 ? undefined : readLatin1(bytes, 14, end), end };
}

function isLatin1(s: string, maxLength: number): boolean {
  if (s.length > maxLength) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

function writeLatin1(out: Uint8Array, offset: number, s: string): void {
  for (let i = 0; i < s.length; i++) out[offset + i] = s.charCodeAt(i);
}

/** A version in the 16 bytes `ra` gives it: wallMs:f64 logical:u32 node:u32. */
function writeVersion(view: DataView, at: number, version: Version): void {
  view.setFloat64(at, version.wallMs);
  view.setUint32(at + 8, version.logical);
  view.setUint32(at + 12, version.node);
}

function readVersion(view: DataView, at: number): Version {
  return { wallMs: view.getFloat64(at), logical: view.getUint32(at + 8), node: view.getUint32(at + 12) };
}

function readLatin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  // Chunked below any engine's argument limit for fromCharCode.
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

/**
 * Throws unless the binary message `bytes` has `n` bytes at least. A function of its own, not a
 * closure in decodeBinary: under tsx (which the tests and the simulator run on) every named
 * closure costs a defineProperty each time it is created, once per message here.
 */
function need(bytes: Uint8Array, n: number): void {
  if (bytes.length < n) throw new MalformedKvMessageError(`replication message of type ${String(bytes[0])} is truncated (${bytes.length} bytes)`);
}

function decodeBinary(bytes: Uint8Array): KvMessage {
  const tag = bytes[0];
  need(bytes, 9);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getFloat64(1);
  switch (tag) {
    case Tag.w: {
      need(bytes, 16);
      need(bytes, 16 + bytes[13]!);
      const { v, end } = readRing(bytes);
      const keyEnd = end + 2 + view.getUint16(end);
      need(bytes, keyEnd);
      const p = view.getUint32(9);
      const k = readLatin1(bytes, end + 2, keyEnd);
      const r = bytes.subarray(keyEnd);
      // Two literals, not `{ ...message, v }`: on Node 20 a spread followed by a field makes a new
      // hidden class on every call, and every replicated write and read is decoded here.
      return v === undefined ? { t: 'w', id, p, k, r } : { t: 'w', id, p, k, r, v };
    }
    case Tag.wa:
      return bytes.length >= 9 + VERSION_BYTES ? { t: 'wa', id, sv: readVersion(view, 9) } : { t: 'wa', id };
    case Tag.nb:
      return { t: 'nb', id };
    case Tag.r: {
      need(bytes, 14);
      need(bytes, 14 + bytes[13]!);
      const { v, end } = readRing(bytes);
      const p = view.getUint32(9);
      const k = readLatin1(bytes, end, bytes.length);
      return v === undefined ? { t: 'r', id, p, k } : { t: 'r', id, p, k, v };
    }
    case Tag.ra: {
      need(bytes, 10);
      const flags = view.getUint8(9);
      const ready = (flags & RA_READY) !== 0;
      if ((flags & RA_HAS_RECORD) !== 0) {
        if ((flags & RA_VOUCH) === 0) return { t: 'ra', id, ready, r: bytes.subarray(10) };
        need(bytes, 10 + VERSION_BYTES);
        return { t: 'ra', id, ready, r: bytes.subarray(10 + VERSION_BYTES), vh: readVersion(view, 10) };
      }
      if ((flags & RA_EVICTED) !== 0) {
        need(bytes, 10 + VERSION_BYTES);
        return (flags & RA_INEXACT) !== 0 ? { t: 'ra', id, ready, r: null, e: readVersion(view, 10), ei: true } : { t: 'ra', id, ready, r: null, e: readVersion(view, 10) };
      }
      const floored = (flags & RA_FLOOR) !== 0;
      const horizonAt = floored ? 10 + VERSION_BYTES : 10;
      const hasHorizon = (flags & RA_HORIZON) !== 0;
      need(bytes, hasHorizon ? horizonAt + VERSION_BYTES : horizonAt);
      const horizon = hasHorizon ? readVersion(view, horizonAt) : undefined;
      return {
        t: 'ra',
        id,
        ready,
        r: null,
        ...(floored ? { f: readVersion(view, 10) } : {}),
        ...(horizon !== undefined ? { h: horizon } : {}),
        ...(horizon !== undefined && (flags & RA_VOUCH) !== 0 ? { vh: horizon } : {}),
      };
    }
    default:
      throw new MalformedKvMessageError(`unknown replication message tag ${String(tag)}`);
  }
}

export function decodeKvMessage(bytes: Uint8Array): KvMessage {
  if (bytes.length > 0 && bytes[0]! < 0x80) return validate(decodeBinary(bytes));
  let value: unknown;
  try {
    // The scan first: msgpack's decoder sizes an array by the length its header claims, so 5
    // bytes claiming 29 million elements made it allocate 240 MB (found by `npm run fuzz`). The
    // scan checks every claimed value is present before anything is built; each takes a byte.
    scanMsgpack(bytes, { maxDepth: MAX_FRAME_DEPTH, maxElements: bytes.length });
    value = decoder.decode(bytes);
  } catch (cause) {
    if (cause instanceof MsgpackScanError) throw new MalformedKvMessageError(`replication message refused before decoding: ${cause.message}`);
    throw new MalformedKvMessageError(`replication message does not decode as msgpack: ${(cause as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || !Object.hasOwn(SCHEMA, (value as { t?: unknown }).t as string)) {
    throw new MalformedKvMessageError('replication message has no known type field "t"');
  }
  return validate(value as KvMessage);
}
