/**
 * What one RESP listener keeps besides its connections' buffers: the connected clients (CLIENT
 * LIST/KILL, INFO clients), the settings CONFIG GET/SET answer for, the slow log and the latency
 * monitor (with real measurements of our commands), and the counters INFO prints.
 */
import { getHeapStatistics } from 'node:v8';
import type { Logger } from '../runtime/env.ts';
import type { ConnectionTracking } from './client-tracking.ts';
import type { CommandTable } from './commands.ts';
import { quotingError } from './args.ts';
import { CrossProtocolLog } from './cross-protocol.ts';
import { OutputLimitLog } from './output-limit.ts';
import type { TransactionState } from './transaction-commands.ts';

/** A connected client as CLIENT LIST and CLIENT KILL see it. */
export interface ClientHandle {
  readonly id: number;
  readonly address: string;
  readonly localAddress: string;
  readonly name: string;
  readonly protocol: 2 | 3;
  readonly createdAtMs: number;
  readonly lastActiveAtMs: number;
  /** Lower-case name of the last command (`client|list` for subcommands), as CLIENT LIST's cmd=. */
  readonly lastCommand: string;
  /** Bytes waiting in the input and output buffers. */
  readonly queryBufferBytes: number;
  readonly outputBufferBytes: number;
  /** CLIENT SETINFO lib-name / lib-ver (Redis 7.2; accepted here so newer clients do not fail). */
  libName: string;
  libVersion: string;
  noEvict: boolean;
  /** SUBSCRIBE __redis__:invalidate (CLIENT LIST's sub=). */
  readonly invalidationChannel: boolean;
  /** CLIENT TRACKING (CLIENT LIST's redir=); absent when the server has no invalidation streams. */
  readonly tracking?: ConnectionTracking;
  /** The ACL user it runs as (CLIENT LIST's user=, CLIENT KILL USER); null before AUTH, which Redis counts as `default`. */
  readonly user?: string | null;
  /** Between MULTI and EXEC/DISCARD (CLIENT LIST's flags=x, multi=). */
  readonly transaction?: TransactionState | null;
  /** Closes the connection (CLIENT KILL); the reply to the killing command is not affected. */
  kill(): void;
}

/** INFO commandstats: one command's counts (`get`, or `client|list` for a subcommand). */
export interface CommandStat {
  /** Times it ran (not counting rejections). */
  calls: number;
  /** Microseconds from its start to its reply, summed over its calls. */
  micros: number;
  /** Refused before running: arity, ACL, CROSSSLOT, MOVED, a transaction's refusal. */
  rejected: number;
  /** Ran and answered an error. */
  failed: number;
}

/** One sample of the counters the instantaneous rates are computed from. */
interface RateSample {
  atMs: number;
  commands: number;
  input: number;
  output: number;
}

export interface SlowlogEntry {
  id: number;
  /** Unix time in seconds when the command started. */
  startedAtSec: number;
  durationMicros: number;
  args: Uint8Array[];
  clientAddress: string;
  clientName: string;
}

export interface LatencySample {
  atSec: number;
  millis: number;
}

export interface LatencyEvent {
  /** Samples, oldest first, at most one per second (the worst of that second), at most 160. */
  samples: LatencySample[];
  maxMillis: number;
}

/**
 * The node's store eviction policy by its --eviction-policy name ('default', 'lru', 'lfu',
 * 'noeviction'): CONFIG GET/SET maxmemory-policy read and change it under Redis's names.
 */
export interface EvictionPolicyControl {
  current(): string;
  set(policy: string): void;
}

/**
 * The node's store memory budget in bytes (--max-memory): CONFIG GET/SET maxmemory and INFO's
 * maxmemory read and change it.
 */
export interface MemoryBudgetControl {
  current(): number;
  /** The smallest budget the node takes (--max-memory's minimum). */
  readonly minimum: number;
  set(bytes: number): void;
}

