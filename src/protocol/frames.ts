/**
 * The frames of the client wire, as typed values. `codec.ts` turns them into msgpack and back;
 * docs/PROTOCOL.md shows their exact wire layout.
 *
 * One WebSocket message carries exactly one frame. Requests and replies travel in batches: a
 * `requests` frame holds many requests, and a `replies` frame many replies, matched by request id
 * (replies may come back in any order and in several frames).
 */
import type { AccessAnalytics } from './analytics.ts';
import type { WireNodeHealth } from './health-status.ts';
import type { ErrorCode } from './error-codes.ts';
import type { WireLimits } from './limits.ts';

/** Opaque credentials carried by hello. Authentication arrives later; the field exists now. */

/** How many replicas must answer: one, a majority of N, or all N. */
export type Consistency = 'one' | 'quorum' | 'all';
export type Credentials = Readonly<Record<string, string>>;

/** Client -> server, first frame on every connection. */
export interface HelloFrame {
  type: 'hello';
  /** The range of protocol versions the client speaks; the server picks the highest common one. */
  minVersion: number;
  maxVersion: number;
  /** Free-form client name and version, for logs (e.g. `shoal-js/0.1.0`). */
  client: string;
  credentials: Credentials | null;
}

export interface GetRequest {
  op: 'get';
  id: number;
  key: Uint8Array;
  consistency: Consistency | null;
  /**
   * When the client gives up on this request: absolute wall-clock ms (epoch). A node that takes the
   * request up at or after it (by its own clock) answers `timeout` and applies nothing, so a request
   * that waited in a frozen node's socket cannot be applied after the client reported it failed.
   * Absent: no deadline (older clients, calls without a timeout). See docs/PROTOCOL.md.
   */
  deadlineMs?: number;
}

export interface SetRequest {
  op: 'set';
  id: number;
  key: Uint8Array;
  value: Uint8Array;
  /** Time to live in ms; 0 means no expiry. */
  ttlMs: number;
  consistency: Consistency | null;
  /** As in GetRequest. */
  deadlineMs?: number;
}

export interface DeleteRequest {
  op: 'delete';
  id: number;
  key: Uint8Array;
  consistency: Consistency | null;
  /** As in GetRequest. */
  deadlineMs?: number;
}

/** Asks for the ring as clients need it (to route each key to a replica). */
export interface TopologyRequest {
  op: 'topology';
  id: number;
}

/**
 * A request whose id could be read but whose body could not be served: an op this version does
 * not know, bad arguments, or a key/value over the limits. The decoder produces it so the server
 * can answer that one request with an error and keep serving the rest of the batch.
 */
export interface RejectedRequest {
  op: 'rejected';
  id: number;
  code: ErrorCode;
  message: string;
}

/**
 * The expiry a read-modify-write leaves on its key, as the wire carries it. The same shapes as
 * RmwExpiry (src/replication/rmw.ts), plus `in`: a time to live relative to the moment the node
 * receives the request, which the node turns into `at` by its own clock (a client's clock is not
 * to be trusted with absolute times).
 */
export type WireRmwExpiry = { kind: 'keep' } | { kind: 'none' } | { kind: 'at'; atMs: number } | { kind: 'in'; ttlMs: number };

/**
 * A read-modify-write operation on the wire: the operations of src/replication/rmw.ts (RmwOp),
 * field for field, except that expiries may be relative (`in`). Protocol code may not import
 * replication, so the shapes are repeated here; src/server/session.ts passes them to
 * RmwService.rmw, which makes the compiler check that they still match.
 */
export type WireRmwOp =
  | { op: 'incrby'; by: bigint }
  | { op: 'incrbyfloat'; by: string }
  | { op: 'append'; value: Uint8Array }
  | { op: 'setrange'; offset: number; value: Uint8Array }
  | { op: 'set'; value: Uint8Array; expiry: WireRmwExpiry; condition: 'always' | 'nx' | 'xx'; get: boolean }
  | { op: 'getdel' }
  | { op: 'getex'; expiry: WireRmwExpiry | null }
  | { op: 'expire'; atMs: number; condition: 'always' | 'nx' | 'xx' | 'gt' | 'lt' }
  | { op: 'persist' }
  | { op: 'del' }
  | { op: 'rename'; nx: boolean }
  | { op: 'msetnx'; values: Uint8Array[] }
  | { op: 'copy'; replace: boolean };

