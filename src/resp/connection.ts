/**
 * One RESP client connection: the read loop (socket bytes -> parser -> command table), replies in
 * command order, one socket write per read, QUIT and protocol errors, and backpressure.
 *
 * Order: commands run as soon as they are parsed, and an async command (one waiting for the
 * keyspace) may finish after later ones. The first unfinished command writes straight into the
 * connection's output; every command behind it writes into a reply buffer of its own, which joins
 * the output when everything before it has finished. So replies leave in command order.
 *
 * Coalescing: the replies produced while one chunk of input is processed (and the replies of async
 * commands finishing in one turn of the event loop) are collected and written with one
 * `socket.write` (or one corked batch when a large value is a part of its own).
 *
 * Backpressure: before each command we check what this connection holds and is about to hold:
 * bytes the socket has not sent yet, replies not handed to it, and the replies of the commands
 * still running, each expected to be as large as the replies seen lately (ReplySizeEstimate, as
 * the SDK port counts its reads in flight); and how many commands have no reply written. Over a
 * limit we stop parsing and pause the socket, so a client that pipelines without reading its
 * replies fills its own buffers, not our memory; we resume on 'drain' or when commands finish.
 *
 * The estimate can be wrong (small replies, then a pipeline of large ones), so a connection whose
 * replies not yet taken by the kernel pass `outputBufferLimitBytes` is closed, its replies
 * dropped, as Redis closes a client past its client-output-buffer-limit (output-limit.ts).
 */
import type { Socket } from 'node:net';
import type { KeyspaceService } from '../replication/api.ts';
import { clientView } from '../replication/admission-gate.ts';
import type { CommandContext, ConnectionState, RespServerContext } from './command.ts';
import type { CommandTable } from './commands.ts';
import { DEFAULT_MAX_ARGUMENTS, RespParser, type ParseFailure } from './parser.ts';
import type { ClientHandle, RespServerState } from './server-state.ts';
import { ReplySink, RespReplyWriter } from './writer.ts';
import { ConnectionTracking } from './client-tracking.ts';
import { HTTP_REQUEST_ERROR, isHttpRequestLine } from './cross-protocol.ts';
import { rateLimitMessage, ReplySizeEstimate, type RequestLimiter } from '../security/limits.ts';
import { keyFilter } from '../security/acl.ts';
import { rejected, type TransactionState } from './transaction-commands.ts';

export interface ConnectionLimits {
  /** Stop reading while this many reply bytes wait to be sent (socket buffer + ours + those expected of running commands). */
  maxPendingReplyBytes: number;
  /** Close a connection holding more reply bytes than this unsent (socket buffer + ours); 0: never (--resp-output-buffer-limit). */
  outputBufferLimitBytes: number;
  /** The largest value a client may store: how large a reply of a new connection's command may be. */
  maxValueBytes: number;
  /** Stop reading while this many commands wait for their reply to be written. */
  maxCommandsInFlight: number;
  /** Arguments longer than this are refused without being buffered (Shoal's largest value). */
  maxArgumentBytes: number;
  /** A command with more arguments than this is refused, its arguments skipped unkept (--resp-max-arguments). */
  maxArguments: number;
}

/**
 * Commands a new connection may run at once before any reply has shown how large its replies are
 * (a typical pipeline: redis-benchmark -P 16), and never more than the hard limit holds of the
 * largest values, so a first burst alone does not get a client closed.
 */
const FIRST_PIPELINE = 16;

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxPendingReplyBytes: 1024 * 1024,
  // Redis's own hard limit for clients that do not read (its pubsub class).
  outputBufferLimitBytes: 32 * 1024 * 1024,
  maxValueBytes: 1024 * 1024,
  // Each one is a quorum request to the replicas: a client pipelining thousands (redis-cli --pipe)
  // gets them answered in waves rather than queued all at once behind each other until they time out.
  maxCommandsInFlight: 128,
  maxArgumentBytes: 512 * 1024 * 1024,
  // One command's keys are walked synchronously: a million of them held the event loop for seconds.
  maxArguments: DEFAULT_MAX_ARGUMENTS,
};

/** How many commands a new connection may start at once (FIRST_PIPELINE), at least one. */
function firstPipeline(limits: ConnectionLimits): number {
  const hardLimit = limits.outputBufferLimitBytes;
  if (hardLimit === 0) return FIRST_PIPELINE;
  return Math.max(1, Math.min(FIRST_PIPELINE, Math.floor(hardLimit / limits.maxValueBytes)));
}

