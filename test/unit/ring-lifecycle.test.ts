// The ring lifecycle on its own: first ring, ring changes, ownership epochs, the replica's route
// check, and the joint quorum's end, driven by a hand-made member table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member, MembershipEvent } from '../../src/gossip/membership.ts';
import { MAX_JOINT_RINGS, MAX_PAST_RINGS, RingLifecycle } from '../../src/node/ring-lifecycle.ts';
import { RING_META, announcedRing, buildPlacement } from '../../src/node/ring-placement.ts';
import type { Placement } from '../../src/replication/context.ts';
import { fakeEnv } from './replication-fakes.ts';

const PARTITIONS = 64;

function member(name: string, claimSeed: number | null, state: Member['state'] = 'alive'): Member {
  return { name, address: name, zone: '', state, incarnation: 1, meta: claimSeed === null ? {} : { [RING_META.claimSeed]: claimSeed } };
}

/** A lifecycle over a member table the test edits; `installed` records each ring it installs. */
function lifecycle(names: string[], options: { seeds?: boolean; reenterAtOnce?: boolean; aloneAtOnce?: boolean; jointEndsEarly?: boolean; ringsUnannounced?: boolean } = {}) {
  const { env, flush } = fakeEnv();
  const table = new Map(names.map((name, i) => [name, member(name, 10 + i)]));
  const self = names[0]!;
  const installed: { previous: Placement | null; next: Placement }[] = [];
  const dead = new Set<string>();
  const ring = new RingLifecycle({
    env,
    membership: {
      self: () => table.get(self)!,
      members: () => [...table.values()],
      updateMeta: (meta) => void table.set(self, { ...table.get(self)!, meta }),
      heardFullState: () => true,
    },
    partitions: PARTITIONS,
    replicas: 3,
    joinsThroughSeeds: options.seeds ?? false,
    joinSettleMs: 100,
    isAlive: (name) => !dead.has(name) && table.get(name)?.state === 'alive',
    isRefused: () => false,
    isLeaving: () => false,
    ...(options.reenterAtOnce ? { reenterAtOnce: true } : {}),
    ...(options.aloneAtOnce ? { aloneAtOnce: true } : {}),
    ...(options.jointEndsEarly ? { jointEndsEarly: true } : {}),
    ...(options.ringsUnannounced ? { ringsUnannounced: true } : {}),
    onPlacement: (previous, next) => void installed.push({ previous, next }),
  });
  const change = (event: MembershipEvent) => {
    table.set(event.member.name, event.member);
    ring.onMembership(event);
    flush();
  };
  return { ring, table, installed, change, dead, flush };
}

/** A partition whose owners differ between two rings, and one whose owners do not. */
function partitions(before: Placement, after: Placement): { moved: number; kept: number } {
  let moved = -1;
  let kept = -1;
  for (let p = 0; p < PARTITIONS; p++) {
    const same = before.owners(p).every((o) => after.owners(p).includes(o));
    if (same && kept < 0) kept = p;
    if (!same && moved < 0) moved = p;
  }
  assert.ok(moved >= 0 && kept >= 0, 'a join moves some partitions and keeps others');
  return { moved, kept };
}

test('a founder builds its first ring at once and, alone in it, is confirmed', () => {
  const { ring, installed } = lifecycle(['n1']);
  ring.start();
  assert.equal(installed.length, 1);
  assert.equal(installed[0]!.previous, null);
  assert.ok(ring.joined && ring.ringConfirmed);
  assert.equal(ring.waitingFor(), null);
});