/**
 * Redis's name for each store policy. The default, adaptive W-TinyLFU, has none in Redis: it
 * evicts any key (allkeys-) by frequency-gated recency, so it answers `allkeys-wtinylfu`, which
 * CONFIG SET accepts to go back to it. Redis's volatile-* and allkeys-random have no store policy.
 */
const REDIS_POLICY_NAMES: Record<string, string> = { default: 'allkeys-wtinylfu', lru: 'allkeys-lru', lfu: 'allkeys-lfu', noeviction: 'noeviction' };
const STORE_POLICY_NAMES = new Map(Object.entries(REDIS_POLICY_NAMES).map(([store, redis]) => [redis, store]));

/** instantaneous_ops_per_sec: commands counted over this window, sampled at most this often (Redis: 16 samples, 100 ms apart). */
const OPS_WINDOW_MS = 1600;
const OPS_SAMPLE_MS = 100;

/** Redis's defaults for the settings we honour. */
const CONFIG_DEFAULTS: Record<string, string> = {
  // The node's store budget and policy when the server is given them (MemoryBudgetControl,
  // EvictionPolicyControl): CONFIG SET changes the store. Without them (a listener with no store
  // of its own, as in tests) the settings are only kept.
  maxmemory: '0',
  'maxmemory-policy': 'noeviction',
  // No persistence: what a Redis started with `--save '' --appendonly no` answers.
  save: '',
  appendonly: 'no',
  'slowlog-log-slower-than': '10000',
  'slowlog-max-len': '128',
  'latency-monitor-threshold': '0',
};

const MAXMEMORY_POLICIES = new Set([
  'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction',
]);

export class RespServerState {
  readonly clients = new Map<number, ClientHandle>();
  private nextClientId = 1;
  readonly config = new Map<string, string>(Object.entries(CONFIG_DEFAULTS));
  slowlog: SlowlogEntry[] = [];
  private nextSlowlogId = 0;
  readonly latency = new Map<string, LatencyEvent>();

  // INFO stats counters (CONFIG RESETSTAT zeroes them).
  totalConnections = 0;
  totalCommands = 0;
  rejectedConnections = 0;
  /** Error replies written, whatever caused them (INFO total_error_replies, as Redis counts them). */
  errorReplies = 0;
  /** INFO commandstats, by full command name, in the order first counted. */
  readonly commandStats = new Map<string, CommandStat>();
  /** INFO errorstats: error replies by their code (the first word: ERR, WRONGPASS, NOPROTO...). */
  readonly errorStats = new Map<string, number>();
  /** Commands refused by the request rate limit (--max-request-rate). */
  rateLimitedCommands = 0;
  /** The connection limit INFO reports as maxclients (--max-clients). */
  maxClients = 10_000;
  netInputBytes = 0;
  netOutputBytes = 0;
  protocolErrors = 0;
  /**
   * The most bytes one connection held at once (unparsed input + replies not yet sent), as seen
   * after each write of replies: what backpressure bounds (INFO shoal; the tests check it).
   */
  peakConnectionBufferBytes = 0;
  /** Socket writes of replies (one per read processed, or per turn of async completions). */
  socketWrites = 0;
  /** How many times a connection stopped reading because its replies were not being read. */
  backpressurePauses = 0;
  /** The port listened on (known once listening). */
  port = 0;
  log: Logger | undefined;
  /** Connections closed for sending an HTTP request (cross-protocol.ts), logged at most once a minute per address. */
  readonly crossProtocolLog = new CrossProtocolLog();
  /** Connections closed for leaving more than --resp-output-buffer-limit of replies unread (output-limit.ts; INFO shoal). */
  outputLimitClosed = 0;
  readonly outputLimitLog = new OutputLimitLog();

