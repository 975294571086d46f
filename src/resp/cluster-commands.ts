/**
 * Redis Cluster's commands, answered from the node's cluster view (cluster-view.ts): CLUSTER
 * SLOTS, SHARDS, NODES, INFO, MYID, KEYSLOT, HELP, and READONLY, READWRITE, ASKING. Replies have
 * Redis 7.0's shapes in RESP2 and RESP3.
 *
 * Shoal's replicas do not fit Redis's master/replica pairs: every node is the primary of some
 * slot ranges and a replica of others. SLOTS and SHARDS list each range with its own primary and
 * replicas; NODES, which can only call a node master or replica, lists every node as a master
 * with the slots it is primary of. Slots are placed by the ring, not by hand, so the commands
 * that assign slots or change the topology get an error that says what to do instead.
 */
import { keySlot } from '../ring/slots.ts';
import { documented, type CommandContext, type CommandSpec, type ReplyWriter } from './command.ts';
import type { ClusterLayout, SlotRange } from './cluster-layout.ts';
import type { ClusterMember, ClusterView } from './cluster-view.ts';
import { clusterKeyspaceSubcommands } from './keyspace-commands.ts';

type Run = CommandSpec['run'];

const NO_KEYS = [0, 0, 0] as const;

/** Redis's reply when cluster support is off; here: a RESP server started without a cluster view. */
export const CLUSTER_DISABLED_ERROR = 'ERR This instance has cluster support disabled';

function sub(name: string, arity: number, flags: string[], run: Run): CommandSpec {
  return { name, arity, flags, keys: NO_KEYS, categories: ['slow'], run };
}

/** Runs `body` with the cluster view, or answers Redis's "cluster support disabled" error. */
function withView(body: (view: ClusterView, ctx: CommandContext, args: Uint8Array[], reply: ReplyWriter) => void): Run {
  return (ctx, args, reply, done) => {
    const view = ctx.server.cluster;
    if (view === undefined) reply.error(CLUSTER_DISABLED_ERROR);
    else body(view, ctx, args, reply);
    done();
  };
}

// ---- SLOTS ----

/** One node of a CLUSTER SLOTS entry: host, port, id, and (Redis 7) a map of extra endpoints. */
function writeSlotsNode(reply: ReplyWriter, member: ClusterMember): void {
  reply.array(4);
  reply.bulk(member.resp?.host ?? '');
  reply.integer(member.resp?.port ?? 0);
  reply.bulk(member.id);
  reply.map(0);
}

export function writeClusterSlots(reply: ReplyWriter, ranges: readonly SlotRange[]): void {
  reply.array(ranges.length);
  for (const range of ranges) {
    reply.array(3 + range.replicas.length);
    reply.integer(range.start);
    reply.integer(range.end);
    writeSlotsNode(reply, range.primary);
    for (const replica of range.replicas) writeSlotsNode(reply, replica);
  }
}

// ---- SHARDS ----

interface Shard {
  slots: [number, number][];
  nodes: ClusterMember[];
}

/** Ranges grouped by their node list (primary, then replicas), in order of first slot; then slotless members. */
export function shardsOf(layout: ClusterLayout, members: ReadonlyMap<string, ClusterMember>): Shard[] {
  const byNodes = new Map<string, Shard>();
  const covered = new Set<string>();
  for (const range of layout.ranges()) {
    const nodes = [range.primary, ...range.replicas];
    const key = nodes.map((n) => n.name).join('\u0000');
    let shard = byNodes.get(key);
    if (shard === undefined) byNodes.set(key, (shard = { slots: [], nodes }));
    const last = shard.slots[shard.slots.length - 1];
    if (last !== undefined && last[1] === range.start - 1) last[1] = range.end;
    else shard.slots.push([range.start, range.end]);
    for (const n of nodes) covered.add(n.name);
  }
  const shards = [...byNodes.values()];
  // Redis lists a master without slots as a shard of its own: a node joining, or without RESP owners.
  for (const member of members.values()) if (!covered.has(member.name)) shards.push({ slots: [], nodes: [member] });
  return shards;
}

