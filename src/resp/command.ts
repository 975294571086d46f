/**
 * The contract between the RESP connection (which parses commands and writes replies) and the
 * command implementations (which know what each command means). Every command module exports
 * `CommandSpec`s; the command table (commands.ts) gathers them.
 */
import type { WireHotKeys } from '../protocol/index.ts';
import type { KeyspaceService, TopologySnapshot } from '../replication/api.ts';
import type { RespServerState } from './server-state.ts';
import type { ClusterView } from './cluster-view.ts';
import type { AclStore } from '../security/acl.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import type { ConnectionTracking, InvalidationSource } from './client-tracking.ts';
import type { TransactionState } from './transaction-commands.ts';
import type { StoreMemory } from './memory-command.ts';

/**
 * Writes one command's reply in the protocol the connection speaks (RESP2 until `HELLO 3`). Each
 * call writes one element; an aggregate header (`array`, `map`, `set`, `push`) is followed by its
 * elements. RESP3-only types degrade as Redis degrades them under RESP2 (map -> flat array, set ->
 * array, double -> bulk string, boolean -> integer, null -> $-1 or *-1, verbatim -> bulk string).
 */
export interface ReplyWriter {
  /** The protocol of this connection: 2 or 3. */
  readonly protocol: 2 | 3;
  /** `+text` (must not contain CR or LF). */
  simple(text: string): void;
  /** `+OK`. */
  ok(): void;
  /**
   * `-text`: the whole line after the '-', e.g. `ERR wrong number of arguments for 'get' command`.
   * A string is written as UTF-8; bytes as they are (an error quoting a client's argument, which
   * Redis echoes byte for byte). CR and LF become spaces either way.
   */
  error(text: string | Uint8Array): void;
  integer(value: number | bigint): void;
  /** A bulk string; a JS string is written as UTF-8. null: RESP2 `$-1`, RESP3 `_`. */
  bulk(value: Uint8Array | string | null): void;
  /** A null where Redis 2 writes a null array (`*-1`); RESP3 `_`. */
  nullArray(): void;
  array(length: number): void;
  /** `length` key/value pairs follow (2 * length elements). */
  map(length: number): void;
  set(length: number): void;
  double(value: number): void;
  boolean(value: boolean): void;
  /** Verbatim string (RESP3 `=`, format e.g. 'txt'); RESP2 bulk string. */
  verbatim(format: string, text: string): void;
  /** A RESP3 push (`>`); under RESP2 an array (as Redis sends pub/sub messages). */
  push(length: number): void;
}

/** What a command knows about the connection it runs on. */
export interface ConnectionState {
  /** Redis's CLIENT ID: unique per server, increasing. */
  readonly id: number;
  /** CLIENT SETNAME; '' when unset. */
  name: string;
  protocol: 2 | 3;
  /** The peer's address `ip:port`, as CLIENT LIST prints it. */
  readonly address: string;
  /** READONLY was sent (cluster mode: reads may be served by replicas). */
  readonly: boolean;
  /** Set by QUIT: the connection closes once this command's reply is written. */
  closeAfterReply: boolean;
  /** The client has gone (its socket closed): work done only for its replies can stop. Absent from contexts built by tests. */
  readonly closed?: boolean;
  /**
   * The ACL user this connection runs as: null until it authenticates (when the default user
   * needs a password); absent means `default` (contexts built by tests).
   */
  user?: string | null;
  /** The `since` of the user it authenticated as (AclStore.loggedIn); absent for `default` and before AUTH. */
  userSince?: string | undefined;
  /** SUBSCRIBE __redis__:invalidate is in force (pubsub-commands.ts); absent: not subscribed. */
  invalidationChannel?: boolean;
  /** Client-side caching (CLIENT TRACKING); absent from contexts built by tests. */
  readonly tracking?: ConnectionTracking;
  /** Between MULTI and EXEC/DISCARD (transaction-commands.ts); null or absent: not in a transaction. */
  transaction?: TransactionState | null;
  /**
   * CLIENT REPLY: 'on' (the default), 'off' (no reply to anything from this command on, until
   * CLIENT REPLY ON, whose own reply is sent), 'skip' (no reply to this command nor the next).
   * Out-of-band pushes (invalidations, Pub/Sub messages) are sent whatever the mode, as Redis
   * sends them. Absent from contexts built by tests.
   */
  setReplies?(mode: 'on' | 'off' | 'skip'): void;
}