  constructor(
    readonly table: CommandTable,
    readonly startedAtMs: number,
    /** Wall time in ms (the server context's clock). */
    private readonly nowMs: () => number,
    /** Extra lines for INFO's `shoal` section (node name, ring...), from whoever started us. */
    readonly describe: () => Record<string, string | number> = () => ({}),
    private readonly evictionPolicy?: EvictionPolicyControl,
    /** Records the node's store has evicted for memory since it started; absent: none known (0). */
    private readonly storeEvictions: () => number = () => 0,
    private readonly memoryBudget?: MemoryBudgetControl,
  ) {
    if (evictionPolicy) this.config.set('maxmemory-policy', REDIS_POLICY_NAMES[evictionPolicy.current()] ?? evictionPolicy.current());
    if (memoryBudget) this.config.set('maxmemory', String(memoryBudget.current()));
    this.evictionsAtReset = storeEvictions();
    this.countingSinceMs = startedAtMs;
  }

  /** The store's count when CONFIG RESETSTAT last ran (or at the start). */
  private evictionsAtReset = 0;

  /** INFO evicted_keys: what the node's store evicted for memory since the start or the last CONFIG RESETSTAT. */
  get evictedKeys(): number {
    return this.storeEvictions() - this.evictionsAtReset;
  }

  /**
   * (wall ms, commands processed and bytes read and written before then), taken as commands run,
   * at most one per OPS_SAMPLE_MS, for the instantaneous rates; oldest first, the last
   * OPS_WINDOW_MS and one before.
   */
  private readonly opsSamples: RateSample[] = [];
  /** When totalCommands last started from 0 (the start, or CONFIG RESETSTAT). */
  private countingSinceMs: number;

  /** A command is processed (INFO total_commands_processed and instantaneous_ops_per_sec). */
  countCommand(): void {
    const now = this.nowMs();
    const last = this.opsSamples.at(-1);
    if (last === undefined || now - last.atMs >= OPS_SAMPLE_MS) {
      this.opsSamples.push({ atMs: now, commands: this.totalCommands, input: this.netInputBytes, output: this.netOutputBytes });
      // At most every OPS_SAMPLE_MS while commands run, as Redis's cron samples its peak (INFO used_memory_peak).
      // heapUsed + external as INFO counts them, read without process.memoryUsage(): that also reads
      // the RSS from /proc, which took milliseconds per call on a busy node (perf37).
      const heap = getHeapStatistics();
      this.notePeakMemory(heap.used_heap_size + heap.external_memory);
      // Keep one sample at or before the window's start: the count there is what the window subtracts.
      while (this.opsSamples.length > 2 && this.opsSamples[1]!.atMs <= now - OPS_WINDOW_MS) this.opsSamples.shift();
    }
    this.totalCommands++;
  }

  /**
   * INFO instantaneous_ops_per_sec: commands per second over the last OPS_WINDOW_MS (1.6 s, as
   * Redis's 16 samples 100 ms apart), or since the start or last RESETSTAT when that is shorter.
   * Samples are taken as commands run, so the window's start is known to within OPS_SAMPLE_MS.
   */
  instantaneousOpsPerSec(): number {
    return Math.round(this.perSecond('commands', this.totalCommands));
  }

  /** INFO instantaneous_input_kbps and instantaneous_output_kbps: KiB per second over the same window, as Redis prints them (`%.2f`). */
  instantaneousKbps(): { input: string; output: string } {
    return {
      input: (this.perSecond('input', this.netInputBytes) / 1024).toFixed(2),
      output: (this.perSecond('output', this.netOutputBytes) / 1024).toFixed(2),
    };
  }

  /** How fast `field` grew over the last OPS_WINDOW_MS (or since the start or RESETSTAT), per second. */
  private perSecond(field: 'commands' | 'input' | 'output', current: number): number {
    const now = this.nowMs();
    const start = now - OPS_WINDOW_MS;
    let base: RateSample | undefined;
    for (const sample of this.opsSamples) if (sample.atMs <= start) base = sample;
    // No sample before the window: no command ran between the start (or RESETSTAT) and the window.
    const fromMs = base === undefined ? Math.max(this.countingSinceMs, start) : start;
    const spanMs = now - fromMs;
    return spanMs <= 0 ? 0 : ((current - (base?.[field] ?? 0)) * 1000) / spanMs;
  }

