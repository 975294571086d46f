import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consistency, GetResult, KvError, WriteResult } from '../../src/replication/api.ts';
import { decodeRecord } from '../../src/replication/record.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function cluster(nodes = 4, log: string[] = []): KvCluster {
  const c = new KvCluster({ seed: 1, nodes, partitions: 16, replication: { sloppyQuorum: false }, network: {}, trace: new EventTrace(), logSink: (line) => log.push(line) });
  // Gossip forms the cluster, every node chooses its claim seed, the ring is confirmed.
  const formed = (): boolean => c.sim.upNodes().every((n) => n.process!.settled());
  c.sim.runUntil(5_000, formed);
  assert.ok(formed(), 'the cluster should have formed');
  return c;
}

/** Runs until gossip on node `observer` has declared node `down` dead. */
function untilDead(c: KvCluster, observer: number, down: number): void {
  const name = c.sim.nodes[down]!.address;
  const dead = () => c.sim.process(observer)!.membership.members().find((m) => m.name === name)?.state === 'dead';
  c.sim.runUntil(c.sim.now + 30_000, dead);
  assert.ok(dead(), `${name} should have been declared dead`);
}

/** Owners of the key, as node indexes, and a coordinator that is not one of them. */
function layout(c: KvCluster, key: string): { owners: number[]; outsider: number } {
  const placement = c.sim.process(0)!.placement();
  const owners = placement.owners(placement.partitionOfKey(enc.encode(key))).map((name) => c.sim.indexOf(name)!);
  const outsider = c.sim.nodes.findIndex((n) => !owners.includes(n.index));
  return { owners, outsider };
}

function set(c: KvCluster, via: number, key: string, value: string, consistency: Consistency = 'quorum'): { error: KvError | null; result?: WriteResult } {
  let out: { error: KvError | null; result?: WriteResult } | null = null;
  c.sim.process(via)!.kv.set(enc.encode(key), enc.encode(value), { consistency }, (error, result) => (out = { error, result }));
  c.sim.runUntil(c.sim.now + 1_000, () => out !== null);
  assert.ok(out, 'the set never answered');
  return out;
}

function get(c: KvCluster, via: number, key: string, consistency: Consistency = 'quorum'): GetResult {
  let out: { error: KvError | null; result?: GetResult } | null = null;
  c.sim.process(via)!.kv.get(enc.encode(key), { consistency }, (error, result) => (out = { error, result }));
  c.sim.runUntil(c.sim.now + 1_000, () => out !== null);
  const answer = out as { error: KvError | null; result?: GetResult } | null;
  assert.ok(answer && !answer.error && answer.result, `the get failed: ${JSON.stringify(answer?.error)}`);
  return answer.result;
}

test('any node coordinates: a quorum write is acknowledged and read back through another node', () => {
  const c = cluster();
  const { outsider, owners } = layout(c, 'a');
  const w = set(c, outsider, 'a', 'one');
  assert.equal(w.error, null);
  assert.ok(w.result!.acks >= 2);
  const r = get(c, owners[0]!, 'a');
  assert.equal(dec.decode(r.value!), 'one');
  assert.deepEqual(r.version, w.result!.version);
});

test('with an owner down, a strict quorum write still succeeds and leaves a hint that is delivered after the restart', () => {
  const c = cluster();
  const { owners, outsider } = layout(c, 'b');
  const down = owners[2]!;
  c.crash(down);
  untilDead(c, outsider, down);
  const w = set(c, outsider, 'b', 'two');
  assert.equal(w.error, null);
  assert.equal(w.result!.acks, 2);
  assert.equal(c.sim.process(outsider)!.stats().hints.held, 1);
  assert.equal(set(c, outsider, 'b', 'three', 'all').error?.code, 'unavailable');
  c.restart(down);
  c.sim.runUntil(c.sim.now + 10_000);
  assert.equal(c.sim.process(outsider)!.stats().hints.held, 0);
  assert.equal(c.convergence(['b']), null);
  assert.equal(dec.decode(get(c, down, 'b', 'all').value!), 'three'); // the failed ALL write still landed on two
});

