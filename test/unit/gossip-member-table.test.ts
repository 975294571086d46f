// The member table's bookkeeping: live and tombstone counts, an order-independent view digest,
// probe order (every live member once per pass, never ourselves), sampling, and reclaiming.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemberTable } from '../../src/gossip/member-table.ts';
import type { Member, MemberState } from '../../src/gossip/membership.ts';
import { namedStream } from '../../src/sim/rng.ts';

function member(name: string, state: MemberState = 'alive', incarnation = 0): Member {
  return { name, address: `addr-${name}`, zone: '', state, incarnation, meta: {} };
}

function table(seed: string, names: string[]): MemberTable {
  const t = new MemberTable('me', namedStream(1, seed));
  t.set(member('me'), null, 0);
  for (const n of names) t.set(member(n), null, 0);
  return t;
}

test('counts and the view digest follow every state change, whatever the order of arrival', () => {
  const a = table('a', ['p', 'q', 'r']);
  const b = table('b', ['r', 'q', 'p']);
  assert.equal(a.liveCount, 4);
  assert.equal(a.viewDigest, b.viewDigest, 'same live view, same digest');
  a.set(member('q', 'suspect', 0), 'p', 1);
  assert.equal(a.liveCount, 4, 'a suspect is still live');
  assert.notEqual(a.viewDigest, b.viewDigest, 'but the view differs');
  b.set(member('q', 'suspect', 0), 'r', 1);
  assert.equal(a.viewDigest, b.viewDigest);
  a.set(member('q', 'dead', 0), null, 2);
  assert.equal(a.liveCount, 3);
  assert.equal(a.tombstones, 1);
  const { previous } = a.set(member('q', 'alive', 1), null, 3);
  assert.equal(previous?.member.state, 'dead');
  assert.equal(a.tombstones, 0);
  assert.equal(a.liveCount, 4);
});

test('probing visits every live member once per pass and never ourselves or tombstones', () => {
  const t = table('probe', ['p', 'q', 'r', 's']);
  t.set(member('s', 'dead'), null, 0);
  for (let pass = 0; pass < 5; pass++) {
    const seen = [t.nextProbeTarget(), t.nextProbeTarget(), t.nextProbeTarget()].map((e) => e?.member.name);
    assert.deepEqual([...seen].sort(), ['p', 'q', 'r'], `pass ${pass}: ${seen.join(',')}`);
  }
  const alone = table('alone', []);
  assert.equal(alone.nextProbeTarget(), undefined);
});

test('sample returns distinct accepted members other than ourselves, at most k', () => {
  const small = table('small', ['p', 'q', 'r']);
  assert.deepEqual(small.sample(10, () => true).map((e) => e.member.name).sort(), ['p', 'q', 'r']);
  assert.equal(small.sample(0, () => true).length, 0);
  const names = Array.from({ length: 200 }, (_, i) => `m${i}`);
  const large = table('large', names);
  // A large table is sampled by random draws (SAMPLE_TRIES_PER_PICK per wanted member), not a full scan.
  const picked = large.sample(5, (e) => e.member.name !== 'm3');
  assert.equal(picked.length, 5);
  assert.equal(new Set(picked).size, 5);
  for (const e of picked) assert.ok(e.member.name !== 'm3' && e.member.name !== 'me');
});

test('reclaim forgets only tombstones at or before the cutoff, never ourselves, and probing skips them after', () => {
  const t = table('reclaim', ['p', 'q', 'r']);
  t.set(member('p', 'dead'), null, 100);
  t.set(member('q', 'left'), null, 200);
  t.set(member('me', 'left'), null, 50);
  assert.equal(t.reclaim(150), 1, 'p only: q changed after the cutoff, and we are never forgotten');
  assert.equal(t.has('p'), false);
  assert.equal(t.tombstones, 2);
  assert.equal(t.reclaim(1000), 1);
  assert.equal(t.size, 2);
  const probed = new Set(Array.from({ length: 8 }, () => t.nextProbeTarget()?.member.name));
  assert.ok(probed.has('r') && !probed.has('p') && !probed.has('q') && !probed.has('me'), [...probed].join(','));
});