/**
 * Runs a read-modify-write operation on the primary of its keys (all in one partition). With a
 * `requestId`, a repeat of the request (a client's retry) is answered with the first result
 * instead of being applied again.
 */
export interface RmwRequest {
  op: 'rmw';
  id: number;
  /** At least one; every key in one partition (a node answers `bad-request` otherwise). */
  keys: Uint8Array[];
  rmw: WireRmwOp;
  /** The client's idempotency key for this logical operation, or null (each copy is applied). */
  requestId: string | null;
  consistency: Consistency | null;
  /** As in GetRequest; a primary that starts the operation at or after it answers `timeout`. */
  deadlineMs?: number;
}

export type Request = GetRequest | SetRequest | DeleteRequest | TopologyRequest | RmwRequest;

/** Asks the node for its own view of the cluster (what `shoal status` shows). */
export interface StatusRequest {
  op: 'status';
  id: number;
}

/**
 * Operator requests: answered by the node that receives them, about itself, never routed by key.
 * Kept apart from `Request` so the SDK's data path does not have to know about them.
 */
export type AdminRequest = StatusRequest | HotKeysRequest | InvalidationsRequest | DrainRequest;

/**
 * Drains the receiving node (it hands every partition off and stays a member that coordinates) or
 * undrains it (it takes its share back): `shoal drain NODE`, `shoal undrain NODE`. Answered at once
 * with the drain's progress; `status` reports it from then on.
 */
export interface DrainRequest {
  op: 'drain';
  id: number;
  action: 'drain' | 'undrain';
}

/** A node's drain (src/node/drain.ts): every field a uint but `state`. */
export interface DrainStatus {
  /** 'serving', 'draining' or 'drained'; a string so a newer node's states still decode. */
  state: string;
  /** Partitions the node owned or held when the drain began, and those it still owns or holds. */
  partitionsAtStart: number;
  partitionsLeft: number;
  /** Keys and bytes handed off since the drain began. */
  keysHandedOff: number;
  bytesHandedOff: number;
  /** Since the drain began, or how long it took once drained. */
  elapsedMs: number;
}

export interface DrainResult {
  kind: 'drain';
  drain: DrainStatus;
}

/**
 * Subscribes the connection to the invalidation streams of the partitions whose bits are set in
 * `partitions` (bit p of byte p >> 3, low bit first), restricted to keys starting with one of
 * `prefixes` when any are given; it replaces the connection's previous subscription (no bit set:
 * unsubscribed). Answered with an `ok` write result; `invalidations` pushes follow.
 */
export interface InvalidationsRequest {
  op: 'invalidations';
  id: number;
  partitions: Uint8Array;
  prefixes: string[];
}

/**
 * Asks the node for its hottest keys (what `shoal hotkeys` merges from every member). With
 * `subscribe`, the connection also receives a `hotkey` push for every hot-key alert the node raises
 * or clears from then on (the SDK's `client.on('hotkey')`).
 */
export interface HotKeysRequest {
  op: 'hotkeys';
  id: number;
  /** How many keys at most (the node caps it at its tracker's capacity). */
  count: number;
  subscribe: boolean;
}

/** One hot-key alert (src/node/hot-key-alerts.ts), as pushed and reported. */
export interface WireHotKeyAlert {
  /** The key (store keys are bytes; shown as UTF-8). */
  key: string;
  /** The node whose replica saw the traffic. */
  node: string;
  /** Estimated ops/s on that node when the alert fired, or (cleared) when it cleared. */
  rate: number;
  /** The threshold in ops/s (--hot-key-alert-rate). */
  threshold: number;
  /** Wall time (ms since the epoch) the alert fired. */
  sinceMs: number;
  /** Wall time of this event: the firing, or the clearing. */
  atMs: number;
  cleared: boolean;
}

