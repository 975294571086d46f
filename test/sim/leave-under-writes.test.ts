// A graceful leave under a steady QUORUM load through every node (5 nodes, N=3): the protocol
// fails no request when the nodes have the CPU to answer in time, and when live owners answer
// late (paused past the replica timeout, as replicas starved of CPU by a handoff on a loaded
// host: docs/OPERATIONS.md, "Writes failing during a leave") the writes that fail say which owners
// were silent, and their late acknowledgements are counted (shoal_writes_acknowledged_late_total).
// Counts of requests and virtual time only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvError } from '../../src/replication/api.ts';
import type { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { loadedCluster } from './drive-cluster.ts';

const enc = new TextEncoder();
const NODES = 5;
const KEYS = 5_000;
/** Requests at least (every fourth a read, the rest writes, all QUORUM); the load goes on until the leave has finished. */
const REQUESTS = 10_000;
/** Clients, each sending its next request THINK_MS after its last one ended (some 6,000 a second in all). */
const CLIENTS = 64;
const THINK_MS = 10;
/** The leave starts this long into the load. */
const LEAVE_AFTER_MS = 50;

interface LoadOutcome {
  writeErrors: KvError[];
  readErrors: KvError[];
  /** Requests a node answered not-ready (a leaving node past its grace) and another node took, as the SDK does. */
  resentNotReady: number;
  left: boolean;
  /** Requests started while node 0 was leaving. */
  duringLeave: number;
}

/** Runs the load through every node that has joined, starts node 0's leave, `atLeave` with it, and waits for both to end. */
function leaveUnderLoad(cluster: KvCluster, atLeave: () => void): LoadOutcome {
  const sim = cluster.sim;
  const out: LoadOutcome = { writeErrors: [], readErrors: [], resentNotReady: 0, left: false, duringLeave: 0 };
  let leaving = false;
  let next = 0;
  let finished = 0;
  const via = (i: number) => {
    const joined = sim.upNodes().filter((n) => n.process!.joined);
    return joined[i % joined.length]!;
  };
  const request = (i: number, attempt: number, done: () => void): void => {
    const node = via(i + attempt);
    // A paused process reads no request: one sent to it starts (and its replica timeout runs)
    // once it resumes, as the frames of a real client would wait in the socket.
    if (node.pausedUntil > sim.now) return sim.at(node.pausedUntil, () => request(i, attempt, done), 'client');
    const kv = node.process!.kv;
    const key = enc.encode(`k${i % KEYS}`);
    const settle = (error: KvError | null, errors: KvError[]) => {
      if (error?.code === 'not-ready') {
        out.resentNotReady++;
        return request(i, attempt + 1, done);
      }
      if (error) errors.push(error);
      done();
    };
    if (i % 4 === 3) kv.get(key, { consistency: 'quorum' }, (error) => settle(error, out.readErrors));
    else kv.set(key, enc.encode(`w${i}`), { consistency: 'quorum' }, (error) => settle(error, out.writeErrors));
  };
  const launch = (): void => {
    if (next >= REQUESTS && out.left) return;
    if (leaving && !out.left) out.duringLeave++;
    request(next++, 0, () => {
      finished++;
      sim.after(THINK_MS, launch, 'client');
    });
  };
  for (let k = 0; k < CLIENTS; k++) launch();
  sim.after(
    LEAVE_AFTER_MS,
    () => {
      leaving = true;
      cluster.leave(0, () => (out.left = true));
      atLeave();
    },
    'leave',
  );
  sim.runUntil(sim.now + 120_000, () => finished === next && out.left);
  assert.ok(out.left, 'the leave finished');
  assert.equal(finished, next, 'every request finished');
  return out;
}

function lateAcks(cluster: KvCluster): number {
  return cluster.totals().coordinator.writesAcknowledgedLate;
}

test('a graceful leave under QUORUM writes and reads through every node fails none of them', () => {
  const cluster = loadedCluster({ seed: 1, nodes: NODES, partitions: 1024, replication: {}, keys: KEYS });
  const out = leaveUnderLoad(cluster, () => {});
  process.stdout.write(`leave under writes: ${out.duringLeave} requests during the leave, ${out.resentNotReady} resent after not-ready\n`);
  assert.ok(out.duringLeave >= REQUESTS, `${out.duringLeave} requests started during the leave`);
  assert.deepEqual(out.writeErrors, []);
  assert.deepEqual(out.readErrors, []);
  assert.equal(lateAcks(cluster), 0);
  cluster.sim.runUntil(cluster.sim.now + 30_000, () => cluster.convergence([]) === null);
  assert.equal(cluster.convergence([]), null, 'the four nodes left agree');
});

test('owners that answer a leave-time write only past the replica timeout fail it unavailable, named, and their late acknowledgements are counted', () => {
  const cluster = loadedCluster({ seed: 1, nodes: NODES, partitions: 1024, replication: {}, keys: KEYS });
  const slow = [2, 3].map((i) => cluster.sim.nodes[i]!.address);
  // Two live owners stall 0.7 s at the leave's start (the replica timeout is 0.5 s), as a
  // handoff's work starves them on a loaded host.
  const out = leaveUnderLoad(cluster, () => slow.forEach((_, k) => cluster.sim.pause(2 + k, 700)));
  cluster.sim.runUntil(cluster.sim.now + 5_000);
  process.stdout.write(`leave under writes, two owners stalled: ${out.writeErrors.length} writes and ${out.readErrors.length} reads failed, ${lateAcks(cluster)} writes acknowledged late\n`);
  assert.ok(out.writeErrors.length > 0, 'writes whose two silent owners stalled failed');
  for (const error of out.writeErrors) {
    assert.equal(error.code, 'unavailable');
    // The two silent owners are the two stalled ones.
    const silent = /no acknowledgement from (\S+), (\S+) within the replica timeout \(500 ms\)/.exec(error.message);
    assert.ok(silent && silent.slice(1).every((name) => slow.includes(name)), error.message);
  }
  assert.equal(lateAcks(cluster), out.writeErrors.length, 'every failed write reached its level with late acknowledgements');
});
