/**
 * Redis client-side caching over Shoal's invalidation streams (src/replication/invalidation.ts;
 * docs/REDIS.md, "Client-side caching"): `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...]
 * [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`, `CLIENT CACHING YES|NO`, `CLIENT TRACKINGINFO`,
 * `CLIENT GETREDIR`, and RESP3 `invalidate` pushes.
 *
 * What Shoal remembers per connection is a partition bitset, never the keys read: in the default
 * mode a read marks its key's partition, and every change this node applies to a marked partition
 * is sent (a superset of Redis's per-key table, which is capped at a million keys). BCAST marks
 * every partition and filters by PREFIX. A gap (changes cut for room), an epoch change (the
 * partition's owners changed) or a partition this node stops holding is sent as `invalidate` with a
 * null key: flush everything, as Redis does after FLUSHALL. A value that expires is a change too
 * (the subscription asks for expiries: src/replication/expiry-watch.ts), as in Redis, whose
 * clients do not know the TTL of what they cache. A key this node holds no replica of
 * can never be invalidated here, so its read is answered with an immediate invalidation of it (the
 * client does not keep it). REDIRECT sends them to another connection of this node instead: as an
 * `invalidate` push if it speaks RESP3, as a Pub/Sub message on `__redis__:invalidate` if it speaks
 * RESP2 and subscribed to that channel (pubsub-commands.ts), else nowhere, as Redis does. Once
 * that connection is gone the redirect is broken: a RESP3 tracking client is told so with a
 * `tracking-redir-broken` push, a RESP2 one only through TRACKINGINFO's `broken_redirect` flag.
 */
import type { InvalidationBatch } from '../protocol/frames.ts';
import type { InvalidationSubscription, SubscribeOptions } from '../replication/invalidation.ts';
import { partitionOf } from '../ring/partition.ts';
import type { CommandSpec, ReplyWriter } from './command.ts';
import { quotingError } from './args.ts';

/** The node's streams, as the RESP server is given them (the node's InvalidationHub). */
export interface InvalidationSource {
  subscribe(deliver: (batch: InvalidationBatch) => void, options?: SubscribeOptions): InvalidationSubscription;
}

export interface TrackingOptions {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
  /** CLIENT TRACKING's REDIRECT: the client id invalidations go to; 0: this connection. */
  redirect: number;
}

/** A connection invalidations can be written to: this one, or the one REDIRECT names. */
export interface InvalidationTarget {
  readonly protocol: 2 | 3;
  /** SUBSCRIBE __redis__:invalidate is in force (how a RESP2 connection takes redirected invalidations). */
  readonly invalidationChannel: boolean;
  /** Writes an out-of-band reply (a push or Pub/Sub message) on the connection, between replies. */
  pushOutOfBand(write: (reply: ReplyWriter) => void): void;
}

/** The channel Redis sends redirected invalidations on to RESP2 connections. */
export const INVALIDATION_CHANNEL = '__redis__:invalidate';

/** Keys this connection wrote whose invalidation NOLOOP should swallow, at most this many. */
const MAX_NOLOOP_KEYS = 1024;

export class ConnectionTracking {
  private options: TrackingOptions | null = null;
  private subscription: InvalidationSubscription | null = null;
  private bits: Uint8Array = new Uint8Array(0);
  /** CLIENT CACHING YES (OPTIN) or NO (OPTOUT): applies to the next command only. */
  private caching: boolean | null = null;
  /** Partitions named by this node's last heartbeat, with their epochs, to notice changes. */
  private readonly epochs = new Map<number, number>();
  private readonly ownWrites = new Map<string, number>();
  /** The REDIRECT connection was gone when an invalidation was due (until tracking is enabled again). */
  private brokenRedirect = false;

  constructor(
    private readonly source: InvalidationSource | undefined,
    private readonly partitions: () => number,
    private readonly held: (partition: number) => boolean,
    private readonly self: InvalidationTarget,
    /** The connection of this listener with that client id, if it is still open. */
    private readonly client: (id: number) => InvalidationTarget | undefined,
    /**
     * Which keys the connection's user may name now (security/acl.ts keyFilter): null for every
     * key. The default mode's invalidations are filtered by it (see deliver).
     */
    private readonly visible: () => ((key: string) => boolean) | null = () => null,
  ) {}

  get enabled(): boolean {
    return this.options !== null;
  }

  get settings(): Readonly<TrackingOptions> | null {
    return this.options;
  }