test('a restarted, empty replica does not count towards R until it has caught up', () => {
  const c = cluster();
  const { owners, outsider } = layout(c, 'c');
  set(c, outsider, 'c', 'kept');
  c.crash(owners[0]!);
  c.restart(owners[0]!);
  assert.ok(c.sim.process(owners[0]!)!.catchingUp());
  let all: KvError | null = null;
  c.sim.process(outsider)!.kv.get(enc.encode('c'), { consistency: 'all' }, (e) => (all = e));
  const r = get(c, outsider, 'c', 'quorum');
  assert.equal(r.value && dec.decode(r.value), 'kept');
  c.sim.runUntil(c.sim.now + 1_000, () => all !== null);
  assert.equal((all as KvError | null)?.code, 'unavailable');
  c.sim.runUntil(c.sim.now + 5_000);
  assert.equal(dec.decode(get(c, outsider, 'c', 'all').value!), 'kept');
});

test('read repair brings a stale replica up to date after the read', () => {
  const c = cluster();
  const { owners, outsider } = layout(c, 'd');
  set(c, outsider, 'd', 'old');
  const stale = owners[1]!;
  const others = c.sim.nodes.map((n) => n.index).filter((i) => i !== stale);
  const undo = c.sim.network.cut(others, [stale]);
  set(c, outsider, 'd', 'new');
  undo();
  const before = c.sim.process(outsider)!.stats().coordinator.readRepairs;
  assert.equal(dec.decode(get(c, outsider, 'd', 'all').value!), 'new');
  c.sim.runUntil(c.sim.now + 50);
  assert.ok(c.sim.process(outsider)!.stats().coordinator.readRepairs > before);
  assert.equal(c.convergence(['d']), null);
});

test('deletes and expired values read as misses but report their version', () => {
  const c = cluster();
  const { outsider } = layout(c, 'e');
  let out: WriteResult | undefined;
  c.sim.process(outsider)!.kv.set(enc.encode('e'), enc.encode('short'), { ttlMs: 100 }, (_e, r) => (out = r));
  c.sim.runUntil(c.sim.now + 50);
  assert.equal(dec.decode(get(c, outsider, 'e').value!), 'short');
  c.sim.runUntil(c.sim.now + 200);
  const expired = get(c, outsider, 'e');
  assert.equal(expired.value, null);
  assert.deepEqual(expired.version, out!.version);
  let deleted: WriteResult | undefined;
  c.sim.process(outsider)!.kv.delete(enc.encode('e'), {}, (_e, r) => (deleted = r));
  c.sim.runUntil(c.sim.now + 50);
  const miss = get(c, outsider, 'e');
  assert.equal(miss.value, null);
  assert.deepEqual(miss.version, deleted!.version);
});

test('sloppy quorum: with an owner down, a fallback past the preference list holds the hint and its ack counts', () => {
  const c = cluster(5);
  const { owners, outsider } = layout(c, 'f');
  c.crash(owners[0]!);
  c.crash(owners[1]!);
  untilDead(c, outsider, owners[0]!);
  untilDead(c, outsider, owners[1]!);
  let strict: KvError | null = null;
  c.sim.process(outsider)!.kv.set(enc.encode('f'), enc.encode('x'), { sloppy: false }, (e) => (strict = e));
  c.sim.runUntil(c.sim.now + 1_000);
  assert.equal((strict as KvError | null)?.code, 'unavailable');
  let sloppy: WriteResult | undefined;
  c.sim.process(outsider)!.kv.set(enc.encode('f'), enc.encode('y'), { sloppy: true }, (_e, r) => (sloppy = r));
  c.sim.runUntil(c.sim.now + 1_000);
  assert.equal(sloppy?.acks, 2);
  const fallbackHints = c.sim.upNodes().reduce((s, n) => s + n.process!.stats().replica.fallbackHintsTaken, 0);
  assert.ok(fallbackHints >= 1);
});

