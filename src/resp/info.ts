/**
 * INFO: Redis's sections with Redis's field names (server, clients, memory, persistence, stats,
 * replication, cpu, commandstats, errorstats, cluster, keyspace), filled with what a Shoal node knows, plus a `shoal`
 * section with the node's own view. Fields that have no meaning here carry the value a Redis
 * without that feature reports (no persistence, no replicas of its own).
 */
import { arch, platform, release, totalmem } from 'node:os';
import type { CommandContext, CommandSpec, ReplyWriter } from './command.ts';
import type { RespServerState } from './server-state.ts';

/** `INFO all` and `everything`, in Redis 7.0's order, and then Shoal's own section. */
const ALL_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'commandstats', 'errorstats', 'cluster', 'keyspace', 'shoal'];
/** `INFO` and `INFO default`: all but commandstats, as Redis 7.0 (whose latencystats Shoal has not). */
const DEFAULT_SECTIONS = ALL_SECTIONS.filter((name) => name !== 'commandstats');

/** Stable per process, as Redis's run_id is per run. */
const RUN_ID = Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

type Fields = [string, string | number][];

/** Bytes as Redis's bytesToHuman writes them (INFO's *_human fields): `512B`, `1.50K`, `2.00M`. */
export function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}

function serverSection(ctx: CommandContext, state: RespServerState, version: string): Fields {
  const now = ctx.server.nowMs();
  const uptime = Math.max(0, Math.floor((now - state.startedAtMs) / 1000));
  return [
    ['redis_version', version],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_mode', 'cluster'],
    ['os', `${platform() === 'linux' ? 'Linux' : platform()} ${release()} ${arch()}`],
    ['arch_bits', 64],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', RUN_ID],
    ['tcp_port', state.port],
    ['server_time_usec', Math.floor(now * 1000)],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', 10],
    ['executable', process.argv[1] ?? process.execPath],
    ['config_file', ''],
  ];
}

function clientsSection(state: RespServerState): Fields {
  let maxInput = 0;
  let maxOutput = 0;
  for (const c of state.clients.values()) {
    maxInput = Math.max(maxInput, c.queryBufferBytes);
    maxOutput = Math.max(maxOutput, c.outputBufferBytes);
  }
  return [
    ['connected_clients', state.clients.size],
    ['cluster_connections', 0],
    ['maxclients', state.maxClients],
    ['client_recent_max_input_buffer', maxInput],
    ['client_recent_max_output_buffer', maxOutput],
    ['blocked_clients', 0],
    ['tracking_clients', state.trackingClients],
    ['clients_in_timeout_table', 0],
  ];
}

function memorySection(state: RespServerState): Fields {
  // The whole process: the store, the node, and this listener share one heap.
  const memory = process.memoryUsage();
  const used = memory.heapUsed + memory.external;
  const peak = state.notePeakMemory(used);
  // The node's store budget (CONFIG GET maxmemory), as the exact digits Redis prints.
  const maxmemory = state.config.get('maxmemory') ?? '0';
  const system = totalmem();
  return [
    ['used_memory', used],
    ['used_memory_human', human(used)],
    ['used_memory_rss', memory.rss],
    ['used_memory_rss_human', human(memory.rss)],
    ['used_memory_peak', peak],
    ['used_memory_peak_human', human(peak)],
    ['used_memory_peak_perc', `${((used * 100) / peak).toFixed(2)}%`],
    ['total_system_memory', system],
    ['total_system_memory_human', human(system)],
    ['maxmemory', maxmemory],
    ['maxmemory_human', human(Number(maxmemory))],
    ['maxmemory_policy', state.config.get('maxmemory-policy') ?? 'noeviction'],
    ['mem_fragmentation_ratio', used === 0 ? 0 : (memory.rss / used).toFixed(2)],
    ['mem_allocator', 'v8'],
  ];
}

function persistenceSection(): Fields {
  // What a Redis with `save ""` and `appendonly no` reports: no persistence, never loading.
  return [
    ['loading', 0],
    ['async_loading', 0],
    ['rdb_changes_since_last_save', 0],
    ['rdb_bgsave_in_progress', 0],
    ['rdb_last_bgsave_status', 'ok'],
    ['aof_enabled', 0],
    ['aof_rewrite_in_progress', 0],
    ['aof_last_write_status', 'ok'],
  ];
}