function writeShardNode(reply: ReplyWriter, member: ClusterMember, role: 'master' | 'replica'): void {
  reply.map(7);
  reply.bulk('id');
  reply.bulk(member.id);
  reply.bulk('port');
  reply.integer(member.resp?.port ?? 0);
  reply.bulk('ip');
  reply.bulk(member.resp?.host ?? '');
  reply.bulk('endpoint');
  reply.bulk(member.resp?.host ?? '');
  reply.bulk('role');
  reply.bulk(role);
  reply.bulk('replication-offset');
  reply.integer(0);
  reply.bulk('health');
  // Redis reports a node in PFAIL (our suspect) as online; only FAIL is 'failed'.
  reply.bulk(member.liveness === 'dead' ? 'failed' : 'online');
}

export function writeClusterShards(reply: ReplyWriter, shards: readonly Shard[]): void {
  reply.array(shards.length);
  for (const shard of shards) {
    reply.map(2);
    reply.bulk('slots');
    reply.array(shard.slots.length * 2);
    for (const [start, end] of shard.slots) {
      reply.integer(start);
      reply.integer(end);
    }
    reply.bulk('nodes');
    reply.array(shard.nodes.length);
    shard.nodes.forEach((node, i) => writeShardNode(reply, node, i === 0 ? 'master' : 'replica'));
  }
}

// ---- NODES ----

/**
 * CLUSTER NODES: one line per member, as Redis 7.0 writes it:
 * `<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...`
 * Every member is a master ('-' master id); ping/pong times and epochs are 0 (Shoal has no
 * cluster bus; gossip keeps its own clocks). The cluster bus port is the node-to-node port.
 */
export function clusterNodesText(layout: ClusterLayout, members: ReadonlyMap<string, ClusterMember>): string {
  const names = [...members.keys()].sort();
  let text = '';
  for (const name of names) {
    const m = members.get(name)!;
    const flags: string[] = [];
    if (m.self) flags.push('myself');
    flags.push('master');
    if (m.liveness === 'suspect') flags.push('fail?');
    if (m.liveness === 'dead') flags.push('fail');
    if (m.resp === null) flags.push('noaddr');
    const address = m.resp === null ? `:0@0` : `${m.resp.host}:${m.resp.port}@${m.busPort}`;
    const link = m.liveness === 'dead' ? 'disconnected' : 'connected';
    const slots = layout.primarySlots(name).map(([start, end]) => (start === end ? `${start}` : `${start}-${end}`));
    text += [m.id, address, flags.join(','), '-', '0', '0', '0', link, ...slots].join(' ') + '\n';
  }
  return text;
}

// ---- INFO ----

/** CLUSTER INFO's text, Redis 7.0's fields in Redis's order. */
export function clusterInfoText(layout: ClusterLayout, members: ReadonlyMap<string, ClusterMember>): string {
  const health = layout.health();
  const fields: [string, string | number][] = [
    ['cluster_state', health.ok ? 'ok' : 'fail'],
    ['cluster_slots_assigned', health.assigned],
    ['cluster_slots_ok', health.slotsOk],
    ['cluster_slots_pfail', health.slotsPfail],
    ['cluster_slots_fail', health.slotsFail],
    ['cluster_known_nodes', members.size],
    ['cluster_size', layout.size()],
    // No config epochs: slots move with the ring, whose version clients cannot compare anyway.
    ['cluster_current_epoch', 0],
    ['cluster_my_epoch', 0],
    // No cluster bus: gossip carries membership.
    ['cluster_stats_messages_sent', 0],
    ['cluster_stats_messages_received', 0],
    ['total_cluster_links_buffer_limit_exceeded', 0],
  ];
  return fields.map(([name, value]) => `${name}:${value}\r\n`).join('');
}