test('read-your-writes after a sloppy write: the coordinator answers the write a stand-in holds for an owner that lacks it, and repairs that owner', () => {
  const c = cluster(5);
  const placement = c.sim.process(0)!.placement();
  const ranking = placement.ranking(placement.partitionOfKey(enc.encode('g'))).map((name) => c.sim.indexOf(name)!);
  // Owners first, then the stand-in a sloppy write picks, then a coordinator that is neither.
  const [kept1, kept2, lagging, standIn, via] = ranking as [number, number, number, number, number];
  set(c, via, 'g', 'old', 'all');

  // The lagging owner is cut off until the coordinator declares it dead: a sloppy ALL write then
  // counts the stand-in's ack in its place.
  const others = c.sim.nodes.map((n) => n.index).filter((i) => i !== lagging);
  const undo = [c.sim.network.cut([lagging], others), c.sim.network.cut(others, [lagging])];
  untilDead(c, via, lagging);
  let written: WriteResult | undefined;
  c.sim.process(via)!.kv.set(enc.encode('g'), enc.encode('new'), { consistency: 'all', sloppy: true }, (_e, r) => (written = r));
  c.sim.runUntil(c.sim.now + 1_000, () => written !== undefined);
  assert.equal(written?.acks, 3);

  // The owner comes back, but the stand-in cannot hand it the hint; the coordinator sees it alive.
  c.sim.network.cut([standIn], [lagging]);
  for (const u of undo) u();
  const name = c.sim.nodes[lagging]!.address;
  const alive = () => c.sim.process(via)!.membership.members().find((m) => m.name === name)?.state === 'alive';
  c.sim.runUntil(c.sim.now + 30_000, alive);
  assert.ok(alive(), `${name} should be alive again for the coordinator`);

  // A ONE read that only the lagging owner answers in time must still return the write.
  const clogUntil = c.sim.now + 200;
  c.sim.network.clog(via, kept1, clogUntil);
  c.sim.network.clog(via, kept2, clogUntil);
  const r = get(c, via, 'g', 'one');
  assert.equal(r.value && dec.decode(r.value), 'new');
  assert.deepEqual(r.version, written!.version);
  assert.equal(c.sim.process(via)!.stats().coordinator.standInWritesRecalled, 1);
  // Read repair gave the lagging owner the write, though the stand-in's hint never reached it.
  c.sim.runUntil(clogUntil + 1_000);
  assert.equal(c.sim.process(lagging)!.stats().replica.hintsApplied, 0);
  const held = c.sim.process(lagging)!.heldPartitions().get(placement.partitionOfKey(enc.encode('g')))!.peek('g');
  assert.deepEqual(held && decodeRecord(held).version, written!.version);
});

test('every request fails at its own deadline, whatever else is pending (one deadline timer for all of them)', () => {
  const c = cluster();
  const { owners, outsider } = layout(c, 'slow');
  const timeoutMs = c.sim.process(outsider)!.config.requestTimeoutMs;
  // The owner stays alive for gossip (no death is declared), but nothing reaches it for a while.
  const silent = owners[2]!;
  c.sim.network.clog(outsider, silent, c.sim.now + 10 * timeoutMs);
  const answeredAt: (number | null)[] = [null, null, null];
  const startedAt: number[] = [];
  for (let i = 0; i < 3; i++) {
    startedAt.push(c.sim.now);
    c.sim.process(outsider)!.kv.set(enc.encode('slow'), enc.encode(`v${i}`), { consistency: 'all' }, (error) => {
      assert.equal(error?.code, 'unavailable');
      answeredAt[i] = c.sim.now;
    });
    c.sim.runUntil(c.sim.now + timeoutMs / 4);
  }
  c.sim.runUntil(c.sim.now + 2 * timeoutMs, () => answeredAt.every((t) => t !== null));
  assert.deepEqual(answeredAt, startedAt.map((t) => t + timeoutMs));
});

test('refusing new requests (a leaving node past its grace): new ones answer not-ready, one already in flight completes', () => {
  const c = cluster();
  const { outsider } = layout(c, 'r');
  const kv = c.sim.process(outsider)!.kv;
  let inFlight: { error: KvError | null; result?: WriteResult } | null = null;
  kv.set(enc.encode('r'), enc.encode('before'), { consistency: 'all' }, (error, result) => (inFlight = { error, result }));
  kv.refuseNewRequests('this node is leaving');
  const refused = set(c, outsider, 'r', 'after');
  assert.equal(refused.error?.code, 'not-ready');
  assert.match(refused.error!.message, /this node is leaving; use another node/);
  c.sim.runUntil(c.sim.now + 1_000, () => inFlight !== null);
  const first = inFlight as { error: KvError | null; result?: WriteResult } | null;
  assert.equal(first?.error, null, 'the write taken before the refusal was coordinated to the end');
  assert.equal(kv.pendingCount, 0);
  const other = c.sim.nodes.findIndex((n) => n.index !== outsider);
  assert.equal(dec.decode(get(c, other, 'r', 'all').value!), 'before', 'nothing of the refused write was applied');
});