/** One command between its parse and the moment its reply joins the output. */
interface Slot {
  /** Its own reply buffer, or null when it writes straight into the output (it was first). */
  sink: ReplySink | null;
  finished: boolean;
  /** QUIT or a protocol error: close the connection once this reply is out. */
  closeAfter: boolean;
  /** CLIENT REPLY OFF or SKIP: this reply is written into its own sink and dropped, never sent. */
  silent: boolean;
  /** The command (for the slow log), and when it started (performance.now() ms). */
  args: Uint8Array[] | null;
  startedAt: number;
  /** Its sink's (or the output's) `written` when it started: its reply's size is what it adds. */
  writtenAtStart: number;
  /** While it runs (after its synchronous part): the keys it holds, or 'all' (a keyless command). */
  holds: Holds | null;
  /** INFO commandstats: the known command's full name (`client|list`), whether it ran, and whether it wrote an error. */
  statName: string | null;
  ran: boolean;
  failed: boolean;
}

/** What a running command holds: its keys (read or written), or everything (a command without keys). */
type Holds = { keys: string[]; write: boolean } | 'all';

/**
 * The server context as one connection's commands see it: the same in every respect, except that
 * the keyspace notes how many replicas acknowledged each write, for WAIT.
 */
function withWriteAcks(server: RespServerContext, connection: { lastWriteAcks: number }): RespServerContext {
  // Its keyspace calls wait in the node's admission gate as this connection's, taking turns with
  // other connections' (one client's burst does not queue the others behind all of it).
  const keyspace = clientView(server.keyspace, connection);
  // Every other member is found on the keyspace itself through the prototype chain (the server's
  // keyspace is a Proxy that binds each to its target, src/replication/admission-gate.ts), whatever members
  // KeyspaceService gains; set and delete are this connection's own. No Proxy of its own: a trap
  // per keyspace call cost more than the call's bookkeeping.
  const noting = Object.create(keyspace) as KeyspaceService;
  noting.set = (key, value, options, done) =>
    keyspace.set(key, value, options, (error, result) => {
      if (result !== undefined) connection.lastWriteAcks = result.acks;
      done(error, result);
    });
  noting.delete = (key, options, done) =>
    keyspace.delete(key, options, (error, result) => {
      if (result !== undefined) connection.lastWriteAcks = result.acks;
      done(error, result);
    });
  const view = Object.create(server) as RespServerContext;
  Object.defineProperty(view, 'keyspace', { value: noting, enumerable: true });
  return view;
}

export class RespConnection implements ConnectionState, ClientHandle {
  readonly id: number;
  name = '';
  protocol: 2 | 3 = 2;
  readonly address: string;
  readonly localAddress: string;
  readonly = false;
  closeAfterReply = false;
  /** The ACL user: `default` while it needs no password, else null until AUTH. */
  user: string | null = 'default';
  userSince: string | undefined = undefined;
  libName = '';
  libVersion = '';
  noEvict = false;
  readonly createdAtMs: number;
  lastActiveAtMs: number;
  lastCommand = 'NULL';
  /** Replicas that acknowledged this connection's last write (WAIT answers from it); 0 before any. */
  lastWriteAcks = 0;
  /** CLIENT TRACKING (client-tracking.ts); absent when the server has no invalidation streams. */
  readonly tracking?: ConnectionTracking;
  /** SUBSCRIBE __redis__:invalidate (pubsub-commands.ts): redirected invalidations arrive as messages. */
  invalidationChannel = false;
  /** Between MULTI and EXEC/DISCARD (transaction-commands.ts); null: not in a transaction. */
  transaction: TransactionState | null = null;
  /** Invalidation pushes waiting for the replies in flight to be written (they go between replies). */
  private pushes: ReplySink[] = [];