// ---- the CLUSTER command ----

const slots = sub('slots', 2, ['stale'], withView((view, _ctx, _args, reply) => writeClusterSlots(reply, view.layout().ranges())));
const shards = sub('shards', 2, ['stale'], withView((view, _ctx, _args, reply) => writeClusterShards(reply, shardsOf(view.layout(), view.members()))));
const nodes = sub('nodes', 2, ['stale'], withView((view, _ctx, _args, reply) => reply.verbatim('txt', clusterNodesText(view.layout(), view.members()))));
const info = sub('info', 2, ['stale'], withView((view, _ctx, _args, reply) => reply.verbatim('txt', clusterInfoText(view.layout(), view.members()))));
const myid = sub('myid', 2, ['stale'], withView((view, _ctx, _args, reply) => reply.bulk(view.selfId)));
const keyslot = sub('keyslot', 3, ['stale'], withView((_view, _ctx, args, reply) => reply.integer(keySlot(args[2]!))));

/** Redis 7.0's topology commands Shoal does not take (the ring places slots from gossip membership), with Redis's flags. */
const RESHARDING = ['admin', 'stale', 'no_async_loading'];
const MANAGEMENT: readonly [name: string, arity: number, flags: string[]][] = [
  ['addslots', -3, RESHARDING],
  ['addslotsrange', -4, RESHARDING],
  ['delslots', -3, RESHARDING],
  ['delslotsrange', -4, RESHARDING],
  ['flushslots', 2, RESHARDING],
  ['setslot', -4, RESHARDING],
  ['meet', -4, RESHARDING],
  ['forget', 3, RESHARDING],
  ['replicate', 3, RESHARDING],
  ['failover', -2, RESHARDING],
  ['reset', -2, ['admin', 'noscript', 'stale']],
  ['set-config-epoch', 3, RESHARDING],
  ['bumpepoch', 2, RESHARDING],
  ['saveconfig', 2, RESHARDING],
  ['count-failure-reports', 3, ['admin', 'stale']],
  ['replicas', 3, ['admin', 'stale']],
  ['slaves', 3, ['admin', 'stale']],
  ['links', 2, ['stale']],
];

const management = MANAGEMENT.map(([name, arity, flags]) => ({
  // Redis 7.0's ACL categories for these (ACL CAT admin / dangerous list them).
  ...sub(name, arity, flags, (_ctx, _args, reply, done) => {
    reply.error(
      `ERR CLUSTER ${name.toUpperCase()} is not supported: Shoal places slots itself (each node's ring ` +
        `assigns partitions from gossip membership); add a node by starting it with --seeds, remove one by stopping it`,
    );
    done();
  }),
  categories: name === 'links' ? ['slow'] : ['admin', 'slow', 'dangerous'],
}));

const help = sub('help', 2, ['loading', 'stale'], (_ctx, _args, reply, done) => {
  const lines = [
    'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'COUNTKEYSINSLOT <slot>',
    '    Return the number of keys in <slot>.',
    'GETKEYSINSLOT <slot> <count>',
    '    Return key names stored by current node in a slot.',
    'INFO',
    '    Return information about the cluster.',
    'KEYSLOT <key>',
    '    Return the hash slot for <key>.',
    'MYID',
    '    Return the node id.',
    'NODES',
    '    Return cluster configuration seen by node. Output format:',
    '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
    'SLOTS',
    '    Return information about slots range mappings. Each range is made of:',
    '    start, end, master and replicas IP addresses, ports and ids',
    'SHARDS',
    '    Return information about slot range mappings and the nodes associated with them.',
    'HELP',
    '    Prints this help.',
  ];
  reply.array(lines.length);
  for (const line of lines) reply.simple(line);
  done();
});

/**
 * The CLUSTER command. `extra` takes subcommands other modules own (COUNTKEYSINSLOT and
 * GETKEYSINSLOT: resp-scan's keyspace walk).
 */