  get redirectBroken(): boolean {
    return this.brokenRedirect;
  }

  /**
   * CLIENT TRACKING ON with these options; an error text (bytes when it quotes a prefix), or null
   * when on. The checks and their order are Redis 7.0's (networking.c, clientCommand). Turning it
   * on again keeps what was tracked (the partitions read; in BCAST the prefixes, to which the new
   * ones are added), as Redis keeps its tracking table; switching BCAST, OPTIN or OPTOUT needs
   * tracking off first.
   */
  enable(options: TrackingOptions): string | Uint8Array | null {
    if (this.source === undefined) return 'ERR this node does not stream invalidations';
    const current = this.options;
    if (options.prefixes.length > 0 && !options.bcast) return 'ERR PREFIX option requires BCAST mode to be enabled';
    if (current !== null && current.bcast !== options.bcast) {
      return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
    }
    if ((options.optin || options.optout) && options.bcast) return 'ERR OPTIN and OPTOUT are not compatible with BCAST';
    if (options.optin && options.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
    if (current !== null && ((options.optin && current.optout) || (options.optout && current.optin))) {
      return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
    }
    let prefixes: string[] = [];
    if (options.bcast) {
      const existing = current?.prefixes ?? [];
      const collision = prefixCollision(existing, options.prefixes);
      if (collision !== null) return collision;
      // Redis tracks BCAST without PREFIX as the empty prefix (every key), and lists prefixes in byte order.
      prefixes = [...new Set([...existing, ...(options.prefixes.length === 0 ? [''] : options.prefixes)])].sort();
    }
    if (current === null) {
      const count = this.partitions();
      this.bits = new Uint8Array(Math.ceil(count / 8));
      if (options.bcast) this.bits.fill(0xff);
      this.caching = null;
    }
    this.options = { ...options, prefixes };
    this.brokenRedirect = false;
    // A Redis client does not know a cached key's TTL: its expiry must come as an invalidation.
    this.subscription ??= this.source.subscribe((batch) => this.deliver(batch), { expiries: true });
    this.subscription.update(this.bits, prefixes);
    return null;
  }

  disable(): void {
    this.subscription?.close();
    this.subscription = null;
    this.options = null;
    this.caching = null;
    this.brokenRedirect = false;
    this.epochs.clear();
    this.ownWrites.clear();
  }

  /** CLIENT CACHING YES|NO; an error text, or null. */
  setCaching(yes: boolean): string | null {
    const o = this.options;
    // Redis 7.0's texts: this one only while tracking is off; with tracking on, the mode's own.
    if (o === null) return 'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled';
    if (yes && !o.optin) return 'ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.';
    if (!yes && !o.optout) return 'ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.';
    this.caching = yes;
    return null;
  }

  /**
   * A command ran on this connection with these keys: a read marks their partitions (default
   * mode, as OPTIN/OPTOUT allow), a write is remembered for NOLOOP. `command` is its lower-case name.
   */
  noteCommand(command: string, keys: readonly string[], write: boolean): void {
    const o = this.options;
    if (o === null) return;
    // CLIENT CACHING itself does not use up the flag it sets.
    if (command === 'client' || command === 'caching') return;
    const caching = this.caching;
    this.caching = null;
    if (write) {
      if (!o.noloop) return;
      for (const key of keys) {
        if (this.ownWrites.size >= MAX_NOLOOP_KEYS) break;
        this.ownWrites.set(key, (this.ownWrites.get(key) ?? 0) + 1);
      }
      return;
    }
    if (o.bcast || (o.optin && caching !== true) || (o.optout && caching === false)) return;
    const count = this.partitions();
    let changed = false;
    const unheld: string[] = [];
    for (const key of keys) {
      const p = partitionOf(Uint8Array.from(key, (c) => c.charCodeAt(0)), count);
      if (!this.held(p)) unheld.push(key);
      else if ((this.bits[p >> 3]! & (1 << (p & 7))) === 0) {
        this.bits[p >> 3]! |= 1 << (p & 7);
        changed = true;
      }
    }
    if (changed) this.subscription?.update(this.bits, []);
    if (unheld.length > 0) this.send(unheld);
  }

  private deliver(batch: InvalidationBatch): void {
    let flushAll = false;
    const keys: string[] = [];
    for (const entry of batch.partitions) {
      const epoch = this.epochs.get(entry.partition);
      if (epoch !== undefined && epoch !== entry.epoch) flushAll = true;
      this.epochs.set(entry.partition, entry.epoch);
      // A heartbeat or an entry with no count moved the seq without saying which keys: changes were cut.
      if (!batch.heartbeat && entry.count === 0 && entry.keys.length === 0 && epoch === entry.epoch) flushAll = true;
      for (const { key } of entry.keys) {
        const own = this.ownWrites.get(key);
        if (own !== undefined) {
          if (own <= 1) this.ownWrites.delete(key);
          else this.ownWrites.set(key, own - 1);
          continue;
        }
        keys.push(key);
      }
    }
    if (batch.heartbeat) {
      const named = new Set(batch.partitions.map((e) => e.partition));
      for (const p of [...this.epochs.keys()]) {
        if (!named.has(p)) {
          this.epochs.delete(p);
          flushAll = true;
        }
      }
    }
    if (flushAll) this.send(null);
    else if (keys.length > 0) {
      const sent = this.bcastOrVisible(keys);
      if (sent.length > 0) this.send(sent);
    }
  }

  /**
   * The default mode remembers partitions, not keys, so a batch names every key changed in a
   * partition the connection read from: keys its user may not access among them. Redis 7.0 only
   * sends keys the connection read (which its user could), so those are dropped here: a key name
   * is data an ACL can deny (docs/REDIS.md, "Client-side caching"). BCAST is left as Redis 7.0
   * sends it, every key under the prefixes whatever the user's patterns (Redis filters BCAST by
   * ACL only from redis/redis#15371, after 7.0). Keys the user may not access now but could
   * when it read them (its patterns narrowed since) are dropped as well: its client keeps a value
   * it may no longer read again, which is all it could do with it.
   */
  private bcastOrVisible(keys: string[]): string[] {
    if (this.options?.bcast === true) return keys;
    const visible = this.visible();
    return visible === null ? keys : keys.filter(visible);
  }

  /** Invalidates these keys (null: everything) where Redis would send it (tracking.c, sendTrackingMessage). */
  private send(keys: readonly string[] | null): void {
    const redirect = this.options?.redirect ?? 0;
    let target = this.self;
    if (redirect !== 0) {
      const client = this.client(redirect);
      if (client === undefined) {
        this.brokenRedirect = true;
        if (this.self.protocol === 3) {
          this.self.pushOutOfBand((reply) => {
            reply.push(2);
            reply.bulk('tracking-redir-broken');
            reply.integer(redirect);
          });
        }
        return;
      }
      target = client;
    }
    const writeKeys = (reply: ReplyWriter): void => {
      if (keys === null) reply.nullArray();
      else {
        reply.array(keys.length);
        for (const key of keys) reply.bulk(Buffer.from(key, 'latin1'));
      }
    };
    if (target.protocol === 3) {
      target.pushOutOfBand((reply) => {
        reply.push(2);
        reply.bulk('invalidate');
        writeKeys(reply);
      });
    } else if (redirect !== 0 && target.invalidationChannel) {
      target.pushOutOfBand((reply) => {
        reply.array(3);
        reply.bulk('message');
        reply.bulk(INVALIDATION_CHANNEL);
        // Redis writes a flush as a null bulk here (`$-1`), a null array in the push.
        if (keys === null) reply.bulk(null);
        else writeKeys(reply);
      });
    }
  }
}

/** Whether one of `a` and `b` starts with the other (tracking.c, stringCheckPrefix). */
function overlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** A prefix as Redis's `%s` quotes it: up to a NUL. */
const quoted = (prefix: string): string => prefix.split('\0', 1)[0]!;

/**
 * Redis 7.0's check that a client's BCAST prefixes do not overlap (tracking.c,
 * checkPrefixCollisionsOrReply): each new prefix against the ones already tracked (in byte order),
 * then against the new ones after it. The error, or null. (Redis 7.0 also turns tracking on after
 * that error when the overlap is between two new prefixes past the first, answering twice; Shoal
 * answers the error alone and changes nothing.)
 */
function prefixCollision(existing: readonly string[], added: readonly string[]): Uint8Array | null {
  const tail = 'Prefixes for a single client must not overlap.';
  for (let i = 0; i < added.length; i++) {
    const clash = existing.find((p) => overlap(p, added[i]!));
    if (clash !== undefined) return quotingError(`ERR Prefix '${quoted(added[i]!)}' overlaps with an existing prefix '${quoted(clash)}'. ${tail}`);
    for (let j = i + 1; j < added.length; j++) {
      if (overlap(added[i]!, added[j]!)) return quotingError(`ERR Prefix '${quoted(added[i]!)}' overlaps with another provided prefix '${quoted(added[j]!)}'. ${tail}`);
    }
  }
  return null;
}

// ---- the CLIENT subcommands ----

const latin = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
const word = (bytes: Uint8Array): string => latin(bytes).toLowerCase();
const NO_KEYS = [0, 0, 0] as const;
const FLAGS = ['noscript', 'loading', 'stale'];
const CATEGORIES = ['slow', 'connection'];

function subcommand(name: string, arity: number, run: CommandSpec['run']): CommandSpec {
  return { name, arity, flags: FLAGS, keys: NO_KEYS, categories: CATEGORIES, run };
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
const tracking = subcommand('tracking', -3, (ctx, args, reply, done) => {
  const t = ctx.connection.tracking;
  const mode = word(args[2]!);
  const options: TrackingOptions = { bcast: false, optin: false, optout: false, noloop: false, prefixes: [], redirect: 0 };
  let error: string | Uint8Array | null = t === undefined ? 'ERR this server does not track keys' : mode === 'on' || mode === 'off' ? null : 'ERR syntax error';
  for (let i = 3; error === null && i < args.length; i++) {
    const option = word(args[i]!);
    if (option === 'bcast') options.bcast = true;
    else if (option === 'optin') options.optin = true;
    else if (option === 'optout') options.optout = true;
    else if (option === 'noloop') options.noloop = true;
    else if (option === 'prefix' && i + 1 < args.length) options.prefixes.push(latin(args[++i]!));
    else if (option === 'redirect' && i + 1 < args.length) {
      const id = latin(args[++i]!);
      // Redis checks, in this order, while parsing (networking.c, clientCommand).
      if (options.redirect !== 0) error = 'ERR A client can only redirect to a single other client';
      else if (!/^-?[1-9]\d{0,17}$|^0$/.test(id)) error = 'ERR value is not an integer or out of range';
      else if (ctx.server.state?.clients.has(Number(id)) !== true) error = 'ERR The client ID you want redirect to does not exist';
      else options.redirect = Number(id);
    } else error = 'ERR syntax error';
  }
  if (error === null && mode === 'on') error = t!.enable(options);
  else if (error === null) t!.disable();
  if (error === null) reply.ok();
  else reply.error(error);
  done();
});

/** CLIENT CACHING YES|NO */
const caching = subcommand('caching', 3, (ctx, args, reply, done) => {
  const value = word(args[2]!);
  const t = ctx.connection.tracking;
  const error = value !== 'yes' && value !== 'no' ? 'ERR syntax error' : t === undefined ? 'ERR this server does not track keys' : t.setCaching(value === 'yes');
  if (error === null) reply.ok();
  else reply.error(error);
  done();
});

/** CLIENT TRACKINGINFO: flags, redirect, prefixes, as Redis 7.0 answers. */
const trackingInfo = subcommand('trackinginfo', 2, (ctx, _args, reply, done) => {
  const s = ctx.connection.tracking?.settings ?? null;
  const broken = ctx.connection.tracking?.redirectBroken === true ? ['broken_redirect'] : [];
  const flags = s === null ? ['off'] : ['on', ...(s.bcast ? ['bcast'] : []), ...(s.optin ? ['optin'] : []), ...(s.optout ? ['optout'] : []), ...(s.noloop ? ['noloop'] : []), ...broken];
  reply.map(3);
  reply.bulk('flags');
  reply.set(flags.length);
  for (const f of flags) reply.bulk(f);
  reply.bulk('redirect');
  reply.integer(s === null ? -1 : s.redirect);
  reply.bulk('prefixes');
  reply.array(s?.prefixes.length ?? 0);
  for (const p of s?.prefixes ?? []) reply.bulk(Buffer.from(p, 'latin1'));
  done();
});

/** CLIENT GETREDIR: -1 when tracking is off, else the REDIRECT client id (0: none). */
const getRedir = subcommand('getredir', 2, (ctx, _args, reply, done) => {
  reply.integer(ctx.connection.tracking?.settings?.redirect ?? -1);
  done();
});

export const TRACKING_SUBCOMMANDS: CommandSpec[] = [tracking, caching, trackingInfo, getRedir];

/** CLIENT HELP's lines for them. */
export const TRACKING_HELP = [
  'CACHING (YES|NO)', '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR', '    Return the client ID we are redirecting to when tracking is enabled.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]', '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO', '    Report tracking status for the current connection.',
];