/** One node's hottest keys: rate in ops/s on this node over the last second (estimated). */
export interface WireHotKeys {
  node: string;
  atMs: number;
  /** The alert threshold (--hot-key-alert-rate), 0 when alerts are off. */
  alertRate: number;
  keys: { key: string; rate: number; count: number; error: number }[];
  alerts: WireHotKeyAlert[];
}

export interface HotKeysResult {
  kind: 'hotkeys';
  hotkeys: WireHotKeys;
}

/** Client -> server: a batch of requests. */
export interface RequestsFrame {
  type: 'requests';
  requests: (Request | AdminRequest | RejectedRequest)[];
}

export type ClientFrame = HelloFrame | RequestsFrame;

/** The ring as the wire carries it: owners as indexes into `nodes`, names resolved on decode. */
export interface WireTopology {
  version: string;
  partitions: number;
  replicas: number;
  nodes: { name: string; clientAddress: string; zone: string }[];
  /** owners[p] = names of partition p's preference list, primary first. */
  owners: string[][];
}

/**
 * Why a read found no value, from what the replicas that answered know:
 * - `absent`: none of them knows the key (never written, or its tombstone or expired record was
 *   purged after the grace period, or a replica's memory of evicting it was forgotten);
 * - `deleted`: the newest record is a delete (a tombstone);
 * - `expired`: the newest record is a value whose TTL has passed;
 * - `evicted`: a replica dropped the newest version for lack of memory (src/replication/eviction-shadow.ts).
 */
export type MissReason = 'absent' | 'deleted' | 'expired' | 'evicted';

export interface GetResult {
  kind: 'value';
  value: Uint8Array | null;
  expiresAtMs: number | null;
  acks: number;
  /** For a miss, why (absent when the server did not say: an older node). */
  miss?: MissReason;
}

export interface WriteResult {
  kind: 'write';
  acks: number;
}

export interface TopologyResult {
  kind: 'topology';
  topology: WireTopology;
}

/** One member as the answering node sees it. */
export interface MemberStatus {
  name: string;
  /** Node-to-node address (`host:peer-port`). */
  address: string;
  /** Client endpoint (`host:port`), or '' if the member did not announce one. */
  clientAddress: string;
  zone: string;
  /**
   * 'alive' | 'suspect' | 'dead' | 'left', or 'refused' for a peer the answering node keeps out
   * (another partition count or cluster name; see `reason`); a string so a newer node's states still decode.
   */
  state: string;
  /** For a refused member: why. */
  reason?: string;
  incarnation: number;
  /** Partitions whose preference list holds this member, in the answering node's ring. */
  partitions: number;
  /** Partitions this member is first in the preference list of. */
  primaries: number;
  /** Drained or draining (it holds no partitions, or is handing them off); absent from older nodes. */
  draining?: boolean;
  /**
   * It announces a ring other than the answering node's: one of them has not caught up with a ring
   * change yet (for a dead member: the ring it died on). Absent when the same, or from older nodes.
   */
  onAnotherRing?: boolean;
  /** Its health as the answering node's view of the peer verdicts adds up (src/node/peer-verdicts.ts); absent from older nodes. */
  health?: {
    degraded: boolean;
    score: number;
    /** Its own published probability of failing within its model's horizon (src/node/failure-watch.ts); absent when it publishes none. */
    failureProbability?: number;
    /** Its own predicted seconds to failure; absent when it publishes none. */
    secondsToFailure?: number;
  };
}

/** The answering node's disk tier (docs/STORE.md, "Disk tier"), when it has one. */
export interface DiskStatus {
  entries: number;
  puts: number;
  hits: number;
  deviceReads: number;
  corrupt: number;
  deviceBytesWritten: number;
  appBytes: number;
  /** Device writes that failed (their entries left the tier; the node logs `disk-write-failed`). Absent from nodes before it was added. */
  writeErrors?: number;
}

/** A node's report about itself and its view of the cluster. */
/**
 * The close reason (with code 1001, going away) of a node that stops after answering every request
 * it accepted: a request still unanswered on that connection was never applied, so the client may
 * resend it elsewhere, a write included. Any other close leaves such a write's fate unknown.
 */