export function clusterCommand(extra: readonly CommandSpec[] = []): CommandSpec {
  return {
    name: 'cluster',
    arity: -2,
    flags: [],
    keys: NO_KEYS,
    categories: ['slow'],
    run: (_ctx, _args, reply, done) => {
      reply.error('ERR unknown subcommand');
      done();
    },
    subcommands: [slots, shards, nodes, info, myid, keyslot, ...extra, ...management, help],
  };
}

const connectionFlag = (name: string, readonly: boolean): CommandSpec => ({
  name,
  arity: 1,
  flags: ['loading', 'stale', 'fast'],
  keys: NO_KEYS,
  categories: ['fast', 'connection'],
  run: withView((_view, ctx, _args, reply) => {
    ctx.connection.readonly = readonly;
    reply.ok();
  }),
});

/** READONLY: this connection's reads may be served by any replica of the key (no MOVED for them). */
export const readonlyCommand = connectionFlag('readonly', true);
export const readwriteCommand = connectionFlag('readwrite', false);

/** ASKING: Shoal never answers ASK (slots move with the ring, not one by one), so there is nothing to allow. */
export const askingCommand: CommandSpec = {
  name: 'asking',
  arity: 1,
  flags: ['fast'],
  keys: NO_KEYS,
  categories: ['fast', 'connection'],
  run: withView((_view, _ctx, _args, reply) => reply.ok()),
};

