import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IncompatibleRingsError,
  RingConfigError,
  balanceOf,
  buildRing,
  diffRings,
  sampleMembers,
} from '../../src/ring/index.ts';
import { zoneCap } from '../../src/ring/claim.ts';

const Q = 256; // small rings keep these tests fast; the 1024-partition targets are in ring-claim.test.ts

test('every preference list holds N distinct members, primary first', () => {
  const ring = buildRing({ members: sampleMembers(7), partitions: Q, replicas: 3 });
  for (let p = 0; p < Q; p++) {
    const list = ring.preferenceList(p);
    assert.equal(list.length, 3);
    assert.equal(new Set(list).size, 3);
    assert.equal(ring.primaryOf(p), list[0]);
  }
});

test('with fewer members than N, every member holds every partition', () => {
  const ring = buildRing({ members: sampleMembers(2), partitions: Q, replicas: 3 });
  assert.equal(ring.width, 2);
  for (let p = 0; p < Q; p++) assert.deepEqual([...ring.preferenceList(p)].sort(), ['node-0', 'node-1']);
});

test('partitionsOf and loadOf agree with the preference lists', () => {
  const ring = buildRing({ members: sampleMembers(9), partitions: Q, replicas: 3 });
  for (const name of ring.members) {
    const expected = [];
    for (let p = 0; p < Q; p++) if (ring.preferenceList(p).includes(name)) expected.push(p);
    assert.deepEqual(ring.partitionsOf(name), expected);
    assert.equal(ring.loadOf(name), expected.length);
  }
  assert.deepEqual(ring.partitionsOf('stranger'), []);
});

test('the version depends on members, zones, Q and N, not on input order', () => {
  const members = sampleMembers(5, 2);
  const base = buildRing({ members, partitions: Q });
  assert.equal(buildRing({ members: [...members].reverse(), partitions: Q }).version, base.version);
  const rezoned = members.map((m, i) => (i === 0 ? { ...m, zone: 'elsewhere' } : m));
  assert.notEqual(buildRing({ members: rezoned, partitions: Q }).version, base.version);
  assert.notEqual(buildRing({ members, partitions: Q * 2 }).version, base.version);
  assert.notEqual(buildRing({ members, partitions: Q, replicas: 2 }).version, base.version);
  assert.notEqual(buildRing({ members: members.slice(1), partitions: Q }).version, base.version);
});

test('replicas go to distinct zones when there are at least N zones', () => {
  const ring = buildRing({ members: sampleMembers(12, 3), partitions: Q, replicas: 3 });
  for (let p = 0; p < Q; p++) {
    const zones = ring.preferenceList(p).map((name) => ring.zoneOf(name));
    assert.equal(new Set(zones).size, 3, `partition ${p}: ${zones.join(',')}`);
  }
});

test('with fewer zones than N, replicas spread over zones as evenly as possible', () => {
  assert.equal(zoneCap([4, 4], 3), 2);
  assert.equal(zoneCap([1, 9], 3), 2);
  assert.equal(zoneCap([1, 1, 9], 3), 1);
  assert.equal(zoneCap([9], 3), 3);
  const ring = buildRing({ members: sampleMembers(8, 2), partitions: Q, replicas: 3 });
  for (let p = 0; p < Q; p++) {
    const zones = ring.preferenceList(p).map((name) => ring.zoneOf(name));
    assert.equal(new Set(zones).size, 2, `partition ${p}`);
  }
});

test('a lone member in a zone every partition needs still gets every partition filled', () => {
  const members = [{ name: 'a', zone: 'z1' }, { name: 'b', zone: 'z2' }, ...sampleMembers(6).map((m) => ({ ...m, zone: 'z3' }))];
  const ring = buildRing({ members, partitions: Q, replicas: 3 });
  for (let p = 0; p < Q; p++) {
    const list = ring.preferenceList(p);
    assert.equal(new Set(list.map((n) => ring.zoneOf(n))).size, 3);
    assert.ok(list.includes('a') && list.includes('b'));
  }
});

test('balance stays within 1.10 of the mean', () => {
  for (const n of [4, 10, 25]) {
    const b = balanceOf(buildRing({ members: sampleMembers(n), partitions: Q, replicas: 3 }));
    assert.ok(b.maxOverMean <= 1.1, `${n} nodes: ${b.maxOverMean}`);
  }
});

test('walk starts with the preference list and visits every member once', () => {
  const ring = buildRing({ members: sampleMembers(6), partitions: Q, replicas: 3 });
  for (const p of [0, 17, Q - 1]) {
    const walk = ring.walk(p);
    assert.deepEqual(walk.slice(0, 3), ring.preferenceList(p));
    assert.deepEqual([...walk].sort(), [...ring.members]);
  }
});

test('extendedPreferenceList skips down nodes and reaches past N for stand-ins', () => {
  const ring = buildRing({ members: sampleMembers(6), partitions: Q, replicas: 3 });
  const walk = ring.walk(5);
  const down = new Set([walk[1]!]);
  assert.deepEqual(ring.extendedPreferenceList(5, { skip: down, count: 3 }), [walk[0], walk[2], walk[3]]);
  assert.deepEqual(ring.extendedPreferenceList(5, { count: 2 }), walk.slice(0, 2));
  assert.equal(ring.extendedPreferenceList(5).length, 6);
});

test('out-of-range partitions are rejected', () => {
  const ring = buildRing({ members: sampleMembers(3), partitions: Q });
  assert.throws(() => ring.preferenceList(Q), RangeError);
  assert.throws(() => ring.primaryOf(-1), RangeError);
  assert.throws(() => ring.walk(0.5), RangeError);
});

test('buildRing refuses empty, duplicate and invalid inputs', () => {
  assert.throws(() => buildRing({ members: [] }), RingConfigError);
  assert.throws(() => buildRing({ members: [{ name: 'a' }, { name: 'a' }] }), /listed twice/);
  assert.throws(() => buildRing({ members: [{ name: '' }] }), RingConfigError);
  assert.throws(() => buildRing({ members: sampleMembers(3), replicas: 0 }), RingConfigError);
});

test('diffRings lists exactly the partitions whose holders change on a join', () => {
  const before = buildRing({ members: sampleMembers(5), partitions: Q });
  const after = buildRing({ members: [...sampleMembers(5), { name: 'new' }], partitions: Q });
  const moves = diffRings(before, after);
  const moved = new Set(moves.map((m) => m.partition));
  for (let p = 0; p < Q; p++) {
    const same = [...before.preferenceList(p)].sort().join() === [...after.preferenceList(p)].sort().join();
    assert.equal(moved.has(p), !same, `partition ${p}`);
  }
  for (const move of moves) {
    assert.deepEqual(move.before, before.preferenceList(move.partition));
    assert.deepEqual(move.after, after.preferenceList(move.partition));
    for (const to of move.toNodes) assert.ok(!move.before.includes(to) && move.after.includes(to));
    for (const from of move.fromNodes) assert.ok(move.before.includes(from) && !move.after.includes(from));
  }
  // The joiner receives exactly what it now holds.
  const received = moves.filter((m) => m.toNodes.includes('new')).length;
  assert.equal(received, after.loadOf('new'));
  assert.deepEqual(diffRings(after, after), []);
});

test('diffRings refuses rings with different partition counts', () => {
  const a = buildRing({ members: sampleMembers(3), partitions: 64 });
  const b = buildRing({ members: sampleMembers(3), partitions: 128 });
  assert.throws(() => diffRings(a, b), IncompatibleRingsError);
});