export const DRAINED_CLOSE_REASON = 'server shutting down; every request was answered';

/**
 * The close reason (with code 1000) of a connection closed for sending nothing for the node's
 * `--idle-timeout`: it had no request in flight, and the node reads nothing after deciding to
 * close, so a request the client sent meanwhile was never applied and may be resent, a write
 * included. (Builds before this reason closed with `idle timeout` and made no such promise.)
 */
export const IDLE_CLOSE_REASON = 'idle timeout; no request was in flight';

export interface NodeStatus {
  node: string;
  cluster: string;
  zone: string;
  /** Software version of the node (the package version). */
  version: string;
  uptimeMs: number;
  /** False until the node has heard from its cluster and a peer confirmed its ring: it serves from then on. */
  joined: boolean;
  /** Until joined: what the node waits for, in words (unreachable or refusing seeds, say); null once joined. */
  joining: { waitingFor: string } | null;
  ringVersion: string;
  partitions: number;
  replicas: number;
  readQuorum: number;
  writeQuorum: number;
  /** Partition replicas this node holds right now, and those still catching up or waiting to be handed off. */
  held: number;
  catchingUp: number;
  toHandOff: number;
  /** Open client connections on this node. */
  clientConnections: number;
  /** Every member this node knows, itself included, dead and left ones while they are remembered. */
  members: MemberStatus[];
  /** Quorums in effect and reads that missed; absent from nodes older than this field. */
  requests?: RequestStatus;
  /** The current catch-up, or the last one; absent from nodes that predate it. */
  catchUp?: CatchUpStatus;
  /** Access analytics of this node's store (`shoal stats`); absent from older nodes or with analytics off. */
  analytics?: AccessAnalytics;
  /** The node's disk tier; absent without one (or from older nodes). */
  disk?: DiskStatus;
  /** The node's drain (`shoal drain`); absent while it serves (or from older nodes). */
  drain?: DrainStatus;
  /** Its peers' health as its coordinator sees them, every member's, its own and its failure prediction (docs/OPERATIONS.md, "Node health"); absent from older nodes. */
  health?: WireNodeHealth;
  /** Hints this node holds for owners that missed writes, to deliver when they answer again; absent from older nodes. */
  hints?: HintsStatus;
  /** The node's store against its memory budget; absent from older nodes. */
  memory?: MemoryStatus;
}

/** What the node's store holds against its budget, and what the budget has cost (docs/STORE.md). */
export interface MemoryStatus {
  /** Accounted bytes of the entries held, the figure kept under --max-memory. */
  bytes: number;
  /** The memory budget in bytes; 0 for a store that counts entries instead. */
  maxBytes: number;
  entries: number;
  /** The eviction policy (--eviction-policy, or CONFIG SET maxmemory-policy since). */
  policy: string;
  /** Entries evicted since start to stay under the budget. */
  evicted: number;
}

/** The hints a node holds (its hinted handoff's backlog). */
export interface HintsStatus {
  held: number;
  heldBytes: number;
}

/** What `shoal status` says about the requests this node coordinates. */
export interface RequestStatus {
  /** N as configured; `replicas` above is what the ring holds (fewer while there are fewer members). */
  configuredReplicas: number;
  /**
   * The replicas a read and a write that name no consistency wait for now: R and W taken over the
   * replicas a key actually has. With one member and N=3, R=2 and W=2 are 1.
   */
  effectiveReadQuorum: number;
  effectiveWriteQuorum: number;
  /** Reads coordinated here that found no value, by reason (see MissReason). */
  misses: MissCounts;
}

export interface MissCounts {
  absent: number;
  deleted: number;
  expired: number;
  evicted: number;
}

/** A node's current catch-up (its replicas' reads do not count until it ends), or its last one. */
export interface CatchUpStatus {
  /** Owned partitions still waiting for a source, and the most that waited at once in this catch-up. */
  partitionsLeft: number;
  partitions: number;
  /** Records received for partitions catching up, and their bytes. */
  keysReceived: number;
  bytesReceived: number;
  /** Keys whose newest version a source had evicted: known here as evicted, the values are gone. */
  keysEvictedAtSource: number;
  /** Since the catch-up began, or how long it took. */
  elapsedMs: number;
}

