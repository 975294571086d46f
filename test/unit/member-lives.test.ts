// Which process of each member a node last heard of (src/node/member-lives.ts): only a new
// `started` under a known name is a restart; a death and a refutation of the same process are not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member } from '../../src/gossip/membership.ts';
import { MemberLives } from '../../src/node/member-lives.ts';

const member = (name: string, state: Member['state'], incarnation: number, started?: number): Member => ({
  name,
  address: name,
  zone: '',
  state,
  incarnation,
  meta: started === undefined ? { partitions: 64 } : { partitions: 64, started },
});

test('a member is a new process only when it comes back with another start', () => {
  const lives = new MemberLives('n1', 'started');
  assert.equal(lives.newProcess(member('n2', 'alive', 0, 100)), false, 'first news of it: nothing to forget');
  assert.equal(lives.newProcess(member('n2', 'suspect', 0, 100)), false);
  assert.equal(lives.newProcess(member('n2', 'dead', 0, 100)), false, 'a death');
  assert.equal(lives.newProcess(member('n2', 'alive', 1, 100)), false, 'the same process refuting its death');
  assert.equal(lives.newProcess(member('n2', 'alive', 2, 250)), true, 'restarted');
  assert.equal(lives.newProcess(member('n2', 'alive', 3, 250)), false, 'the new process, heard of again');
  assert.equal(lives.newProcess(member('n1', 'alive', 0, 1)), false, 'never this node itself');
});

test('a member without a start (an older version) is never taken for a new process, until it starts with one', () => {
  const lives = new MemberLives('n1', 'started');
  lives.newProcess(member('n2', 'alive', 0));
  assert.equal(lives.newProcess(member('n2', 'alive', 1)), false);
  assert.equal(lives.newProcess(member('n2', 'alive', 2, 300)), true, 'upgraded: a new process');
});

test('a member that left is forgotten: its return is first news again', () => {
  const lives = new MemberLives('n1', 'started');
  lives.newProcess(member('n2', 'alive', 0, 100));
  lives.forget('n2');
  assert.equal(lives.newProcess(member('n2', 'alive', 0, 200)), false);
});