test('a node with seeds waits to hear from its cluster, settles, then builds its ring with every member placed', () => {
  const { ring, table, installed, change, flush } = lifecycle(['n1', 'n2', 'n3'], { seeds: true });
  table.set('n1', member('n1', null)); // this node has not chosen its claim seed yet
  ring.start();
  assert.equal(installed.length, 0, 'nothing before hearing from the cluster');
  change({ type: 'alive', member: table.get('n2')! });
  assert.match(ring.waitingFor()!, /settling/);
  flush(2_000);
  assert.equal(installed.length, 1, 'the first ring after the settle time');
  assert.deepEqual(installed[0]!.next.members.map((m) => m.name), ['n1', 'n2', 'n3']);
  assert.ok(typeof table.get('n1')!.meta[RING_META.claimSeed] === 'number', 'it chose a claim seed');
  assert.ok(ring.joined && !ring.ringConfirmed, 'not confirmed until a peer answers on its ring');
  ring.confirm();
  assert.ok(ring.ringConfirmed);
});

test("a join bumps the ownership epoch of exactly the partitions whose owners changed, and a replica refuses requests routed by the old ring for those only", () => {
  const { ring, change, installed } = lifecycle(['n1', 'n2', 'n3', 'n4']);
  ring.start();
  const before = ring.placement;
  change({ type: 'joined', member: member('n5', 20) });
  assert.equal(installed.length, 2);
  const after = ring.placement;
  assert.notEqual(after.version, before.version);
  const { moved, kept } = partitions(before, after);
  for (let p = 0; p < PARTITIONS; p++) {
    const same = before.owners(p).every((o) => after.owners(p).includes(o));
    assert.equal(ring.epoch(p), same ? 0 : 1, `partition ${p}`);
  }
  assert.deepEqual(ring.checkRoute(before.version, moved), { version: after.version, owners: after.owners(moved) });
  assert.equal(ring.checkRoute(before.version, kept), null, 'owners unchanged since that ring: accepted');
  assert.equal(ring.checkRoute(after.version, moved), null, 'the current ring');
  assert.equal(ring.checkRoute('a-ring-this-node-never-had', moved), null, 'unknown (this node is behind): accepted');
  assert.equal(ring.checkRoute(undefined, moved), null);
});

test('a ring that comes back is current again, not one this node moved past', () => {
  const { ring, table, change } = lifecycle(['n1', 'n2', 'n3', 'n4']);
  ring.start();
  const first = ring.placement;
  change({ type: 'joined', member: member('n5', 20) });
  change({ type: 'left', member: { ...table.get('n5')!, state: 'left' } });
  assert.equal(ring.placement.version, first.version);
  const { moved } = partitions(first, (() => {
    change({ type: 'joined', member: member('n5', 20) });
    return ring.placement;
  })());
  assert.notEqual(ring.checkRoute(first.version, moved), null, 'left behind again: refused');
});

/** The owners `before` had of the partitions whose owners `after` changed: a joint quorum over `before` waits for them. */
function watchedOwners(before: Placement, after: Placement): string[] {
  const names = new Set<string>();
  for (let p = 0; p < PARTITIONS; p++) if (!before.owners(p).every((o) => after.owners(p).includes(o))) for (const o of before.owners(p)) names.add(o);
  return [...names];
}

test('the joint quorum ends once every owner the previous ring had of a moved partition has been seen past it, down ones included', () => {
  const { ring, change, dead } = lifecycle(['n1', 'n2', 'n3', 'n4']);
  ring.start();
  assert.deepEqual(ring.previousRings(0), [], 'the first ring has no predecessor');
  const before = ring.placement;
  change({ type: 'joined', member: member('n5', 20) });
  const after = ring.placement;
  const { moved } = partitions(before, after);
  const [previous] = ring.previousRings(moved);
  assert.ok(previous);
  assert.equal(previous.version, before.version);
  assert.deepEqual(previous.owners, before.owners(moved));
  // Previous-only owners and shared ones alike: either, still on the old ring, answers its reads.
  const [last, ...rest] = watchedOwners(before, after).filter((n) => n !== 'n1');
  rest.forEach((name, i) => (i % 2 === 0 ? ring.peerMovedPast(name, before.version) : ring.peerRing(after.version, name)));
  ring.peerMovedPast(last!, 'some-other-ring');
  ring.peerRing('some-other-ring', last);
  assert.equal(ring.previousRings(moved).length, 1, 'one watched owner has not been seen past it');
  assert.ok(previous.movedPast.size >= Math.ceil(rest.length / 2), 'refusals count as acknowledgements; sync answers only end the wait');
  dead.add(last!);
  ring.check();
  assert.equal(ring.previousRings(moved).length, 1, 'seen down is not gone: cut off by a partition, it may still serve the old ring');
  assert.deepEqual([...ring.ringWitnesses()], [last], 'sync rounds ask it, shared partitions or not');
  ring.peerRing(after.version, last);
  assert.equal(ring.ringWitnesses().size, 0);
  assert.deepEqual(ring.previousRings(moved), [], 'every watched owner has been seen on the current ring or refused the old one');
});

