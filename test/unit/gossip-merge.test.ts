import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../../src/gossip/membership.ts';
import { decideMerge, mustRefute } from '../../src/gossip/merge.ts';

const v = (state: MemberState, incarnation: number) => ({ state, incarnation });

test('only alive introduces an unknown member', () => {
  assert.equal(decideMerge(undefined, v('alive', 0)), 'apply');
  for (const s of ['suspect', 'dead', 'left'] as const) assert.equal(decideMerge(undefined, v(s, 5)), 'ignore');
});

test('alive needs a strictly higher incarnation', () => {
  for (const s of ['alive', 'suspect', 'dead', 'left'] as const) {
    assert.equal(decideMerge(v(s, 3), v('alive', 3)), 'ignore', `alive(3) over ${s}(3)`);
    assert.equal(decideMerge(v(s, 3), v('alive', 4)), 'apply', `alive(4) over ${s}(3)`);
    assert.equal(decideMerge(v(s, 3), v('alive', 2)), 'ignore');
  }
});

test('suspect overrides alive at the same incarnation; same suspicion confirms', () => {
  assert.equal(decideMerge(v('alive', 3), v('suspect', 3)), 'apply');
  assert.equal(decideMerge(v('alive', 4), v('suspect', 3)), 'ignore');
  assert.equal(decideMerge(v('suspect', 3), v('suspect', 3)), 'confirm');
  assert.equal(decideMerge(v('suspect', 3), v('suspect', 4)), 'apply');
  assert.equal(decideMerge(v('dead', 3), v('suspect', 9)), 'ignore');
  assert.equal(decideMerge(v('left', 3), v('suspect', 9)), 'ignore');
});

test('dead overrides alive and suspect at the same incarnation, never a leave', () => {
  assert.equal(decideMerge(v('alive', 3), v('dead', 3)), 'apply');
  assert.equal(decideMerge(v('suspect', 3), v('dead', 3)), 'apply');
  assert.equal(decideMerge(v('alive', 4), v('dead', 3)), 'ignore');
  assert.equal(decideMerge(v('dead', 3), v('dead', 3)), 'ignore');
  assert.equal(decideMerge(v('left', 3), v('dead', 3)), 'ignore');
});

test('left overrides any verdict at the same incarnation', () => {
  for (const s of ['alive', 'suspect', 'dead'] as const) assert.equal(decideMerge(v(s, 3), v('left', 3)), 'apply');
  assert.equal(decideMerge(v('left', 3), v('left', 3)), 'ignore');
  assert.equal(decideMerge(v('alive', 4), v('left', 3)), 'ignore');
});

test('a member refutes any accusation at or above its incarnation, and news of a later self', () => {
  assert.equal(mustRefute(3, v('suspect', 3)), true);
  assert.equal(mustRefute(3, v('dead', 7)), true);
  assert.equal(mustRefute(3, v('left', 3)), true);
  assert.equal(mustRefute(3, v('suspect', 2)), false, 'stale accusation');
  assert.equal(mustRefute(3, v('alive', 3)), false);
  assert.equal(mustRefute(0, v('alive', 5)), true, 'a restarted member hears of its previous life');
});