  /** The most memory the process was seen using (INFO used_memory_peak); not reset by CONFIG RESETSTAT, as in Redis. */
  private peakMemory = 0;

  /** Memory in use now (heap and external, INFO used_memory): returns the peak including it. */
  notePeakMemory(used: number): number {
    if (used > this.peakMemory) this.peakMemory = used;
    return this.peakMemory;
  }

  /** An error reply was written (INFO total_error_replies and errorstats). */
  countErrorReply(text: string | Uint8Array): void {
    this.errorReplies++;
    const code = errorCode(text);
    this.errorStats.set(code, (this.errorStats.get(code) ?? 0) + 1);
  }

  /** A known command ran (`ran`, in `micros`, failing or not) or was refused before running (INFO commandstats). */
  countCommandOutcome(fullName: string, outcome: 'ok' | 'failed' | 'rejected', micros = 0): void {
    let stat = this.commandStats.get(fullName);
    if (stat === undefined) this.commandStats.set(fullName, (stat = { calls: 0, micros: 0, rejected: 0, failed: 0 }));
    if (outcome === 'rejected') {
      stat.rejected++;
      return;
    }
    stat.calls++;
    stat.micros += Math.round(micros); // whole microseconds per call, as Redis sums them
    if (outcome === 'failed') stat.failed++;
  }

  /**
   * Gives the store the policy and budget CONFIG SET chose (called once every pair of a CONFIG SET
   * was accepted). The policy first, so that a shrink given with it evicts by it (or, under
   * noeviction, deletes nothing), as Redis evicts after its CONFIG SET by the policy then in force.
   */
  applyToStore(): void {
    if (this.evictionPolicy) {
      const wanted = STORE_POLICY_NAMES.get(this.config.get('maxmemory-policy')!);
      if (wanted !== undefined && wanted !== this.evictionPolicy.current()) this.evictionPolicy.set(wanted);
    }
    if (this.memoryBudget) {
      const wanted = this.configNumber('maxmemory');
      if (wanted !== this.memoryBudget.current()) this.memoryBudget.set(wanted);
    }
  }

  observeBuffered(bytes: number): void {
    if (bytes > this.peakConnectionBufferBytes) this.peakConnectionBufferBytes = bytes;
  }

  /** The two thresholds, read on every command, kept as numbers. */
  private slowlogThreshold = Number(CONFIG_DEFAULTS['slowlog-log-slower-than']);
  private latencyThreshold = Number(CONFIG_DEFAULTS['latency-monitor-threshold']);

  /** Re-reads the thresholds after the configuration map changed. */
  cacheThresholds(): void {
    this.slowlogThreshold = this.configNumber('slowlog-log-slower-than');
    this.latencyThreshold = this.configNumber('latency-monitor-threshold');
  }

  /** The slow log's threshold in microseconds, -1 for off (what CONFIG SET slowlog-log-slower-than sets). */
  setSlowlogThreshold(micros: number): void {
    this.config.set('slowlog-log-slower-than', String(micros));
    this.cacheThresholds();
  }

  newClientId(): number {
    return this.nextClientId++;
  }

  configNumber(name: string): number {
    return Number(this.config.get(name) ?? '0');
  }

