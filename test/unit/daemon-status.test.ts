/** The daemon's status answer: the node's own view (ShoalNode.status) in the wire's terms, plus what only the daemon knows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeStatus, type StatusSources } from '../../src/daemon/status.ts';
import type { MemberStatus } from '../../src/node/node.ts';
import { formatStatus } from '../../src/cli/status.ts';
import { decodeServerFrame, encodeReplies } from '../../src/protocol/codec.ts';
import type { Reply } from '../../src/protocol/index.ts';
import { fullHealth } from './health-fixtures.ts';

type View = ReturnType<StatusSources['view']>;

const member = (name: string, state: MemberStatus['state'], owned: [number, number] = [0, 0], clientAddress: string | null = null): MemberStatus => ({
  name, address: `${name}:1`, zone: 'z', state, incarnation: 2, clientAddress, leaving: false, draining: false, inRing: true, onAnotherRing: false, partitionsOwned: owned[0], primaries: owned[1],
});

const view = (v: { members: MemberStatus[]; ring: View['ring']; joined?: boolean; waitingFor?: string | null; held?: number; catchingUp?: number; toHandOff?: number }): View => ({
  joined: v.joined ?? true,
  waitingFor: v.waitingFor ?? null,
  ring: v.ring,
  members: v.members,
  partitionsHeld: v.held ?? 0,
  handoff: { partitionsCatchingUp: v.catchingUp ?? 0, partitionsToHandOff: v.toHandOff ?? 0, keysToHandOff: 0, partitionsHandedOff: 0, keysHandedOff: 0 },
});

test('members are sorted and carry their client address and partition counts', () => {
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1234.6,
    view: () => view({
      members: [member('c', 'dead', [1, 0]), member('b', 'alive', [3, 2], 'b:0'), member('a', 'suspect', [2, 1])],
      ring: { version: 'v', partitions: 3, replicas: 2, members: 3 },
      held: 3,
      toHandOff: 1,
    }),
    refused: () => [],
    clientConnections: () => 5,
  });
  assert.deepEqual(
    status.members.map((m) => [m.name, m.state, m.clientAddress, m.partitions, m.primaries]),
    [['a', 'suspect', '', 2, 1], ['b', 'alive', 'b:0', 3, 2], ['c', 'dead', '', 1, 0]],
  );
  assert.equal(status.uptimeMs, 1235);
  assert.equal(status.ringVersion, 'v');
  assert.equal(status.toHandOff, 1);
  assert.equal(status.clientConnections, 5);
  assert.equal(status.joining, null);
});

test('a refused member shows as refused with its reason (not dead), a node of another cluster is listed as refused, and a joining node says what it waits for', () => {
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 0,
    view: () => view({ members: [member('b', 'alive', [1, 1]), member('q', 'dead')], ring: { version: 'v', partitions: 1, replicas: 1, members: 1 }, joined: false, waitingFor: 'no answer from seeds: s:1' }),
    refused: () => [
      { name: 'q', address: 'q:1', reason: 'node "q" is configured with 64 partitions' },
      { name: 'x', address: 'x:1', reason: 'it belongs to cluster "prod"' },
    ],
    clientConnections: () => 0,
  });
  assert.deepEqual(
    status.members.map((m) => [m.name, m.state, m.reason]),
    [['b', 'alive', undefined], ['q', 'refused', 'node "q" is configured with 64 partitions'], ['x', 'refused', 'it belongs to cluster "prod"']],
  );
  assert.deepEqual(status.joining, { waitingFor: 'no answer from seeds: s:1' });
});

test('the catch-up progress is passed through, in whole milliseconds', () => {
  const status = nodeStatus({
    node: 'a', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 1, writeQuorum: 1,
    uptimeMs: () => 1,
    view: () => view({ members: [member('a', 'alive', [1, 1])], ring: { version: 'v', partitions: 1, replicas: 1, members: 1 }, held: 1, catchingUp: 1 }),
    clientConnections: () => 0,
    refused: () => [],
    catchUp: () => ({ partitionsLeft: 1, partitions: 1, keysReceived: 2, bytesReceived: 30, keysEvictedAtSource: 1, elapsedMs: 1234.4 }),
  });
  assert.deepEqual(status.catchUp, { partitionsLeft: 1, partitions: 1, keysReceived: 2, bytesReceived: 30, keysEvictedAtSource: 1, elapsedMs: 1234 });
});

test('the node\'s whole health view is in its status, survives the wire, and an older node\'s status (none) or a newer one\'s (more fields) still decodes', () => {
  const health = fullHealth([{ name: 'a', state: 'healthy', score: 1, reportedBy: [], selfDeclared: false, failureProbability: 0.05, secondsToFailure: null }]);
  const sources = (h: View['health'] | undefined): StatusSources => ({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1,
    view: () => ({ ...view({ members: [member('a', 'alive'), member('b', 'alive')], ring: { version: 'v', partitions: 3, replicas: 2, members: 2 } }), ...(h ? { health: h } : {}) }),
    refused: () => [],
    clientConnections: () => 0,
  });
  const status = nodeStatus(sources(health));
  assert.deepEqual(status.health, health);
  const roundTrip = (st: unknown) => (decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status: st } } as Reply])) as { replies: Reply[] }).replies[0];
  assert.deepEqual(roundTrip(status), { id: 1, ok: true, result: { kind: 'status', status } });
  const older = nodeStatus(sources(undefined));
  assert.equal('health' in older, false);
  assert.deepEqual(roundTrip(older), { id: 1, ok: true, result: { kind: 'status', status: older } });
  const newer = { ...status, health: { ...status.health!, later: 1, peers: [{ ...status.health!.peers[0]!, verdict: 'sluggish', later: 'x' }] } };
  const decoded = roundTrip(newer) as { ok: true; result: { status: typeof status } };
  assert.equal(decoded.result.status.health!.peers[0]!.verdict, 'sluggish', 'a verdict a newer node adds decodes as its name');
  assert.equal('later' in decoded.result.status.health!, false);
  assert.throws(() => roundTrip({ ...status, health: { ...status.health!, counters: { demotions: 'many' } } }), /counters\.demotions/);
});

test('members carry their health, the node its disk tier, through the wire codec and into shoal status', () => {
  const disk = { entries: 10, puts: 12, hits: 3, deviceReads: 4, corrupt: 1, deviceBytesWritten: 1170, appBytes: 1000, writeErrors: 2, regions: 4, regionBytes: 1 };
  const health = fullHealth([{ name: 'a', state: 'degraded', score: 0.25, reportedBy: [{ observer: 'b', verdict: 'slow' }], selfDeclared: false, failureProbability: null, secondsToFailure: null }, { name: 'b', state: 'healthy', score: 1, reportedBy: [], selfDeclared: false, failureProbability: null, secondsToFailure: null }]);
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1,
    view: () => ({ ...view({ members: [member('a', 'alive'), member('b', 'alive')], ring: { version: 'v', partitions: 3, replicas: 2, members: 2 } }), health, disk } as unknown as View),
    refused: () => [],
    clientConnections: () => 0,
  });
  assert.deepEqual(status.members.map((m) => m.health), [{ degraded: true, score: 0.25 }, { degraded: false, score: 1 }]);
  assert.deepEqual(status.disk, { entries: 10, puts: 12, hits: 3, deviceReads: 4, corrupt: 1, deviceBytesWritten: 1170, appBytes: 1000, writeErrors: 2 });
  const frame = decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status } }]));
  assert.deepEqual((frame as { replies: Reply[] }).replies[0], { id: 1, ok: true, result: { kind: 'status', status } }, 'health and disk survive the wire');
  const text = formatStatus(status);
  assert.match(text, /a is degraded: health score 0\.25/);
  assert.doesNotMatch(text, /b is degraded/);
  assert.match(text, /disk tier: 10 entries; 12 taken, 3 hits of 4 device reads, 1 unreadable; write amplification 1\.17; 2 device writes FAILED/);
  // A node from before writeErrors was added answers without it: still read, and nothing said of failed writes.
  const { writeErrors: _, ...older } = status.disk!;
  const olderStatus = { ...status, disk: older };
  const olderFrame = decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status: olderStatus } }]));
  assert.deepEqual((olderFrame as { replies: Reply[] }).replies[0], { id: 1, ok: true, result: { kind: 'status', status: olderStatus } });
  assert.doesNotMatch(formatStatus(olderStatus), /FAILED/);
});

test('a member announcing another ring than the node\'s is marked so, through the wire codec and in shoal status', () => {
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1,
    view: () => view({ members: [{ ...member('a', 'dead'), onAnotherRing: true }, member('b', 'alive')], ring: { version: 'v', partitions: 3, replicas: 2, members: 2 } }),
    refused: () => [],
    clientConnections: () => 0,
  });
  assert.deepEqual(status.members.map((m) => m.onAnotherRing), [true, undefined]);
  const frame = decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status } }]));
  assert.deepEqual((frame as { replies: Reply[] }).replies[0], { id: 1, ok: true, result: { kind: 'status', status } });
  const text = formatStatus(status);
  assert.match(text, /\na +dead, on another ring /);
  assert.doesNotMatch(text, /\nb \* +alive, on another ring/);
});

test('the store against its memory budget is in the status, survives the wire and shows in shoal status; an older node\'s status has none', () => {
  const store = { bytes: 15 * 1024 * 1024, maxMemory: 16 * 1024 * 1024, entries: 90_123, policy: 'wtinylfu', evictions: { size: 46_000, expired: 3, explicit: 2, handoff: 1 } };
  const sources = (s: object | undefined): StatusSources => ({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1,
    view: () => ({ ...view({ members: [member('b', 'alive')], ring: { version: 'v', partitions: 3, replicas: 1, members: 1 } }), ...(s ? { store: s } : {}) } as unknown as View),
    refused: () => [],
    clientConnections: () => 0,
  });
  const status = nodeStatus(sources(store));
  assert.deepEqual(status.memory, { bytes: 15 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, entries: 90_123, policy: 'wtinylfu', evicted: 46_000 });
  const frame = decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status } }]));
  assert.deepEqual((frame as { replies: Reply[] }).replies[0], { id: 1, ok: true, result: { kind: 'status', status } });
  assert.match(formatStatus(status), /^memory: 15\.0 MiB of 16\.0 MiB \(94%\) in 90123 entries, eviction policy wtinylfu; 46000 evicted to stay under the budget$/m);
  // A store that counts entries has no byte budget (Infinity): sent as 0 and said so.
  const counting = nodeStatus(sources({ ...store, maxMemory: Number.POSITIVE_INFINITY, evictions: { ...store.evictions, size: 0 } }));
  assert.equal(counting.memory?.maxBytes, 0);
  assert.match(formatStatus(counting), /^memory: 15\.0 MiB in 90123 entries, eviction policy wtinylfu; nothing evicted yet$/m);
  const older = nodeStatus(sources(undefined));
  assert.equal(older.memory, undefined);
  const olderFrame = decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status: older } }]));
  assert.deepEqual((olderFrame as { replies: Reply[] }).replies[0], { id: 1, ok: true, result: { kind: 'status', status: older } });
  assert.doesNotMatch(formatStatus(older), /memory:/);
  const bad = { ...status, memory: { ...status.memory!, evicted: -1 } };
  assert.throws(() => decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status: bad } }])), /status\.memory\.evicted/);
});