  private readonly parser: RespParser;
  private readonly out = new ReplySink();
  private readonly directWriter: RespReplyWriter;
  private readonly queue: Slot[] = [];
  private readonly ctx: CommandContext;
  private processing = false;
  private paused = false;
  private closing = false;
  /**
   * The client half-closed its side (the listener allows half-open sockets): it sends nothing
   * more, and the connection ends once every command it sent is answered, as redis-server does.
   */
  private inputEnded = false;
  /** The parser holds no complete command: the last `next()` found none. */
  private inputParsed = true;
  /** ConnectionState.closed: set when the socket closed. */
  closed = false;
  private flushScheduled = false;
  /** A parsed command that must wait for the commands before it (see mayRunNow). */
  private held: Uint8Array[] | null = null;
  /** CLIENT REPLY's mode (ConnectionState.setReplies), and the command running its synchronous part now. */
  private replies: 'on' | 'off' | 'skip' = 'on';
  private executing: Slot | null = null;
  /** The unfinished command that writes straight into the output (it was first when it came): whose errors directWriter writes. */
  private directSlot: Slot | null = null;
  /** Keys of running commands: how many read and write each. */
  private readonly busyKeys = new Map<string, { readers: number; writers: number }>();
  /** Running keyless commands (they hold everything). */
  private runningKeyless = 0;
  /** Commands started and not finished. */
  private running = 0;
  /** What mayRunNow found a command holds, so that hold() need not work it out again. */
  private checked: { args: Uint8Array[]; holds: Holds } | null = null;
  /** Replies of finished commands waiting in their own sinks for an earlier one to finish. */
  private queuedReplyBytes = 0;
  /** How large a running command's reply is expected to be (see the header). */
  private readonly replyEstimate: ReplySizeEstimate;