/** This module's commands, for the command table (commands.ts). */
export const clusterCommands: readonly CommandSpec[] = [
  documented(clusterCommand(clusterKeyspaceSubcommands), { summary: 'A container for cluster commands', since: '3.0.0', group: 'cluster', complexity: 'Depends on subcommand.' }, {
    slots: { summary: 'Get array of Cluster slot to node mappings', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of Cluster nodes', docFlags: ['deprecated'], deprecatedSince: '7.0.0', replacedBy: '`CLUSTER SHARDS`', history: [['4.0.0', 'Added node IDs.'], ['7.0.0', 'Added additional networking metadata field.']] },
    shards: { summary: 'Get array of cluster slots to node mappings', since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of cluster nodes' },
    nodes: { summary: 'Get Cluster config for the node', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of Cluster nodes' },
    info: { summary: 'Provides info about Redis Cluster node state', since: '3.0.0', group: 'cluster', complexity: 'O(1)' },
    myid: { summary: 'Return the node id', since: '3.0.0', group: 'cluster', complexity: 'O(1)' },
    keyslot: { summary: 'Returns the hash slot of the specified key', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the number of bytes in the key', arguments: [{ name: 'key', type: 'string' }] },
    countkeysinslot: { summary: 'Return the number of local keys in the specified hash slot', since: '3.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'slot', type: 'integer' }] },
    getkeysinslot: { summary: 'Return local key names in the specified hash slot', since: '3.0.0', group: 'cluster', complexity: 'O(log(N)) where N is the number of requested keys', arguments: [{ name: 'slot', type: 'integer' }, { name: 'count', type: 'integer' }] },
    addslots: { summary: 'Assign new hash slots to receiving node', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of hash slot arguments', arguments: [{ name: 'slot', type: 'integer', flags: ['multiple'] }] },
    addslotsrange: { summary: 'Assign new hash slots to receiving node', since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of the slots between the start slot and end slot arguments.', arguments: [{ name: 'start-slot_end-slot', type: 'block', flags: ['multiple'], arguments: [{ name: 'start-slot', type: 'integer' }, { name: 'end-slot', type: 'integer' }] }] },
    delslots: { summary: 'Set hash slots as unbound in receiving node', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of hash slot arguments', arguments: [{ name: 'slot', type: 'integer', flags: ['multiple'] }] },
    delslotsrange: { summary: 'Set hash slots as unbound in receiving node', since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of the slots between the start slot and end slot arguments.', arguments: [{ name: 'start-slot_end-slot', type: 'block', flags: ['multiple'], arguments: [{ name: 'start-slot', type: 'integer' }, { name: 'end-slot', type: 'integer' }] }] },
    flushslots: { summary: 'Delete a node\'s own slots information', since: '3.0.0', group: 'cluster', complexity: 'O(1)' },
    setslot: { summary: 'Bind a hash slot to a specific node', since: '3.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'slot', type: 'integer' }, { name: 'subcommand', type: 'oneof', arguments: [{ name: 'node-id', type: 'string', token: 'IMPORTING' }, { name: 'node-id', type: 'string', token: 'MIGRATING' }, { name: 'node-id', type: 'string', token: 'NODE' }, { name: 'stable', type: 'pure-token', token: 'STABLE' }] }] },
    meet: { summary: 'Force a node cluster to handshake with another node', since: '3.0.0', group: 'cluster', complexity: 'O(1)', history: [['4.0.0', 'Added the optional `cluster_bus_port` argument.']], arguments: [{ name: 'ip', type: 'string' }, { name: 'port', type: 'integer' }, { name: 'cluster_bus_port', type: 'integer', since: '4.0.0', flags: ['optional'] }] },
    forget: { summary: 'Remove a node from the nodes table', since: '3.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'node-id', type: 'string' }] },
    replicate: { summary: 'Reconfigure a node as a replica of the specified master node', since: '3.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'node-id', type: 'string' }] },
    failover: { summary: 'Forces a replica to perform a manual failover of its master.', since: '3.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'options', type: 'oneof', flags: ['optional'], arguments: [{ name: 'force', type: 'pure-token', token: 'FORCE' }, { name: 'takeover', type: 'pure-token', token: 'TAKEOVER' }] }] },
    reset: { summary: 'Reset a Redis Cluster node', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.', arguments: [{ name: 'hard_soft', type: 'oneof', flags: ['optional'], arguments: [{ name: 'hard', type: 'pure-token', token: 'HARD' }, { name: 'soft', type: 'pure-token', token: 'SOFT' }] }] },
    'set-config-epoch': { summary: 'Set the configuration epoch in a new node', since: '3.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'config-epoch', type: 'integer' }] },
    bumpepoch: { summary: 'Advance the cluster config epoch', since: '3.0.0', group: 'cluster', complexity: 'O(1)' },
    saveconfig: { summary: 'Forces the node to save cluster state on disk', since: '3.0.0', group: 'cluster', complexity: 'O(1)' },
    'count-failure-reports': { summary: 'Return the number of failure reports active for a given node', since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the number of failure reports', arguments: [{ name: 'node-id', type: 'string' }] },
    replicas: { summary: 'List replica nodes of the specified master node', since: '5.0.0', group: 'cluster', complexity: 'O(1)', arguments: [{ name: 'node-id', type: 'string' }] },
    slaves: { summary: 'List replica nodes of the specified master node', since: '3.0.0', group: 'cluster', complexity: 'O(1)', docFlags: ['deprecated'], deprecatedSince: '5.0.0', replacedBy: '`CLUSTER REPLICAS`', arguments: [{ name: 'node-id', type: 'string' }] },
    links: { summary: 'Returns a list of all TCP links to and from peer nodes in cluster', since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the total number of Cluster nodes' },
    help: { summary: 'Show helpful text about the different subcommands', since: '5.0.0', group: 'cluster', complexity: 'O(1)' },
  }),
  documented(readonlyCommand, { summary: 'Enables read queries for a connection to a cluster replica node', since: '3.0.0', group: 'cluster', complexity: 'O(1)' }),
  documented(readwriteCommand, { summary: 'Disables read queries for a connection to a cluster replica node', since: '3.0.0', group: 'cluster', complexity: 'O(1)' }),
  documented(askingCommand, { summary: 'Sent by cluster clients after an -ASK redirect', since: '3.0.0', group: 'cluster', complexity: 'O(1)' }),
];
