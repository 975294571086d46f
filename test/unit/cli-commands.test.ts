/**
 * The client commands' pure parts: which node they talk to, the status table, the ring summary,
 * the status op's wire round trip, and what a closed stdout does.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { formatRing } from '../../src/cli/ring.ts';
import { summarize } from '../../src/ring/summary.ts';
import { formatStatus } from '../../src/cli/status.ts';
import { DEFAULT_NODE, NoNodeError, resolveNode } from '../../src/cli/target.ts';
import { UsageError } from '../../src/cli/args.ts';
import { exitQuietlyOnBrokenPipe } from '../../src/cli/main.ts';
import { decodeClientFrame, decodeServerFrame, encodeClientFrame, encodeReplies, type NodeStatus } from '../../src/protocol/index.ts';

const status: NodeStatus = {
  node: 'node1', cluster: 'shoal', zone: 'default', version: '0.1.0', uptimeMs: 65_000, joined: true, joining: null, ringVersion: 'abc',
  partitions: 8, replicas: 2, readQuorum: 1, writeQuorum: 2, held: 8, catchingUp: 1, toHandOff: 0, clientConnections: 1,
  members: [
    { name: 'node1', address: '127.0.0.1:7401', clientAddress: '127.0.0.1:7400', zone: 'default', state: 'alive', incarnation: 0, partitions: 8, primaries: 4 },
    { name: 'node2', address: '127.0.0.1:7411', clientAddress: '', zone: 'b', state: 'dead', incarnation: 3, partitions: 8, primaries: 4 },
  ],
};

test('--node beats SHOAL_NODE, which beats the dev default; a bad address is a usage error', () => {
  assert.equal(resolveNode({}, {}), DEFAULT_NODE);
  assert.equal(resolveNode({}, { SHOAL_NODE: 'h:1' }), 'h:1');
  assert.equal(resolveNode({ node: 'x:2' }, { SHOAL_NODE: 'h:1' }), 'x:2');
  assert.throws(() => resolveNode({ node: 'ws://x' }, {}), UsageError);
});

test('a --node port past 65535 or a host no URL holds is a usage error, and a bad SHOAL_NODE is named as such', () => {
  const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message);
  assert.throws(() => resolveNode({ node: '127.0.0.1:99999' }, {}), usage(/^--node "127\.0\.0\.1:99999" has port 99999, which is not from 1 to 65535/));
  assert.throws(() => resolveNode({ node: 'ws://127.0.0.1:99999/shoal' }, {}), usage(/^--node "ws:\/\/127\.0\.0\.1:99999\/shoal" is not HOST:PORT/));
  assert.throws(() => resolveNode({ node: 'h:0' }, {}), usage(/has port 0/));
  assert.throws(() => resolveNode({ node: 'a%b:80' }, {}), usage(/has host "a%b", which is neither an IP address nor a DNS name/));
  assert.throws(() => resolveNode({}, { SHOAL_NODE: 'garbage' }), usage(/^SHOAL_NODE "garbage" is not HOST:PORT/));
  assert.throws(() => resolveNode({}, { SHOAL_NODE: 'h:70000' }), usage(/^SHOAL_NODE "h:70000" has port 70000/));
  assert.throws(() => resolveNode({ node: 'garbage' }, { SHOAL_NODE: 'h:1' }), usage(/^--node "garbage"/));
  assert.equal(resolveNode({ node: 'h:65535' }, {}), 'h:65535');
});

test('--node also takes the client endpoint URL the SDK takes, and nothing else that looks like one', () => {
  assert.equal(resolveNode({ node: 'ws://127.0.0.1:7400' }, {}), '127.0.0.1:7400');
  assert.equal(resolveNode({ node: 'ws://127.0.0.1:7400/' }, {}), '127.0.0.1:7400');
  assert.equal(resolveNode({ node: 'ws://db.example:7400/shoal' }, {}), 'db.example:7400');
  assert.equal(resolveNode({ node: 'ws://[::1]:80/shoal' }, {}), '[::1]:80');
  assert.equal(resolveNode({}, { SHOAL_NODE: 'ws://h:1/shoal' }), 'h:1');
  // wss:// is the TLS client endpoint (the system's CAs unless --tls-ca / SHOAL_TLS_CA).
  assert.equal(resolveNode({ node: 'wss://h:1/shoal' }, {}), 'h:1');
  for (const bad of ['ws://h', 'ws://h:1/other', 'ws://h:1/shoal?x=1', 'ws://u@h:1', 'wss://h', 'http://h:1']) {
    assert.throws(() => resolveNode({ node: bad }, {}), /is not HOST:PORT or ws\(s\):\/\/HOST:PORT\/shoal/, bad);
  }
});

test('a closed pipe on stdout ends the command quietly with status 0; other write errors still throw', () => {
  const stream = new PassThrough();
  const exits: number[] = [];
  exitQuietlyOnBrokenPipe(stream, (status) => exits.push(status));
  stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  assert.deepEqual(exits, [0]);
  assert.throws(() => stream.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' })), /EIO/);
  assert.deepEqual(exits, [0]);
});

test('the no-node error names the address, the cause, and npm start', () => {
  const error = new NoNodeError('127.0.0.1:7400', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  assert.match(error.message, /^no Shoal node at 127\.0\.0\.1:7400 \(ECONNREFUSED\) — start one with `npm start`/);
});

test('the status table shows every member, marks the answering node, and counts states', () => {
  const text = formatStatus(status);
  assert.match(text, /node node1 \(cluster shoal, zone default, shoal 0\.1\.0\), up 1m 5s/);
  assert.match(text, /ring abc: 8 partitions, N=2 R=1 W=2/);
  assert.match(text, /held here: 8 partition replicas \(1 catching up, 0 to hand off\); 1 client connection\n/);
  assert.match(text, /node1 \*\s+alive\s+default\s+0\s+8\s+4\s+127\.0\.0\.1:7400\s+127\.0\.0\.1:7401/);
  assert.match(text, /node2\s+dead\s+b\s+3\s+8\s+4\s+-\s+127\.0\.0\.1:7411/);
  assert.match(text, /2 members: 1 alive, 1 dead/);
});

test('the ring summary counts replicas and primaries, measures balance and merges ranges', () => {
  const topology = {
    version: 'v1', partitions: 4, replicas: 2,
    nodes: [{ name: 'a', clientAddress: 'h:1', zone: 'z' }, { name: 'b', clientAddress: 'h:2', zone: 'z' }],
    owners: [['a', 'b'], ['a', 'b'], ['a', 'b'], ['b', 'a']],
  };
  const s = summarize(topology);
  assert.deepEqual(s.nodes.map((n) => [n.name, n.replicas, n.primaries]), [['a', 4, 3], ['b', 4, 1]]);
  assert.equal(s.replicaImbalance, 1);
  assert.equal(s.primaryImbalance, 1.5);
  assert.deepEqual(s.ranges, [{ first: 0, last: 2, owners: ['a', 'b'] }, { first: 3, last: 3, owners: ['b', 'a'] }]);
  assert.match(formatRing(s, true), /0-2\s+a, b\n3\s+b, a\n/);
});

test('the status op round-trips through the codec, and a malformed status map is rejected', () => {
  const request = decodeClientFrame(encodeClientFrame({ type: 'requests', requests: [{ op: 'status', id: 9 }] }));
  assert.deepEqual(request, { type: 'requests', requests: [{ op: 'status', id: 9 }] });
  const frame = decodeServerFrame(encodeReplies([{ id: 9, ok: true, result: { kind: 'status', status } }]));
  assert.deepEqual(frame, { type: 'replies', replies: [{ id: 9, ok: true, result: { kind: 'status', status } }] });
  const broken = { ...status, members: [{ ...status.members[0], incarnation: -1 }] } as NodeStatus;
  assert.throws(() => decodeServerFrame(encodeReplies([{ id: 9, ok: true, result: { kind: 'status', status: broken } }])), /member\.incarnation/);
});

test('a node still joining shows the configured N, R and W, not "N=0 R=1 W=1" nor an effective quorum over 0 replicas', () => {
  // What `shoal status` printed for `shoal start --seeds` of an unreachable seed (docs38): its ring is
  // empty until it joins, so the quorums in effect over "0 replicas" said nothing true.
  const joining: NodeStatus = {
    ...status,
    joined: false,
    joining: { waitingFor: 'seeds unreachable: 127.0.0.1:26999 (connection refused)' },
    ringVersion: 'not-joined',
    replicas: 0,
    readQuorum: 2,
    writeQuorum: 2,
    requests: { configuredReplicas: 3, effectiveReadQuorum: 1, effectiveWriteQuorum: 1, misses: { absent: 0, deleted: 0, expired: 0, evicted: 0 } },
  };
  const text = formatStatus(joining);
  assert.match(text, /\nring not-joined: 8 partitions, no replicas yet \(N=3 R=2 W=2 configured\)\n/);
  assert.doesNotMatch(text, /N=0|effective quorum|0 replicas while/);
});

test('a joining node says what it waits for, and a refused member shows as refused with its reason, through the codec too', () => {
  const joining: NodeStatus = {
    ...status,
    joined: false,
    joining: { waitingFor: 'seeds unreachable: 127.0.0.1:7401 (connection refused)' },
    members: [
      status.members[0]!,
      { name: 'odd', address: '127.0.0.1:7421', clientAddress: '', zone: '', state: 'refused', reason: 'it belongs to cluster "prod"', incarnation: 0, partitions: 0, primaries: 0 },
    ],
  };
  const text = formatStatus(joining);
  assert.match(text, /, still joining\nwaiting for: seeds unreachable: 127\.0\.0\.1:7401 \(connection refused\)\n/);
  assert.match(text, /odd\s+refused\s/);
  assert.match(text, /odd \(127\.0\.0\.1:7421\) is refused: it belongs to cluster "prod"\n/);
  const frame = decodeServerFrame(encodeReplies([{ id: 3, ok: true, result: { kind: 'status', status: joining } }]));
  assert.deepEqual(frame, { type: 'replies', replies: [{ id: 3, ok: true, result: { kind: 'status', status: joining } }] });
  // A status from a node that predates the field decodes as joined-or-unknown: null.
  const { joining: _omitted, ...older } = joining;
  const decoded = decodeServerFrame(encodeReplies([{ id: 4, ok: true, result: { kind: 'status', status: older as NodeStatus } }]));
  assert.equal(decoded.type === 'replies' && decoded.replies[0]!.ok && decoded.replies[0]!.result.kind === 'status' ? decoded.replies[0]!.result.status.joining : 'x', null);
});

test('status shows a catch-up while it lasts, and the last one once done; the field round-trips and is checked', () => {
  const catchUp = { partitionsLeft: 17, partitions: 64, keysReceived: 1234, bytesReceived: 3 * 1024 * 1024, keysEvictedAtSource: 20, elapsedMs: 75_000 };
  assert.match(
    formatStatus({ ...status, catchUp }),
    /held here: .*\ncatching up: 17 of 64 partitions left after 1m 15s \(their reads do not count yet\); 1234 keys \(3\.0 MiB\) received, 20 evicted at their source \(versions kept, values gone\)\n\n/,
  );
  assert.match(formatStatus({ ...status, catchUp: { ...catchUp, partitionsLeft: 0 } }), /\nlast catch-up: 64 partitions in 1m 15s; 1234 keys/);
  assert.doesNotMatch(formatStatus(status), /catch-up|catching up:/, 'a node that predates the field shows nothing');
  const frame = decodeServerFrame(encodeReplies([{ id: 9, ok: true, result: { kind: 'status', status: { ...status, catchUp } } }]));
  assert.deepEqual(frame, { type: 'replies', replies: [{ id: 9, ok: true, result: { kind: 'status', status: { ...status, catchUp } } }] });
  const broken = { ...status, catchUp: { ...catchUp, keysReceived: -1 } };
  assert.throws(() => decodeServerFrame(encodeReplies([{ id: 9, ok: true, result: { kind: 'status', status: broken } }])), /status\.catchUp\.keysReceived/);
});

test('set --ttl 0 and a TTL past what a node takes are usage errors, before connecting', async () => {
  const { runSet } = await import('../../src/cli/kv.ts');
  const cases: [string, RegExp][] = [
    ['0', /^--ttl must be more than 0; leave it out for a value that never expires$/],
    ['0ms', /^--ttl must be more than 0/],
    ['99999999999h', /^--ttl must be at most 9007199254740991ms/],
  ];
  // Port 1: nothing is dialled, the flags are refused first.
  for (const [ttl, message] of cases) {
    await assert.rejects(runSet(['k', 'v', '--ttl', ttl, '--node', '127.0.0.1:1']), (e: Error) => e instanceof UsageError && message.test(e.message), ttl);
  }
});