  constructor(
    private readonly socket: Socket,
    private readonly server: RespServerContext,
    private readonly state: RespServerState,
    private readonly table: CommandTable,
    private readonly limits: ConnectionLimits,
    private readonly onClose: (connection: RespConnection) => void,
    /** Requests per second (security/limits.ts); null: unlimited. */
    private readonly rateLimiter: RequestLimiter | null = null,
  ) {
    this.id = state.newClientId();
    this.address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.localAddress = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    this.createdAtMs = server.nowMs();
    this.lastActiveAtMs = this.createdAtMs;
    this.user = server.acl?.requiresAuth === true ? null : 'default';
    this.parser = new RespParser({ maxArgumentBytes: limits.maxArgumentBytes, maxArguments: limits.maxArguments });
    this.replyEstimate = new ReplySizeEstimate(limits.maxPendingReplyBytes / firstPipeline(limits));
    this.directWriter = new RespReplyWriter(this.out, this);
    this.ctx = { server: withWriteAcks(server, this), connection: this };
    const streams = server.invalidations;
    if (streams !== undefined) {
      const client = (id: number): RespConnection | undefined => {
        const handle = state.clients.get(id);
        return handle instanceof RespConnection ? handle : undefined;
      };
      // Invalidations name keys: only those this connection's user may name now (any access:
      // what it could give EXISTS), the user as it authenticated (a re-created user is another).
      const visible = (): ((key: string) => boolean) | null => {
        const acl = server.acl;
        if (acl === undefined) return null;
        return keyFilter(this.user === null ? undefined : acl.loggedIn(this.user, this.userSince), 'any');
      };
      this.tracking = new ConnectionTracking(streams.source, () => server.topology().partitions, (p) => streams.holds(p), this, client, visible);
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.state.netInputBytes += chunk.length;
      // After QUIT, a protocol error or a drain nothing more is run: the input is not kept either.
      if (this.closing) return;
      this.lastActiveAtMs = this.server.nowMs();
      this.parser.push(chunk);
      this.inputParsed = false;
      this.process();
    });
    socket.on('end', () => {
      this.inputEnded = true;
      this.endIfAnswered();
    });
    socket.on('drain', () => this.process());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      this.tracking?.disable();
      this.onClose(this);
    });
  }

  /** Commands started and not finished (a WAIT waiting for replicas, a keyspace call). */
  get commandsRunning(): number {
    return this.running;
  }

  get queryBufferBytes(): number {
    return this.parser.bufferedBytes;
  }

  /** Replies made and not yet taken by the kernel (CLIENT LIST's omem). */
  get outputBufferBytes(): number {
    return this.socket.writableLength + this.out.length + this.queuedReplyBytes;
  }

  /** Every error reply this connection writes counts in INFO's total_error_replies and errorstats. */
  noteErrorReply(text: string | Uint8Array): void {
    this.state.countErrorReply(text);
    if (this.directSlot !== null) this.directSlot.failed = true;
  }

  /** RESET: back to a fresh connection's state (the id stays, as in Redis). */
  reset(): void {
    this.name = '';
    this.protocol = 2;
    this.readonly = false;
    this.noEvict = false;
    this.user = this.server.acl?.requiresAuth === true ? null : 'default';
    this.userSince = undefined;
    this.tracking?.disable();
    this.invalidationChannel = false;
    this.transaction = null;
  }

  /** A push or Pub/Sub message (an invalidation) between replies: now if nothing is in flight, else once the replies before it are out. */
  pushOutOfBand(write: (reply: RespReplyWriter) => void): void {
    if (this.closed || this.closing) return;
    if (this.queue.length === 0) {
      write(this.directWriter);
      this.scheduleFlush();
      return;
    }
    const sink = new ReplySink(64);
    write(new RespReplyWriter(sink, this));
    this.pushes.push(sink);
  }

  setReplies(mode: 'on' | 'off' | 'skip'): void {
    const current = this.executing;
    if (mode === 'skip') {
      // Redis ignores SKIP while replies are off.
      if (this.replies === 'off') return;
      this.replies = 'skip';
    } else {
      this.replies = mode;
    }
    // The command that changed the mode: ON's own reply is sent, OFF's and SKIP's are not.
    if (current !== null) current.silent = mode !== 'on';
  }

  kill(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /**
   * A graceful stop of the node: nothing more is read or started, the commands already started
   * finish, and once their replies are written the connection closes (as after QUIT). A command
   * the client sent that had not started is never run, so every command ends either answered or
   * not run at all, never run without a reply: a client may resend what was not answered, to
   * this address once it serves again or to another node.
   */
  drain(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.held = null;
    // Read on (and drop) what still comes, so the client's own close is seen and the socket ends.
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    const last = this.queue.at(-1);
    if (last !== undefined) {
      last.closeAfter = true;
      return;
    }
    this.flush();
    this.socket.end();
  }

  /** Parses and runs what the input holds, as far as the limits allow, then writes the replies. */
  private process(): void {
    if (this.processing || this.closed) return;
    this.processing = true;
    try {
      while (!this.closing) {
        if (this.held !== null) {
          if (!this.mayRunNow(this.held)) break;
          const args = this.held;
          this.held = null;
          this.execute(args);
          continue;
        }
        if (this.overLimit()) break;
        const parsed = this.parser.next();
        if (parsed === null) {
          this.inputParsed = true;
          break;
        }
        if (!Array.isArray(parsed)) {
          this.refuse(parsed as ParseFailure);
          continue;
        }
        if (isHttpRequestLine(parsed)) {
          // Nothing after it runs: a protocol error that says why (cross-protocol.ts).
          this.state.crossProtocolLog.note(this.state.log, this.socket.remoteAddress ?? '?', performance.now());
          this.refuse({ error: HTTP_REQUEST_ERROR, fatal: true });
          continue;
        }
        if (this.rateLimiter !== null && !this.rateLimiter.allow(this.server.nowMs(), 1, this.user ?? undefined)) {
          // Over the rate: this command fails, the connection and its other commands go on.
          this.state.rateLimitedCommands++;
          this.refuse({ error: `ERR ${rateLimitMessage(this.rateLimiter)}`, fatal: false });
          continue;
        }
        if (!this.mayRunNow(parsed)) {
          this.held = parsed;
          break;
        }
        this.execute(parsed);
      }
    } finally {
      this.processing = false;
    }
    this.flush();
    if (this.closed || this.closing) return;
    if (this.endIfAnswered()) return;
    if (this.overLimit()) {
      if (!this.paused) {
        this.paused = true;
        this.state.backpressurePauses++;
        this.socket.pause();
      }
    } else if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private overLimit(): boolean {
    return (
      this.held !== null ||
      this.queue.length >= this.limits.maxCommandsInFlight ||
      this.outputBufferBytes + this.running * this.replyEstimate.bytes >= this.limits.maxPendingReplyBytes
    );
  }

  /**
   * Commands of one connection run in the order they came, as in Redis, but without waiting for
   * each other when they cannot affect each other, so a pipeline of GETs and SETs on different
   * keys is in flight at once. A command waits for the running ones before it when it touches a
   * key one of them writes, writes a key one of them reads, has no keys (FLUSHALL, DBSIZE, WAIT,
   * SLOWLOG...: it may depend on everything), or a keyless one is running. So a pipelined
   * `SET k v` / `GET k` reads v.
   */
  private mayRunNow(args: Uint8Array[]): boolean {
    if (this.running === 0) return true;
    if (this.runningKeyless > 0) return false;
    const holds = this.holdsOf(args);
    this.checked = { args, holds };
    if (holds === 'all') return false;
    for (const key of holds.keys) {
      const busy = this.busyKeys.get(key);
      if (busy !== undefined && (busy.writers > 0 || (holds.write && busy.readers > 0))) return false;
    }
    return true;
  }

  private holdsOf(args: Uint8Array[]): Holds {
    const spec = this.table.lookup(args[0]!);
    if (spec === undefined || spec.keys[0] <= 0 || spec.subcommands !== undefined) return 'all';
    const [first, lastGiven, step] = spec.keys;
    const last = lastGiven < 0 ? args.length + lastGiven : Math.min(lastGiven, args.length - 1);
    const keys: string[] = [];
    for (let i = first; i <= last && i < args.length; i += Math.max(1, step)) {
      const key = args[i]!;
      keys.push(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
    }
    if (keys.length === 0) return 'all';
    return { keys, write: !spec.flags.includes('readonly') };
  }

  private hold(slot: Slot): void {
    const holds = this.checked?.args === slot.args ? this.checked.holds : this.holdsOf(slot.args!);
    this.checked = null;
    slot.holds = holds;
    if (holds === 'all') {
      this.runningKeyless++;
      return;
    }
    for (const key of holds.keys) {
      let busy = this.busyKeys.get(key);
      if (busy === undefined) this.busyKeys.set(key, (busy = { readers: 0, writers: 0 }));
      if (holds.write) busy.writers++;
      else busy.readers++;
    }
  }

  private release(slot: Slot): void {
    const holds = slot.holds;
    if (holds === null) return;
    slot.holds = null;
    if (holds === 'all') {
      this.runningKeyless--;
      return;
    }
    for (const key of holds.keys) {
      const busy = this.busyKeys.get(key)!;
      if (holds.write) busy.writers--;
      else busy.readers--;
      if (busy.readers === 0 && busy.writers === 0) this.busyKeys.delete(key);
    }
  }

  /**
   * A parse failure: a protocol error closes after its reply; an oversized argument (or a rate
   * limit) fails one command, and inside MULTI the transaction with it (transaction-commands.ts).
   */
  private refuse(failure: ParseFailure): void {
    const slot = this.enqueue();
    this.writerFor(slot).error(failure.fatal ? failure.error : rejected(this, undefined, failure.error));
    if (failure.fatal) {
      this.state.protocolErrors++;
      slot.closeAfter = true;
      this.closing = true;
    }
    this.finish(slot);
  }

  private execute(args: Uint8Array[]): void {
    const slot = this.enqueue();
    this.executing = slot;
    slot.args = args;
    slot.startedAt = performance.now();
    slot.writtenAtStart = (slot.sink ?? this.out).written;
    const writer = this.writerFor(slot);
    this.state.countCommand();
    this.running++;
    try {
      // An inline arrow: one closure per command, and `complete` ignores a second call.
      const spec = this.table.dispatch(this.ctx, args, writer, () => this.complete(slot), this.named);
      // Tracking marks what a read touched before any invalidation of it can arrive (a later turn).
      if (spec !== null && this.tracking?.enabled === true) {
        const holds = this.holdsOf(args);
        if (holds === 'all') this.tracking.noteCommand(spec.name, [], false);
        else this.tracking.noteCommand(spec.name, holds.keys, holds.write);
      }
      // Still running (waiting for the keyspace): what it touches is busy until it finishes.
      if (!slot.finished) this.hold(slot);
    } catch (error) {
      // A bug in a command must not take the connection's order down with it.
      this.state.log?.error({ err: error, command: this.lastCommand, client: this.id }, 'RESP command failed');
      if (!slot.finished) {
        writer.error(`ERR internal error: ${error instanceof Error ? error.message : String(error)}`);
        this.complete(slot);
      }
    } finally {
      this.executing = null;
    }
  }

  /** dispatch names the command it runs or refuses, synchronously: the one executing. */
  private readonly named = (fullName: string, ran: boolean): void => {
    this.lastCommand = fullName;
    const slot = this.executing;
    if (slot === null) return;
    slot.statName = fullName;
    slot.ran = ran;
  };

  /** A command called `done`: time it, note QUIT, and let its reply join the output in order. */
  private complete(slot: Slot): void {
    if (slot.finished) return;
    this.running--;
    this.release(slot);
    if (this.closeAfterReply) {
      this.closeAfterReply = false;
      slot.closeAfter = true;
      this.closing = true; // nothing after QUIT runs
    }
    this.replyEstimate.note((slot.sink ?? this.out).written - slot.writtenAtStart);
    const micros = (performance.now() - slot.startedAt) * 1000;
    this.state.recordCommand(slot.args!, micros, this);
    if (slot.statName !== null) this.state.countCommandOutcome(slot.statName, !slot.ran ? 'rejected' : slot.failed ? 'failed' : 'ok', micros);
    this.finish(slot);
  }

  private enqueue(): Slot {
    const silent = this.replies !== 'on';
    // SKIP drops the reply of the command after it only.
    if (this.replies === 'skip') this.replies = 'on';
    // A silent reply gets a sink of its own even at the head, so nothing of it reaches the output.
    const slot: Slot = {
      sink: this.queue.length === 0 && !silent ? null : new ReplySink(256),
      finished: false, closeAfter: false, silent, args: null, startedAt: 0, writtenAtStart: 0, holds: null, statName: null, ran: false, failed: false,
    };
    if (slot.sink === null) this.directSlot = slot;
    this.queue.push(slot);
    return slot;
  }

  private writerFor(slot: Slot): RespReplyWriter {
    if (slot.sink === null) return this.directWriter;
    // Its own source, so that an error it writes marks this command as failed (commandstats).
    const state = this.state;
    const protocol = (): 2 | 3 => this.protocol;
    return new RespReplyWriter(slot.sink, {
      get protocol() {
        return protocol();
      },
      noteErrorReply(text) {
        state.countErrorReply(text);
        slot.failed = true;
      },
    });
  }

  /** A command's reply is complete: move every finished reply at the front into the output. */
  private finish(slot: Slot): void {
    slot.finished = true;
    if (this.directSlot === slot) this.directSlot = null;
    if (slot.sink !== null) this.queuedReplyBytes += slot.sink.length;
    let closeNow = false;
    while (this.queue.length > 0 && this.queue[0]!.finished) {
      const head = this.queue.shift()!;
      if (head.sink !== null) this.queuedReplyBytes -= head.sink.length;
      if (head.sink !== null && !head.silent) this.out.append(head.sink);
      if (head.closeAfter) {
        closeNow = true;
        break;
      }
    }
    if (closeNow) {
      this.queue.length = 0;
      this.queuedReplyBytes = 0;
      this.flush();
      this.socket.end();
      return;
    }
    if (this.queue.length === 0 && this.pushes.length > 0) {
      for (const push of this.pushes) this.out.append(push);
      this.pushes = [];
    }
    // The new head keeps writing into its own buffer; that is joined when it finishes.
    if (!this.processing) this.scheduleFlush();
  }

  /** After async completions: one write for all replies finished in this turn. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
      if (this.paused) this.process();
      else this.endIfAnswered();
    });
  }

  /** After the client half-closed: ends the connection once all it sent is answered. True when it did. */
  private endIfAnswered(): boolean {
    if (!this.inputEnded || this.closed || this.closing || !this.inputParsed || this.queue.length > 0 || this.held !== null) return false;
    this.closing = true;
    this.flush();
    this.socket.end();
    return true;
  }

  /** Hands the output to the socket; then a connection holding more than its output buffer limit is closed. */
  private flush(): void {
    if (this.closed || this.socket.destroyed) {
      this.out.take();
      return;
    }
    if (this.out.length > 0) this.write(this.out.take());
    const held = this.outputBufferBytes;
    this.state.observeBuffered(this.parser.bufferedBytes + held);
    const limit = this.limits.outputBufferLimitBytes;
    if (limit > 0 && held > limit) this.closeOverLimit(held, limit);
  }

  private write(parts: Uint8Array[]): void {
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    this.state.netOutputBytes += bytes;
    this.state.socketWrites++;
    if (parts.length === 1) {
      this.socket.write(parts[0]!);
      return;
    }
    this.socket.cork();
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
  }

  /** As Redis past client-output-buffer-limit: closed at once, what it had not read dropped; nothing more runs. */
  private closeOverLimit(held: number, limit: number): void {
    this.state.outputLimitClosed++;
    this.state.outputLimitLog.note(this.state.log, this.socket.remoteAddress ?? '?', performance.now(), held, limit);
    this.kill();
  }
}