test("a node announces each ring it installs in its metadata, and a watched owner announcing this node's ring, dead or alive, ends the wait", () => {
  const { ring, table, change } = lifecycle(['n1', 'n2', 'n3', 'n4']);
  ring.start();
  const before = ring.placement;
  assert.equal(table.get('n1')!.meta[RING_META.ring], announcedRing(before.version));
  change({ type: 'joined', member: member('n5', 20) });
  const after = ring.placement;
  assert.equal(table.get('n1')!.meta[RING_META.ring], announcedRing(after.version), 'the new ring announced');
  const { moved } = partitions(before, after);
  const announce = (name: string, version: string, state: Member['state']) => {
    const m = table.get(name)!;
    change({ type: 'updated', member: { ...m, state, meta: { ...m.meta, [RING_META.ring]: announcedRing(version) } } });
  };
  const [last, ...rest] = watchedOwners(before, after).filter((n) => n !== 'n1');
  rest.forEach((name, i) => announce(name, after.version, i === 0 ? 'dead' : 'alive'));
  announce(last!, before.version, 'alive');
  assert.equal(ring.previousRings(moved).length, 1, 'one watched owner still announces the old ring');
  assert.deepEqual([...ring.ringWitnesses()], [last], 'sync rounds ask only that one');
  announce(last!, after.version, 'dead');
  assert.deepEqual(ring.previousRings(moved), [], 'every watched owner announced the current ring');
});

test('re-injected (ReplicationBugs.ringsUnannounced): a node puts no ring in its metadata', () => {
  const { ring, table, change } = lifecycle(['n1', 'n2', 'n3', 'n4'], { ringsUnannounced: true });
  ring.start();
  change({ type: 'joined', member: member('n5', 20) });
  assert.equal(table.get('n1')!.meta[RING_META.ring], undefined);
});

test('with bugs.jointEndsEarly the joint quorum covers one ring and ends once its live previous-only owners moved past it', () => {
  const { ring, change, dead } = lifecycle(['n1', 'n2', 'n3', 'n4'], { jointEndsEarly: true });
  ring.start();
  const before = ring.placement;
  change({ type: 'joined', member: member('n5', 20) });
  const { moved } = partitions(before, ring.placement);
  const onlyBefore = new Set<string>();
  for (let p = 0; p < PARTITIONS; p++) for (const o of before.owners(p)) if (!ring.placement.owners(p).includes(o)) onlyBefore.add(o);
  const [last, ...rest] = [...onlyBefore].filter((n) => n !== 'n1');
  for (const name of rest) ring.peerMovedPast(name, before.version);
  assert.equal(ring.previousRings(moved).length, 1);
  dead.add(last!);
  ring.check();
  assert.deepEqual(ring.previousRings(moved), [], 'the last one is down: the old rule stopped waiting');
});