test('a write that fails unavailable names the owners it lacked (silent past the replica timeout, or down), and one its silent owners then acknowledge is counted and reported as a timeout too short for the load', () => {
  const log: string[] = [];
  const c = cluster(5, log);
  const { owners, outsider } = layout(c, 'named');
  const [first, second, third] = owners.map((i) => c.sim.nodes[i]!.address);
  // Silent: alive to gossip, but too slow to answer the write before its deadline (as a replica
  // starved of CPU during a leave's handoff on a loaded machine).
  c.sim.pause(owners[1]!, 900);
  c.sim.pause(owners[2]!, 900);
  const slow = set(c, outsider, 'named', 'one');
  assert.equal(slow.error?.code, 'unavailable');
  assert.match(slow.error!.message, new RegExp(`^only 1 of the 2 replicas needed acknowledged the write in time \\(no acknowledgement from (${second}, ${third}|${third}, ${second}) within the replica timeout \\(500 ms\\)\\); those that did keep it`));
  assert.doesNotMatch(slow.error!.message, new RegExp(first!));
  // Both answer once their pause is over: the failure was a timeout too short for them, and the
  // coordinator says so once (the write took effect).
  c.sim.runUntil(c.sim.now + 2_000);
  assert.equal(c.sim.process(outsider)!.stats().coordinator.writesAcknowledgedLate, 1);
  const warnings = log.filter((line) => line.includes('"event":"write-acknowledged-late"'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /reached its consistency level \d+ ms later: its replicas are up but answer slower than the replica timeout \(500 ms\)/);

  c.crash(owners[2]!);
  untilDead(c, outsider, owners[2]!);
  c.sim.pause(owners[1]!, 900);
  const short = set(c, outsider, 'named', 'two');
  assert.equal(short.error?.code, 'unavailable');
  assert.match(short.error!.message, new RegExp(`\\(no acknowledgement from ${second} within the replica timeout \\(500 ms\\); down: ${third}\\)`));
  // The paused owner's late ack brings it to 2 of the 2 needed: counted too.
  c.sim.runUntil(c.sim.now + 2_000);
  assert.equal(c.sim.process(outsider)!.stats().coordinator.writesAcknowledgedLate, 2);
  // ALL with an owner down fails at once, before any live owner could answer or time out.
  const all = set(c, outsider, 'named', 'three', 'all');
  assert.match(all.error!.message, new RegExp(`^only 0 of the 3 replicas needed acknowledged the write in time \\(no acknowledgement from (${first}, ${second}|${second}, ${first}) yet; down: ${third}\\)`));
});

test('a coordinator whose deadline timer fires late (its event loop was busy) reads the acknowledgements already received before failing the write', () => {
  const c = cluster(5);
  const { owners, outsider } = layout(c, 'stall');
  const start = c.sim.now;
  // Two owners answer only after 600 ms, past the 500 ms replica timeout; but the coordinator is
  // itself busy from 400 to 800 ms (a long turn, a starved CPU), so at 800 ms their acks and its
  // deadline timer are all waiting for it: they answered before it could look.
  c.sim.pause(owners[1]!, 600);
  c.sim.pause(owners[2]!, 600);
  let out: { error: KvError | null } | null = null;
  c.sim.process(outsider)!.kv.set(enc.encode('stall'), enc.encode('v'), { consistency: 'quorum' }, (error) => (out = { error }));
  c.sim.at(start + 400, () => c.sim.pause(outsider, 400), 'stall');
  c.sim.runUntil(start + 2_000, () => out !== null);
  assert.deepEqual(out, { error: null });
  assert.equal(c.sim.process(outsider)!.stats().coordinator.stalledExpiries, 1);
});
