import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandContext, CommandSpec, ConnectionState, RespServerContext } from '../../src/resp/command.ts';
import { CommandTable } from '../../src/resp/commands.ts';
import { clusterCommands, clusterNodesText } from '../../src/resp/cluster-commands.ts';
import { createClusterView, nodeIdOf, splitAddress, type SourceMember } from '../../src/resp/cluster-view.ts';
import { CROSSSLOT_ERROR, createRouter } from '../../src/resp/redirect.ts';
import { ReplySink, RespReplyWriter } from '../../src/resp/writer.ts';
import type { KeyspaceService, TopologySnapshot } from '../../src/replication/api.ts';
import { keySlot, slotToPartition } from '../../src/ring/slots.ts';

const ROUND_MS = 100;

/** Three members a (this node), b, c over 8 partitions (2048 slots each). */
function fixture() {
  const clock = { now: 1_000 };
  const owners = [['a', 'b'], ['a', 'b'], ['b', 'c'], ['b', 'a'], ['c', 'a'], ['c', 'a'], ['c', 'a'], ['a', 'c']];
  const topology: TopologySnapshot = { version: 'v1', partitions: 8, replicas: 2, nodes: [], owners };
  const members: SourceMember[] = ['a', 'b', 'c'].map((name, i) => ({
    name,
    zone: '',
    state: 'alive',
    peerAddress: `127.0.0.1:${7401 + 10 * i}`,
    respAddress: `127.0.0.1:${7402 + 10 * i}`,
  }));
  const source = {
    self: 'a',
    nowMs: () => clock.now,
    topology: () => topology,
    members: () => members,
    gossipRoundMs: ROUND_MS,
  };
  const view = createClusterView(source);
  return { clock, topology, members, view, source };
}