test(`a write's joint quorum covers every ring a reader may still route by, newest first, up to ${MAX_JOINT_RINGS}`, () => {
  const { ring, change } = lifecycle(['n1', 'n2', 'n3', 'n4']);
  ring.start();
  const first = ring.placement;
  change({ type: 'joined', member: member('n5', 20) });
  const second = ring.placement;
  change({ type: 'joined', member: member('n6', 30) });
  const third = ring.placement;
  assert.deepEqual(ring.previousRings(0).map((r) => r.version), [second.version, first.version]);
  for (const name of new Set([...watchedOwners(first, second), ...watchedOwners(second, third)])) ring.peerRing(third.version, name);
  assert.deepEqual(ring.previousRings(0), [], 'everyone seen on the current ring: no reader is left on either');
  for (let i = 0; i < MAX_JOINT_RINGS + 2; i++) change({ type: 'joined', member: member(`m${i}`, 40 + i) });
  assert.equal(ring.previousRings(0).length, MAX_JOINT_RINGS);
});

test(`a node remembers the last ${MAX_PAST_RINGS} rings it left behind`, () => {
  const { ring, table, change } = lifecycle(['n1', 'n2', 'n3', 'n4']);
  ring.start();
  const first = ring.placement;
  let moved = -1;
  for (let i = 0; i < MAX_PAST_RINGS; i++) {
    change({ type: 'joined', member: member(`m${i}`, (7 * i) % 64) });
    if (i === 0) moved = partitions(first, ring.placement).moved;
  }
  assert.notEqual(ring.checkRoute(first.version, moved), null, `${MAX_PAST_RINGS} rings ago: still refused`);
  change({ type: 'joined', member: member('m-last', 5) });
  assert.equal(table.size, 4 + MAX_PAST_RINGS + 1);
  assert.equal(ring.checkRoute(first.version, moved), null, 'forgotten: accepted like an unknown ring');
});

/** Sets or clears a member's drain flag (drain.ts publishes it in gossip metadata). */
function drained(m: Member, on: boolean): Member {
  const meta = { ...m.meta };
  if (on) meta[RING_META.draining] = 1;
  else delete meta[RING_META.draining];
  return { ...m, incarnation: m.incarnation + 1, meta };
}

/** The ring its peers build from the member table (the names holding data), as the lifecycle builds it. */
function ringOf(table: Map<string, Member>, names: string[]): Placement {
  return buildPlacement(names.map((n) => table.get(n)!), PARTITIONS, 3);
}

/**
 * kv-drain seed 400110: n3 undrained while isolated, its peers (which had declared it dead) never
 * heard, and when n4 drained n3 built a ring with itself that nobody else had; it acknowledged
 * QUORUM writes with its own replica's ack, and readers on the peers' ring asked the other two
 * owners. Back in the ring, a node now routes by the ring without itself until a peer is seen on a
 * ring with it.
 */
test('an undrained node routes by the ring without itself until a peer is seen on a ring with it (a sync answer or a request routed by one)', () => {
  for (const via of ['sync answer', 'request'] as const) {
    const { ring, table, change, installed, flush } = lifecycle(['n3', 'n1', 'n2', 'n4', 'n5']);
    ring.start();
    change({ type: 'updated', member: drained(table.get('n3')!, true) });
    const peersRing = ring.placement;
    assert.equal(peersRing.version, ringOf(table, ['n1', 'n2', 'n4', 'n5']).version, 'drained: the ring without n3');
    assert.equal(ring.awaitsPeerRing, false);

    change({ type: 'updated', member: drained(table.get('n3')!, false) });
    assert.equal(ring.placement.version, peersRing.version, 'undrained, n3 stays on the ring its peers use');
    assert.equal(ring.awaitsPeerRing, true, 'and its sync rounds ask peers for their ring');

    // Another member drains before any peer has heard of the undrain: n3 follows the peers' ring exactly.
    const installs = installed.length;
    change({ type: 'updated', member: drained(table.get('n4')!, true) });
    assert.equal(installed.length, installs + 1);
    assert.equal(ring.placement.version, ringOf(table, ['n1', 'n2', 'n5']).version, 'the ring n3 routes by is the peers\' ring');
    ring.peerRing(ring.placement.version);
    ring.peerRing('a-ring-nobody-computed');
    assert.equal(ring.checkRoute('another-unknown-ring', 0), null);
    flush();
    assert.equal(ring.awaitsPeerRing, true, 'peers seen only on rings without n3');

    // A peer on a ring with n3 has heard of the undrain: n3 takes its place, the peers' ring as the joint quorum's.
    const withN3 = ringOf(table, ['n1', 'n2', 'n3', 'n5']);
    if (via === 'sync answer') ring.peerRing(withN3.version);
    else assert.equal(ring.checkRoute(withN3.version, 0), null, 'accepted: this node is behind');
    ring.check();
    assert.equal(ring.placement.version, withN3.version);
    assert.equal(ring.awaitsPeerRing, false);
    assert.equal(ring.previousRings(0)[0]?.version, ringOf(table, ['n1', 'n2', 'n5']).version);
  }
});