function statsSection(ctx: CommandContext, state: RespServerState): Fields {
  const kbps = state.instantaneousKbps();
  return [
    ['total_connections_received', state.totalConnections],
    ['total_commands_processed', state.totalCommands],
    ['instantaneous_ops_per_sec', state.instantaneousOpsPerSec()],
    ['total_net_input_bytes', state.netInputBytes],
    ['total_net_output_bytes', state.netOutputBytes],
    // Redis's master/replica stream: none here (replication is Shoal's own, between nodes).
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', kbps.input],
    ['instantaneous_output_kbps', kbps.output],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', state.rejectedConnections],
    ['rate_limited_commands', state.rateLimitedCommands],
    // Not counted: a value past its expiry is dropped by the read that finds it, then kept as a
    // record until the tombstone grace has passed, so no moment is "the key expired" (docs/REDIS.md).
    ['expired_keys', 0],
    ['evicted_keys', state.evictedKeys],
    ['keyspace_hits', ctx.server.stats.keyspaceHits],
    ['keyspace_misses', ctx.server.stats.keyspaceMisses],
    // The one channel Shoal serves (pubsub-commands.ts), while some connection is subscribed to it.
    ['pubsub_channels', [...state.clients.values()].some((c) => c.invalidationChannel) ? 1 : 0],
    ['pubsub_patterns', 0],
    ['total_error_replies', state.errorReplies],
    ['unexpected_error_replies', 0],
  ];
}

function replicationSection(): Fields {
  // Replication in Shoal is per partition and not Redis's master/replica: each node is a master.
  return [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', RUN_ID],
    ['master_replid2', '0000000000000000000000000000000000000000'],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
  ];
}

/**
 * Redis 7.0's `cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..`
 * for every command counted since the start or CONFIG RESETSTAT, in the order first counted
 * (Redis's is its command table's hash order). A rejected command did not run: arity, ACL,
 * CROSSSLOT or MOVED; a failed one ran and answered an error.
 */
function commandstatsSection(state: RespServerState): Fields {
  return [...state.commandStats].map(([name, stat]) => {
    const perCall = stat.calls === 0 ? 0 : stat.micros / stat.calls;
    return [`cmdstat_${name}`, `calls=${stat.calls},usec=${stat.micros},usec_per_call=${perCall.toFixed(2)},rejected_calls=${stat.rejected},failed_calls=${stat.failed}`];
  });
}

/** Redis 7.0's `errorstat_<code>:count=N`, codes in byte order (Redis keeps them in a radix tree). */
function errorstatsSection(state: RespServerState): Fields {
  return [...state.errorStats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, count]) => [`errorstat_${code}`, `count=${count}`]);
}

function cpuSection(): Fields {
  const usage = process.cpuUsage();
  return [
    ['used_cpu_sys', (usage.system / 1e6).toFixed(6)],
    ['used_cpu_user', (usage.user / 1e6).toFixed(6)],
    // Shoal forks no children (Redis's are its RDB/AOF savers).
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
  ];
}

function shoalSection(ctx: CommandContext, state: RespServerState): Fields {
  const topology = ctx.server.topology();
  // What maxmemory bounds: the bytes the node's store charges its records (used_memory is the whole process's heap).
  const store = ctx.server.storeMemory?.();
  return [
    ...Object.entries(state.describe()),
    ...(store === undefined ? [] : ([['store_used_memory', store.bytes], ['store_used_memory_human', human(store.bytes)], ['store_records', store.entries]] as Fields)),
    ['ring_version', topology.version],
    ['members', topology.nodes.length],
    ['partitions', topology.partitions],
    ['replicas', topology.replicas],
    ['resp_port', state.port],
    ['resp_protocol_errors', state.protocolErrors],
    ['resp_peak_connection_buffer_bytes', state.peakConnectionBufferBytes],
    ['resp_output_limit_disconnections', state.outputLimitClosed],
  ];
}

/**
 * The keyspace section: `db0:keys=N,expires=0,avg_ttl=0` as Redis prints it, N summed from every
 * partition's count (an owner's count; approximate under churn). Counting needs the keyspace, so
 * this part is asynchronous; when counting fails the section is empty, as Redis's is for an empty
 * database.
 */