  /**
   * CONFIG SET of one known parameter (`name` lower case, as the `config` map has it; the caller
   * answers unknown names): null when set, or Redis's error, which names the parameter as Redis
   * spells it whatever the client's case. Values are checked as Redis checks them.
   */
  setConfig(name: string, value: string): Uint8Array | null {
    const invalid = (why: string) => quotingError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`);
    switch (name) {
      case 'maxmemory': {
        const bytes = parseMemory(value);
        if (bytes === null) return invalid('argument must be a memory value');
        const refusal = this.memoryBudget === undefined ? null : budgetRefusal(bytes, this.memoryBudget.minimum);
        if (refusal !== null) return invalid(refusal);
        this.config.set(name, String(bytes));
        return null;
      }
      case 'maxmemory-policy':
        if (this.evictionPolicy) {
          if (!STORE_POLICY_NAMES.has(value.toLowerCase())) return invalid(`argument must be one of the following: ${[...STORE_POLICY_NAMES.keys()].join(', ')} (Shoal's store has no volatile-* or random policy)`);
          this.config.set(name, value.toLowerCase());
          return null;
        }
        if (!MAXMEMORY_POLICIES.has(value.toLowerCase())) return invalid('argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction');
        this.config.set(name, value.toLowerCase());
        return null;
      case 'appendonly':
        if (value.toLowerCase() === 'no') return null;
        if (value.toLowerCase() === 'yes') return invalid('Shoal keeps no append-only file');
        return invalid('argument must be \'yes\' or \'no\'');
      case 'save':
        if (value.trim() === '') return null;
        return invalid('Shoal does not persist to disk');
      case 'slowlog-log-slower-than':
      case 'latency-monitor-threshold':
      case 'slowlog-max-len': {
        if (!/^-?\d+$/.test(value)) return invalid('argument couldn\'t be parsed into an integer');
        const n = Number(value);
        const min = name === 'slowlog-log-slower-than' ? -1 : 0;
        if (n < min || n > 2 ** 63 - 1) return invalid(`argument must be between ${min} and 9223372036854775807 inclusive`);
        this.config.set(name, String(n));
        if (name === 'slowlog-max-len') this.trimSlowlog();
        this.cacheThresholds();
        return null;
      }
    }
    throw new Error(`CONFIG SET of ${name}: a parameter in CONFIG_DEFAULTS without a setter`);
  }

  /**
   * Records one command's duration. Redis measures only the execution on its event loop; a
   * Shoal command's execution includes the replicas' round trip, so the slow log shows what a
   * client waits for once its command is parsed.
   */
  recordCommand(args: Uint8Array[], durationMicros: number, client: { address: string; name: string }): void {
    const threshold = this.slowlogThreshold;
    const latencyThreshold = this.latencyThreshold;
    if ((threshold < 0 || durationMicros < threshold) && (latencyThreshold <= 0 || durationMicros < latencyThreshold * 1000)) return;
    const startedAtMs = this.nowMs() - durationMicros / 1000;
    if (threshold >= 0 && durationMicros >= threshold) {
      this.slowlog.unshift({
        id: this.nextSlowlogId++,
        startedAtSec: Math.floor(startedAtMs / 1000),
        durationMicros: Math.round(durationMicros),
        args: slowlogArgs(args),
        clientAddress: client.address,
        clientName: client.name,
      });
      this.trimSlowlog();
    }
    const millis = Math.floor(durationMicros / 1000);
    if (latencyThreshold > 0 && millis >= latencyThreshold) this.addLatencySample('command', startedAtMs, millis);
  }

  addLatencySample(event: string, atMs: number, millis: number): void {
    const atSec = Math.floor(atMs / 1000);
    let entry = this.latency.get(event);
    if (entry === undefined) {
      entry = { samples: [], maxMillis: 0 };
      this.latency.set(event, entry);
    }
    const last = entry.samples[entry.samples.length - 1];
    if (last !== undefined && last.atSec === atSec) {
      last.millis = Math.max(last.millis, millis);
    } else {
      entry.samples.push({ atSec, millis });
      if (entry.samples.length > 160) entry.samples.shift();
    }
    entry.maxMillis = Math.max(entry.maxMillis, millis);
  }

  resetStats(): void {
    this.totalConnections = 0;
    this.totalCommands = 0;
    this.rejectedConnections = 0;
    this.rateLimitedCommands = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.protocolErrors = 0;
    this.errorReplies = 0;
    this.commandStats.clear();
    this.errorStats.clear();
    this.evictionsAtReset = this.storeEvictions();
    this.opsSamples.length = 0;
    this.countingSinceMs = this.nowMs();
  }

  /** INFO tracking_clients: connections with CLIENT TRACKING on. */
  get trackingClients(): number {
    let count = 0;
    for (const client of this.clients.values()) if (client.tracking?.enabled === true) count++;
    return count;
  }

  private trimSlowlog(): void {
    const max = this.configNumber('slowlog-max-len');
    if (this.slowlog.length > max) this.slowlog.length = max;
  }
}