test('undrained, a node takes back the ring it left when it drained as soon as a request routed by it arrives, and accepts that request', () => {
  const { ring, table, change, flush } = lifecycle(['n3', 'n1', 'n2', 'n4', 'n5']);
  ring.start();
  const before = ring.placement;
  change({ type: 'updated', member: drained(table.get('n3')!, true) });
  const { moved } = partitions(before, ring.placement);
  assert.notEqual(ring.checkRoute(before.version, moved), null, 'drained: a request routed by the ring it left is refused');
  change({ type: 'updated', member: drained(table.get('n3')!, false) });
  assert.equal(ring.awaitsPeerRing, true);
  assert.equal(ring.checkRoute(before.version, moved), null, 'a peer routes by the ring with n3: accepted');
  flush();
  assert.equal(ring.placement.version, before.version);
  assert.equal(ring.awaitsPeerRing, false);
});

test('re-injected (ReplicationBugs.undrainWithoutPeers): an undrained node takes the ring with itself at once, one its peers may not have', () => {
  const { ring, table, change } = lifecycle(['n3', 'n1', 'n2', 'n4', 'n5'], { reenterAtOnce: true });
  ring.start();
  change({ type: 'updated', member: drained(table.get('n3')!, true) });
  change({ type: 'updated', member: drained(table.get('n3')!, false) });
  change({ type: 'updated', member: drained(table.get('n4')!, true) });
  assert.equal(ring.placement.version, ringOf(table, ['n1', 'n2', 'n3', 'n5']).version);
  assert.equal(ring.awaitsPeerRing, false);
});

test('a ring change that leaves a node alone while a live peer is known waits for a peer on that ring (kv-drain seed 400220); re-injected (aloneWithoutConfirmation), it serves at once', () => {
  for (const aloneAtOnce of [false, true]) {
    const { ring, table, change, dead } = lifecycle(['n3', 'n1', 'n2'], { aloneAtOnce });
    ring.start();
    ring.confirm();
    change({ type: 'updated', member: drained(table.get('n1')!, true) });
    assert.ok(ring.ringConfirmed, 'two holders left: confirmed as before');
    change({ type: 'updated', member: drained(table.get('n2')!, true) });
    assert.equal(ring.placement.version, ringOf(table, ['n3']).version);
    if (aloneAtOnce) {
      assert.ok(ring.ringConfirmed);
      continue;
    }
    assert.equal(ring.ringConfirmed, false, 'alone, with live peers that may be on another ring');
    assert.equal(ring.awaitsPeerRing, true);
    assert.deepEqual([...ring.confirmingPeers].sort(), ['n2'], 'it asks the members of the ring it left');
    ring.peerRing('a-ring-without-n3-alone');
    assert.equal(ring.ringConfirmed, false);
    ring.peerRing(ring.placement.version);
    assert.ok(ring.ringConfirmed, 'a peer answered on its ring');
    assert.deepEqual(ring.confirmingPeers, []);
    // No live peer left to disagree: alone is confirmed.
    change({ type: 'updated', member: drained(table.get('n2')!, false) });
    change({ type: 'updated', member: drained(table.get('n2')!, true) });
    assert.equal(ring.ringConfirmed, false);
    dead.add('n1').add('n2');
    assert.ok(ring.ringConfirmed);
  }
});
