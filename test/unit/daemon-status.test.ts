/** The daemon's status answer: members from the membership, partition counts from the ring. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member, Membership } from '../../src/gossip/membership.ts';
import { nodeStatus } from '../../src/daemon/status.ts';

const member = (name: string, state: Member['state'], meta: Member['meta'] = {}): Member => ({ name, address: `${name}:1`, zone: 'z', state, incarnation: 2, meta });

test('members are sorted, carry their client address, and count their ring slots', () => {
  const membership: Membership = {
    self: () => member('b', 'alive'),
    members: () => [member('c', 'dead'), member('b', 'alive', { clientAddress: 'b:0' }), member('a', 'suspect')],
    subscribe: () => () => {},
  };
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1234.6,
    joined: () => true,
    waitingFor: () => null,
    refused: () => [],
    membership,
    topology: () => ({ version: 'v', partitions: 3, replicas: 2, nodes: [], owners: [['a', 'b'], ['b', 'a'], ['b', 'c']] }),
    progress: () => ({ held: 3, catchingUp: 0, toHandOff: 1 }),
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
  const membership: Membership = {
    self: () => member('b', 'alive'),
    members: () => [member('b', 'alive'), member('q', 'dead')],
    subscribe: () => () => {},
  };
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 0,
    joined: () => false,
    waitingFor: () => 'no answer from seeds: s:1',
    refused: () => [
      { name: 'q', address: 'q:1', reason: 'node "q" is configured with 64 partitions' },
      { name: 'x', address: 'x:1', reason: 'it belongs to cluster "prod"' },
    ],
    membership,
    topology: () => ({ version: 'v', partitions: 1, replicas: 1, nodes: [], owners: [['b']] }),
    progress: () => ({ held: 0, catchingUp: 0, toHandOff: 0 }),
    clientConnections: () => 0,
  });
  assert.deepEqual(
    status.members.map((m) => [m.name, m.state, m.reason]),
    [['b', 'alive', undefined], ['q', 'refused', 'node "q" is configured with 64 partitions'], ['x', 'refused', 'it belongs to cluster "prod"']],
  );
  assert.deepEqual(status.joining, { waitingFor: 'no answer from seeds: s:1' });
});

test('the catch-up progress is passed through, in whole milliseconds', () => {
  const membership: Membership = { self: () => member('a', 'alive'), members: () => [member('a', 'alive')], subscribe: () => () => {} };
  const status = nodeStatus({
    node: 'a', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 1, writeQuorum: 1,
    uptimeMs: () => 1,
    joined: () => true,
    membership,
    topology: () => ({ version: 'v', partitions: 1, replicas: 1, nodes: [], owners: [['a']] }),
    progress: () => ({ held: 1, catchingUp: 1, toHandOff: 0 }),
    clientConnections: () => 0,
    waitingFor: () => null,
    refused: () => [],
    catchUp: () => ({ partitionsLeft: 1, partitions: 1, keysReceived: 2, bytesReceived: 30, keysEvictedAtSource: 1, elapsedMs: 1234.4 }),
  });
  assert.deepEqual(status.catchUp, { partitionsLeft: 1, partitions: 1, keysReceived: 2, bytesReceived: 30, keysEvictedAtSource: 1, elapsedMs: 1234 });
});