/** A key whose slot is in `partition` (of 8) and not in `avoidSlot`. */
function keyIn(partition: number, prefix = 'k'): string {
  for (let i = 0; ; i++) if (slotToPartition(keySlot(`${prefix}${i}`), 8) === partition) return `${prefix}${i}`;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const spec = (name: string, keys: [number, number, number], flags: string[]): CommandSpec => ({ name, arity: -2, flags, keys, categories: [], run: () => {} });
const GET = spec('get', [1, 1, 1], ['readonly', 'fast']);
const SET = spec('set', [1, 1, 1], ['write', 'denyoom']);
const MGET = spec('mget', [1, -1, 1], ['readonly', 'fast']);
const MSETNX = spec('msetnx', [1, -1, 2], ['write', 'denyoom']);
const RENAME = spec('rename', [1, 2, 1], ['write']);
const connection = (): ConnectionState => ({ id: 1, name: '', protocol: 2, address: '127.0.0.1:5000', readonly: false, closeAfterReply: false });
const args = (...parts: string[]): Uint8Array[] => parts.map(utf8);

test('node ids are 40 hex digits derived from the name; addresses split as Redis prints them', () => {
  assert.match(nodeIdOf('n1'), /^[0-9a-f]{40}$/);
  assert.equal(nodeIdOf('n1'), nodeIdOf('n1'));
  assert.notEqual(nodeIdOf('n1'), nodeIdOf('n2'));
  assert.deepEqual(splitAddress('127.0.0.1:7402'), { host: '127.0.0.1', port: 7402 });
  assert.deepEqual(splitAddress('[::1]:7402'), { host: '::1', port: 7402 });
  assert.equal(splitAddress('nohost'), null);
});

test('slot ranges sit under their primary with their replicas, adjacent equal ranges merged', () => {
  const { view } = fixture();
  const ranges = view.layout().ranges().map((r) => [r.start, r.end, r.primary.name, ...r.replicas.map((m) => m.name)]);
  assert.deepEqual(ranges, [
    [0, 4095, 'a', 'b'],
    [4096, 6143, 'b', 'c'],
    [6144, 8191, 'b', 'a'],
    [8192, 14335, 'c', 'a'],
    [14336, 16383, 'a', 'c'],
  ]);
});

test('a dead owner is skipped: the next live owner becomes the primary, and the ranges merge anew', () => {
  const { view, members, clock } = fixture();
  members[1]!.state = 'dead';
  clock.now += 1_000; // past the member refresh
  const ranges = view.layout().ranges().map((r) => [r.start, r.end, r.primary.name, ...r.replicas.map((m) => m.name)]);
  assert.deepEqual(ranges, [
    [0, 4095, 'a'],
    [4096, 6143, 'c'],
    [6144, 8191, 'a'],
    [8192, 14335, 'c', 'a'],
    [14336, 16383, 'a', 'c'],
  ]);
});

test('CLUSTER NODES lists every member as a master with its primary slots, in Redis 7.0 line format', () => {
  const { view, members, clock } = fixture();
  members[2]!.state = 'suspect';
  clock.now += 1_000;
  const [a, b, c] = ['a', 'b', 'c'].map(nodeIdOf);
  assert.equal(
    clusterNodesText(view.layout(), view.members()),
    `${a} 127.0.0.1:7402@7401 myself,master - 0 0 0 connected 0-4095 14336-16383\n` +
      `${b} 127.0.0.1:7412@7411 master - 0 0 0 connected 4096-8191\n` +
      `${c} 127.0.0.1:7422@7421 master,fail? - 0 0 0 connected 8192-14335\n`,
  );
});

/** Runs one command through the command table (with only the cluster commands) and returns its reply bytes. */
function run(view: ReturnType<typeof fixture>['view'] | undefined, protocol: 2 | 3, ...parts: string[]): string {
  const sink = new ReplySink(64);
  const writer = new RespReplyWriter(sink, { protocol });
  const server = {
    keyspace: {} as KeyspaceService,
    nowMs: () => 0,
    topology: () => view!.topology(),
    route: () => null,
    stats: { keyspaceHits: 0, keyspaceMisses: 0 },
    ...(view === undefined ? {} : { cluster: view }),
  } satisfies RespServerContext;
  const ctx: CommandContext = { server, connection: connection() };
  let done = 0;
  new CommandTable([clusterCommands]).dispatch(ctx, args(...parts), writer, () => done++);
  assert.equal(done, 1);
  return Buffer.concat(sink.take()).toString('latin1');
}

test('CLUSTER SLOTS, SHARDS, INFO, MYID, KEYSLOT in Redis 7.0 shapes (RESP2 and RESP3)', () => {
  const { view } = fixture();
  const a = nodeIdOf('a');
  const b = nodeIdOf('b');
  const node2 = (port: number, id: string) => `*4\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${id}\r\n*0\r\n`;
  const slots2 = run(view, 2, 'CLUSTER', 'SLOTS');
  assert.ok(slots2.startsWith(`*5\r\n*4\r\n:0\r\n:4095\r\n${node2(7402, a)}${node2(7412, b)}*4\r\n:4096\r\n`), slots2);
  assert.ok(run(view, 3, 'cluster', 'slots').includes(`$40\r\n${a}\r\n%0\r\n`));

  const shards3 = run(view, 3, 'CLUSTER', 'SHARDS');
  assert.ok(
    shards3.startsWith(
      `*5\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:4095\r\n$5\r\nnodes\r\n*2\r\n%7\r\n$2\r\nid\r\n$40\r\n${a}\r\n$4\r\nport\r\n:7402\r\n` +
        `$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n` +
        `$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%7\r\n`,
    ),
    shards3,
  );
  assert.ok(run(view, 2, 'CLUSTER', 'SHARDS').startsWith('*5\r\n*4\r\n$5\r\nslots\r\n'));

  const info = run(view, 2, 'CLUSTER', 'INFO');
  assert.match(info, /^\$\d+\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:3\r\ncluster_size:3\r\n/);
  assert.match(run(view, 3, 'CLUSTER', 'INFO'), /^=\d+\r\ntxt:cluster_state:ok\r\n/);

  assert.equal(run(view, 2, 'CLUSTER', 'MYID'), `$40\r\n${a}\r\n`);
  assert.equal(run(view, 2, 'CLUSTER', 'KEYSLOT', '{user1000}.following'), ':3443\r\n');
  assert.equal(run(view, 2, 'CLUSTER', 'KEYSLOT'), "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n");
  assert.equal(run(view, 2, 'CLUSTER', 'NOPE'), "-ERR unknown subcommand 'NOPE'. Try CLUSTER HELP.\r\n");
  assert.match(run(view, 2, 'CLUSTER', 'ADDSLOTS', '1'), /^-ERR CLUSTER ADDSLOTS is not supported: Shoal places slots itself/);
  assert.match(run(view, 2, 'CLUSTER', 'MEET', '127.0.0.1', '7000'), /^-ERR CLUSTER MEET is not supported/);
  assert.equal(run(undefined, 2, 'CLUSTER', 'INFO'), '-ERR This instance has cluster support disabled\r\n');
});

test('CLUSTER INFO fails while a partition has no reachable owner', () => {
  const { view, members, clock } = fixture();
  members[1]!.state = 'dead';
  members[2]!.state = 'dead';
  clock.now += 1_000;
  // Partition 2 is owned by b and c only: its 2048 slots are unreachable.
  assert.match(run(view, 2, 'CLUSTER', 'INFO'), /cluster_state:fail\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:14336\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:2048\r\n/);
});

test('READONLY and READWRITE set the connection flag', () => {
  const { view } = fixture();
  const conn = connection();
  const server = { keyspace: {} as KeyspaceService, nowMs: () => 0, topology: () => view.topology(), route: () => null, stats: { keyspaceHits: 0, keyspaceMisses: 0 }, cluster: view };
  const table = new CommandTable([clusterCommands]);
  const sink = new ReplySink(64);
  const writer = new RespReplyWriter(sink, { protocol: 2 });
  table.dispatch({ server, connection: conn }, args('READONLY'), writer, () => {});
  assert.equal(conn.readonly, true);
  table.dispatch({ server, connection: conn }, args('readwrite'), writer, () => {});
  assert.equal(conn.readonly, false);
  assert.equal(Buffer.concat(sink.take()).toString(), '+OK\r\n+OK\r\n');
});

test('MOVED only once the ring has been stable for a few gossip rounds, never to itself', () => {
  const { view, clock } = fixture();
  const route = createRouter(view);
  const conn = connection();
  const onB = keyIn(2);
  const onA = keyIn(0);
  assert.equal(route(conn, GET, args('get', onB)), null, 'ring just seen: serve');
  clock.now += 3 * ROUND_MS;
  assert.equal(route(conn, GET, args('get', onB)), `MOVED ${keySlot(onB)} 127.0.0.1:7412`);
  assert.equal(route(conn, GET, args('get', onA)), null, 'this node is the primary');
});

test('never twice in a row for the same key and connection: the second time it is served', () => {
  const { view, clock } = fixture();
  clock.now += 10 * ROUND_MS;
  const route = createRouter(view);
  const conn = connection();
  const other = connection();
  const onB = keyIn(2);
  const moved = `MOVED ${keySlot(onB)} 127.0.0.1:7412`;
  assert.equal(route(conn, GET, args('get', onB)), moved);
  assert.equal(route(other, GET, args('get', onB)), moved, 'another connection is redirected on its own');
  assert.equal(route(conn, SET, args('set', onB, 'v')), null, 'same key again on the same connection: served');
  assert.equal(route(conn, GET, args('get', onB)), moved, 'not in a row any more');
  assert.equal(route(conn, GET, args('get', keyIn(2, 'x'))), moved.replace(String(keySlot(onB)), String(keySlot(keyIn(2, 'x')))));
});

test('no MOVED to a node not believed alive, nor while the ring changes', () => {
  const { view, clock, members, topology } = fixture();
  const route = createRouter(view);
  clock.now += 10 * ROUND_MS;
  const onB = keyIn(2);
  members[1]!.state = 'suspect';
  clock.now += 1_000;
  assert.equal(route(connection(), GET, args('get', onB)), null, 'suspect primary');
  members[1]!.state = 'dead';
  clock.now += 1_000;
  // b dead: partition 2's primary is c now, and c is alive.
  assert.equal(route(connection(), GET, args('get', onB)), `MOVED ${keySlot(onB)} 127.0.0.1:7422`);
  topology.version = 'v2';
  assert.equal(route(connection(), GET, args('get', onB)), null, 'ring changed: serve until stable again');
  clock.now += 3 * ROUND_MS;
  assert.notEqual(route(connection(), GET, args('get', onB)), null);
});

test('a READONLY connection reads here when this node holds a replica; writes still move', () => {
  const { view, clock } = fixture();
  clock.now += 10 * ROUND_MS;
  const route = createRouter(view);
  const conn = connection();
  conn.readonly = true;
  const onBReplicaA = keyIn(3); // owners [b, a]
  const onBOnly = keyIn(2); // owners [b, c]
  assert.equal(route(conn, GET, args('get', onBReplicaA)), null);
  assert.equal(route(conn, SET, args('set', onBReplicaA, 'v')), `MOVED ${keySlot(onBReplicaA)} 127.0.0.1:7412`);
  assert.equal(route(conn, GET, args('get', onBOnly)), `MOVED ${keySlot(onBOnly)} 127.0.0.1:7412`);
});

test('multi-key commands: across slots they run here, except MSETNX and RENAME (CROSSSLOT)', () => {
  const { view, clock } = fixture();
  clock.now += 10 * ROUND_MS;
  const route = createRouter(view);
  const conn = connection();
  const [k1, k2] = [keyIn(2), keyIn(5)];
  assert.equal(route(conn, MGET, args('mget', k1, k2)), null);
  assert.equal(route(conn, MSETNX, args('msetnx', k1, 'v', k2, 'v')), CROSSSLOT_ERROR);
  assert.equal(route(conn, RENAME, args('rename', k1, k2)), CROSSSLOT_ERROR);
  assert.equal(CROSSSLOT_ERROR, "CROSSSLOT Keys in request don't hash to the same slot");
  // One hash tag, one slot: no CROSSSLOT, and the slot's primary decides as for one key.
  const tag = `{${keyIn(2)}}`;
  assert.equal(route(conn, MSETNX, args('msetnx', `${tag}x`, 'v', `${tag}y`, 'v')), `MOVED ${keySlot(tag)} 127.0.0.1:7412`);
});