export interface StatusResult {
  kind: 'status';
  status: NodeStatus;
}

/** Why a read-modify-write wrote nothing: RmwErrorCode (src/replication/rmw.ts). */
export type WireRmwErrorCode = 'not-integer' | 'overflow' | 'not-float' | 'nan-or-infinity' | 'no-such-key' | 'too-large';

/**
 * What a read-modify-write returned: RmwResult (src/replication/rmw.ts). An error code a newer
 * node may add reads as `unknown`, with its number.
 */
export type WireRmwResult =
  | { kind: 'ok' }
  | { kind: 'integer'; value: bigint }
  | { kind: 'bulk'; value: Uint8Array | null }
  | { kind: 'error'; code: WireRmwErrorCode }
  | { kind: 'error'; code: 'unknown'; number: number };

export interface RmwReplyResult {
  kind: 'rmw';
  result: WireRmwResult;
}

export type ReplyResult = GetResult | WriteResult | TopologyResult | StatusResult | RmwReplyResult | HotKeysResult | DrainResult;

export interface ReplyError {
  code: ErrorCode;
  message: string;
  /** For `not-owner`: the ring version the server routed by, so the client knows to refresh. */
  topologyVersion: string | null;
}

export type Reply = { id: number; ok: true; result: ReplyResult } | { id: number; ok: false; error: ReplyError };

/** Server -> client, answer to hello. */
export interface WelcomeFrame {
  type: 'welcome';
  /** The negotiated protocol version. */
  version: number;
  /** The name of the node serving this connection. */
  node: string;
  /** The ring version the node holds now; the client asks for `topology` when it differs from its own. */
  topologyVersion: string;
  limits: WireLimits;
}

export interface RepliesFrame {
  type: 'replies';
  replies: Reply[];
}

/**
 * A write's version as an invalidation carries it: the HLC version (src/replication/hlc.ts),
 * ordered by (wallMs, logical, node). Protocol code may not import replication, so the shape is
 * repeated here.
 */
export interface InvalidationVersion {
  wallMs: number;
  logical: number;
  node: number;
}

/**
 * One partition's share of an invalidation batch (docs/CLIENT.md, "Near cache"). Every change a
 * node applies to its replica of `partition` takes the next `seq` of that partition's stream; the
 * entry covers the `count` seqs ending at `seq` (0: a heartbeat, just the latest seq). `keys` are
 * the changed keys among them that match the subscription's prefixes, with the versions written.
 * `epoch` changes whenever the partition's owner set changes: seqs of different epochs (or of
 * different nodes) are not comparable.
 */
export interface PartitionInvalidations {
  partition: number;
  epoch: number;
  seq: number;
  count: number;
  keys: { key: string; version: InvalidationVersion }[];
}

/**
 * What one subscribed connection receives: per turn, the changes of the partitions it subscribed
 * to (`heartbeat` false), and at least once a second the latest seq of every subscribed partition
 * the node holds (`heartbeat` true: the list is complete, so a partition missing from it is no
 * longer served by this node).
 */
export interface InvalidationBatch {
  heartbeat: boolean;
  partitions: PartitionInvalidations[];
}

/** Unsolicited server -> client news. */
export type Push =
  | { kind: 'ring-changed'; topologyVersion: string }
  /** A hot-key alert fired or cleared (only on connections that subscribed with a `hotkeys` request). */
  | { kind: 'hotkey'; alert: WireHotKeyAlert }
  /** Invalidations and heartbeats (only on connections that sent an `invalidations` request). */
  | { kind: 'invalidations'; batch: InvalidationBatch }
  /** A push kind this version does not know (a newer server); clients ignore it. */
  | { kind: 'unknown'; code: number };

export interface PushFrame {
  type: 'push';
  push: Push;
}

/** A connection-level error; the server closes the connection right after sending it. */
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
}

export type ServerFrame = WelcomeFrame | RepliesFrame | PushFrame | ErrorFrame;