/** One node's RESP server as commands see it. */
export interface RespServerContext {
  /** The node's keyspace: its coordinator (or a memory keyspace in tests). */
  readonly keyspace: KeyspaceService;
  /** Wall time in ms (from the injected environment, so tests and the simulator control it). */
  nowMs(): number;
  /** Wall time in integer µs, within nowMs's millisecond (TIME); absent: nowMs() * 1000. */
  nowUs?(): number;
  /** The ring as clients route by it. */
  topology(): TopologySnapshot;
  /**
   * Asked before a command that has keys runs: an error reply to send instead (`MOVED slot
   * host:port`, `CROSSSLOT ...`), or null to run it on this node. The cluster module decides.
   */
  route(connection: ConnectionState, spec: CommandSpec, args: Uint8Array[]): string | null;
  /** Counters the keyspace commands update (INFO stats: keyspace_hits, keyspace_misses). */
  readonly stats: KeyspaceStats;
  /**
   * The listener's own state (clients, configuration, slow log, counters) for the connection and
   * server commands (CLIENT, CONFIG, INFO, SLOWLOG...); absent from contexts built by tests that
   * run keyspace commands without a listener.
   */
  readonly state?: RespServerState;
  /**
   * The node's cluster (members, ring, slot layout) for the CLUSTER commands and MOVED; absent
   * from a listener without one (tests), which answers CLUSTER as Redis with cluster support off.
   */
  readonly cluster?: ClusterView;
  /** This node's hot keys (SHOAL.HOTKEYS); absent: the command says the node does not track them. */
  readonly hotKeys?: (count: number) => WireHotKeys;
  /**
   * How often this node's store has seen `key` used, as its eviction policy counts it
   * (Store.accessFrequency; OBJECT FREQ), without counting a use; null when this node holds no
   * replica of the key, or its policy counts no frequency. Absent: the node tracks none.
   */
  readonly keyFrequency?: (key: Uint8Array) => number | null;
  /** The node's store against its budget (MEMORY DOCTOR); absent: the command says there is none. */
  readonly storeMemory?: () => StoreMemory;
  /** The node's users (AUTH, ACL, the permission check); absent: everyone is `default`, no checks. */
  readonly acl?: AclStore;
  /** Failed AUTH counting and per-address rate limiting; absent: none. */
  readonly authGuard?: AuthGuard;
  /** The node's invalidation streams and the partitions it holds (CLIENT TRACKING); absent: tracking is refused. */
  readonly invalidations?: { source: InvalidationSource; holds(partition: number): boolean };
}

/** What INFO's stats section reports about reads; keyspace commands count each key they look up. */
export interface KeyspaceStats {
  /** Lookups that found the key (GET hit, EXISTS of a live key, ...). */
  keyspaceHits: number;
  /** Lookups that did not. */
  keyspaceMisses: number;
}

export interface CommandContext {
  readonly server: RespServerContext;
  readonly connection: ConnectionState;
}

export interface CommandSpec {
  /** Lower-case name, as COMMAND reports it. */
  readonly name: string;
  /** Redis's arity: N means exactly N arguments including the name, -N at least N. */
  readonly arity: number;
  /** Redis's command flags (COMMAND INFO): 'write', 'readonly', 'fast', 'denyoom', 'loading', ... */
  readonly flags: readonly string[];
  /** Key positions as COMMAND INFO gives them: first key, last key (-1 = last argument), step; 0,0,0 for none. */
  readonly keys: readonly [first: number, last: number, step: number];
  /** ACL categories without the '@' (string, keyspace, read, write, fast, slow, admin, dangerous, connection...). */
  readonly categories: readonly string[];
  /**
   * Runs the command. `args[0]` is the command name as the client sent it; the arity was already
   * checked. The implementation writes exactly one reply (one element, or one aggregate with its
   * elements) to `reply` and then calls `done`, possibly later (after the keyspace answers). Replies
   * reach the client in the order the commands arrived whatever order they finish in.
   */
  run(ctx: CommandContext, args: Uint8Array[], reply: ReplyWriter, done: () => void): void;
  /**
   * A container command's subcommands (CLIENT SETNAME, CONFIG GET...), as Redis 7 has them: the
   * table looks the second argument up here (unknown: `ERR unknown subcommand 'x'. Try CLIENT
   * HELP.`) and checks the subcommand's arity (named `client|setname` in the error). The parent's
   * `run` is then not called.
   */
  readonly subcommands?: readonly CommandSpec[];
  /** What COMMAND DOCS says of it (redis-cli builds its hints from this); absent: a minimal entry. */
  readonly docs?: CommandDocs;
}

/**
 * Redis 7's command documentation (COMMAND DOCS), field for field as Redis 7.0 answers it: copied
 * from redis-server 7.0.15 for the commands Shoal answers as Redis does (docs/REDIS.md says where
 * it answers differently).
 */
export interface CommandDocs {
  readonly summary: string;
  readonly since: string;
  /** string, generic, connection, server, cluster... */
  readonly group: string;
  readonly complexity?: string;
  /** 'deprecated', 'syscmd'. */
  readonly docFlags?: readonly string[];
  readonly deprecatedSince?: string;
  readonly replacedBy?: string;
  /** [version, what changed] */
  readonly history?: readonly (readonly [string, string])[];
  readonly arguments?: readonly ArgumentDoc[];
}

/** One argument in COMMAND DOCS: type is key, string, integer, double, pattern, unix-time, pure-token, oneof or block. */
export interface ArgumentDoc {
  readonly name: string;
  readonly type: string;
  /** Which of the command's key specs (COMMAND INFO) a key argument is. */
  readonly keySpecIndex?: number;
  readonly token?: string;
  readonly since?: string;
  readonly flags?: readonly ('optional' | 'multiple' | 'multiple_token')[];
  readonly deprecatedSince?: string;
  readonly arguments?: readonly ArgumentDoc[];
}

/**
 * `spec` with its COMMAND DOCS, and its subcommands' (by subcommand name): every command module
 * documents its commands where it lists them, so the command table is the one place they are
 * kept. A subcommand left without docs is a mistake, refused when the module loads.
 */
export function documented(spec: CommandSpec, docs: CommandDocs, subcommands: Readonly<Record<string, CommandDocs>> = {}): CommandSpec {
  const subs = spec.subcommands?.map((sub) => {
    const subDocs = subcommands[sub.name] ?? sub.docs;
    if (subDocs === undefined) throw new Error(`${spec.name}|${sub.name} has no COMMAND DOCS`);
    return { ...sub, docs: subDocs };
  });
  for (const name of Object.keys(subcommands)) {
    if (!spec.subcommands?.some((sub) => sub.name === name)) throw new Error(`COMMAND DOCS for ${spec.name}|${name}, which ${spec.name} does not have`);
  }
  return { ...spec, docs, ...(subs === undefined ? {} : { subcommands: subs }) };
}