function countKeys(ctx: CommandContext, done: (keys: number | null) => void): void {
  // Clients ask INFO on every connect (ioredis's ready check): one count a second serves them all.
  // Keyed by the listener's state: each connection sees its own view of the keyspace (connection.ts).
  const owner: object = ctx.server.state ?? ctx.server;
  const cached = keyCounts.get(owner);
  const now = ctx.server.nowMs();
  if (cached !== undefined && now - cached.atMs < KEY_COUNT_TTL_MS) return done(cached.keys);
  countAllPartitions(ctx, (keys) => {
    if (keys !== null) keyCounts.set(owner, { atMs: now, keys });
    done(keys);
  });
}

const KEY_COUNT_TTL_MS = 1000;
const keyCounts = new WeakMap<object, { atMs: number; keys: number }>();

function countAllPartitions(ctx: CommandContext, done: (keys: number | null) => void): void {
  const partitions = ctx.server.topology().partitions;
  let pending = partitions;
  let total = 0;
  let failed = false;
  if (pending === 0) return done(0);
  // A keyspace without scans (a plain KvService in tests) has no count to give.
  if (typeof ctx.server.keyspace.countPartition !== 'function') return done(null);
  for (let p = 0; p < partitions; p++) {
    ctx.server.keyspace.countPartition(p, (error, count) => {
      if (error !== null) failed = true;
      else total += count ?? 0;
      if (--pending === 0) done(failed ? null : total);
    });
  }
}

function render(sections: [string, Fields][]): string {
  return sections
    .map(([title, fields]) => `# ${title}\r\n` + fields.map(([k, v]) => `${k}:${v}\r\n`).join(''))
    .join('\r\n');
}

const TITLES: Record<string, string> = {
  server: 'Server',
  clients: 'Clients',
  memory: 'Memory',
  persistence: 'Persistence',
  stats: 'Stats',
  replication: 'Replication',
  cpu: 'CPU',
  commandstats: 'Commandstats',
  errorstats: 'Errorstats',
  cluster: 'Cluster',
  keyspace: 'Keyspace',
  shoal: 'Shoal',
};

export function runInfo(ctx: CommandContext, args: Uint8Array[], reply: ReplyWriter, done: () => void, version: string): void {
  const state = ctx.server.state;
  if (state === undefined) {
    reply.error('ERR this command needs a RESP listener');
    return done();
  }
  const asked = args.slice(1).map((a) => Buffer.from(a).toString('utf8').toLowerCase());
  let wanted: string[];
  if (asked.includes('all') || asked.includes('everything')) wanted = ALL_SECTIONS;
  else if (asked.length === 0 || asked.includes('default')) wanted = DEFAULT_SECTIONS;
  else wanted = ALL_SECTIONS.filter((s) => asked.includes(s));
  const build = (keys: number | null): void => {
    const sections: [string, Fields][] = [];
    for (const name of wanted) {
      let fields: Fields;
      switch (name) {
        case 'server': fields = serverSection(ctx, state, version); break;
        case 'clients': fields = clientsSection(state); break;
        case 'memory': fields = memorySection(state); break;
        case 'persistence': fields = persistenceSection(); break;
        case 'stats': fields = statsSection(ctx, state); break;
        case 'replication': fields = replicationSection(); break;
        case 'cpu': fields = cpuSection(); break;
        case 'commandstats': fields = commandstatsSection(state); break;
        case 'errorstats': fields = errorstatsSection(state); break;
        case 'cluster': fields = [['cluster_enabled', 1]]; break;
        case 'keyspace': fields = keys !== null && keys > 0 ? [['db0', `keys=${keys},expires=0,avg_ttl=0`]] : []; break;
        default: fields = shoalSection(ctx, state);
      }
      sections.push([TITLES[name]!, fields]);
    }
    reply.verbatim('txt', render(sections));
    done();
  };
  if (wanted.includes('keyspace')) countKeys(ctx, build);
  else build(null);
}

export function makeInfoCommand(version: string): CommandSpec {
  return {
    name: 'info',
    arity: -1,
    flags: ['loading', 'stale'],
    keys: [0, 0, 0],
    categories: ['slow', 'dangerous'],
    run: (ctx, args, reply, done) => runInfo(ctx, args, reply, done, version),
  };
}
