/**
 * The `requests` part of a node's status (quorums in effect, reads that missed by reason) and the
 * miss reason of a get reply: their wire round trips and how `shoal status` prints them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus } from '../../src/cli/status.ts';
import { encode } from '@msgpack/msgpack';
import { decodeServerFrame, encodeReplies, FrameType, ResultKind, type NodeStatus, type Reply } from '../../src/protocol/index.ts';

const base: NodeStatus = {
  node: 'solo', cluster: 'shoal', zone: 'default', version: '0.1.0', uptimeMs: 1_000, joined: true, ringVersion: 'abc',
  partitions: 8, replicas: 1, readQuorum: 2, writeQuorum: 2, held: 8, catchingUp: 0, toHandOff: 0, clientConnections: 0, joining: null,
  members: [{ name: 'solo', address: '127.0.0.1:7401', clientAddress: '127.0.0.1:7400', zone: 'default', state: 'alive', incarnation: 0, partitions: 8, primaries: 8 }],
};
const requests = { configuredReplicas: 3, effectiveReadQuorum: 1, effectiveWriteQuorum: 1, misses: { absent: 4, deleted: 3, expired: 2, evicted: 1 } };

function roundTrip(reply: Reply): Reply {
  const frame = decodeServerFrame(encodeReplies([reply]));
  assert.equal(frame.type, 'replies');
  return (frame as { replies: Reply[] }).replies[0]!;
}

test('status carries the quorums in effect and the misses by reason; a status without them still decodes', () => {
  const withRequests = roundTrip({ id: 1, ok: true, result: { kind: 'status', status: { ...base, requests } } });
  assert.deepEqual(withRequests, { id: 1, ok: true, result: { kind: 'status', status: { ...base, requests } } });
  const older = roundTrip({ id: 2, ok: true, result: { kind: 'status', status: base } });
  assert.deepEqual(older, { id: 2, ok: true, result: { kind: 'status', status: base } });
});

test('shoal status says the quorum in effect on one node with R=W=2, and the misses by reason', () => {
  const text = formatStatus({ ...base, requests });
  assert.match(text, /effective quorum: R=1 W=1 \(R=2 W=2 of N=3 configured, but keys have 1 replica while the ring has fewer than N members\)\n/);
  // The ring line gives N with the quorums in effect with it, never N=1 R=2 W=2 (probe s18).
  assert.match(text, /partitions, N=1 R=1 W=1\n/);
  assert.match(text, /reads that missed: 4 absent, 3 deleted, 2 expired, 1 evicted\n/);
  // A full cluster: R and W are what they say, so no line about them.
  const full = formatStatus({ ...base, replicas: 3, requests: { ...requests, effectiveReadQuorum: 2, effectiveWriteQuorum: 2 } });
  assert.doesNotMatch(full, /effective quorum/);
  assert.match(full, /partitions, N=3 R=2 W=2\n/);
  assert.doesNotMatch(formatStatus(base), /reads that missed/, 'an older node reports nothing');
});

test('a get reply carries its miss reason; an unknown reason from a newer node is left out', () => {
  for (const miss of ['absent', 'deleted', 'expired', 'evicted'] as const) {
    const reply: Reply = { id: 3, ok: true, result: { kind: 'value', value: null, expiresAtMs: null, acks: 2, miss } };
    assert.deepEqual(roundTrip(reply), reply);
  }
  const hit: Reply = { id: 4, ok: true, result: { kind: 'value', value: new Uint8Array([1]), expiresAtMs: null, acks: 2 } };
  assert.deepEqual(roundTrip(hit), hit);
  const newer = decodeServerFrame(encode([FrameType.replies, [[5, 0, ResultKind.value, null, null, 1, 99]]]));
  assert.deepEqual(newer, { type: 'replies', replies: [{ id: 5, ok: true, result: { kind: 'value', value: null, expiresAtMs: null, acks: 1 } }] });
});