/** Redis keeps at most 32 arguments of a slow command, each cut to 128 bytes (slowlog.c). */
function slowlogArgs(args: Uint8Array[]): Uint8Array[] {
  const kept: Uint8Array[] = [];
  const count = Math.min(args.length, 32);
  for (let i = 0; i < count; i++) {
    if (count !== args.length && i === count - 1) {
      kept.push(Buffer.from(`... (${args.length - count + 1} more arguments)`));
    } else if (args[i]!.length > 128) {
      kept.push(Buffer.concat([args[i]!.subarray(0, 128), Buffer.from(`... (${args[i]!.length - 128} more bytes)`)]));
    } else {
      kept.push(Uint8Array.from(args[i]!)); // a copy: arguments are views of the input buffer
    }
  }
  return kept;
}

const MEMORY_UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };
const ULLONG_MAX = 2n ** 64n - 1n;

/**
 * A memory value as Redis 7.0 reads one (memtoull in util.c): digits, then b, k, kb, m, mb, g or
 * gb in any case (k = 1000, kb = 1024) or nothing; null for anything else. As there, the digits
 * may be none (`mb` is 0) but fewer than 128, a number past 2^64 - 1 is taken as 2^64 - 1
 * (strtoull), and the product wraps modulo 2^64 (`17179869184gb` is 0).
 */
export function parseMemory(text: string): bigint | null {
  const m = /^(\d*)([a-z]*)$/i.exec(text);
  const unit = m === null ? undefined : MEMORY_UNITS[m[2]!.toLowerCase()];
  if (m === null || unit === undefined || m[1]!.length >= 128) return null;
  const digits = m[1] === '' ? 0n : BigInt(m[1]!);
  return ((digits > ULLONG_MAX ? ULLONG_MAX : digits) * unit) & ULLONG_MAX;
}

/**
 * Why the node's store cannot take a budget Redis would (null: it can). Redis reads 0 as no limit;
 * a store without a bound would grow until the process dies, so 0 is refused rather than taken.
 */
function budgetRefusal(bytes: bigint, minimum: number): string | null {
  // The minimum as a memory value the user can type back (1048576 is `1mb`).
  const typed = minimum % 1024 ** 2 === 0 ? `${minimum / 1024 ** 2}mb` : String(minimum);
  if (bytes === 0n) return `Shoal's store needs a memory budget: 0 (no limit in Redis) would let it grow until the node runs out of memory; give at least ${typed} (${minimum} bytes)`;
  if (bytes < BigInt(minimum)) return `argument must be at least ${minimum} (${typed}), the smallest store budget, as for --max-memory`;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return `argument must be at most ${Number.MAX_SAFE_INTEGER} bytes`;
  return null;
}

/**
 * An error's code as Redis 7.0 files it in errorstats (afterErrorReply): the text up to its first
 * space, looked for in its first 31 bytes; `ERR` when there is none.
 */
export function errorCode(text: string | Uint8Array): string {
  const head = typeof text === 'string' ? text.slice(0, 31) : Buffer.from(text.subarray(0, 31)).toString('latin1');
  const space = head.indexOf(' ');
  return space === -1 ? 'ERR' : head.slice(0, space);
}
