/**
 * Admission of keyspace calls (src/replication/admission-gate.ts), over real sockets to a server in this
 * process. The keyspace stands in for a node's coordinator by its one property that matters here:
 * a call's deadline runs from the moment it starts, so a call that starts behind too many others
 * is answered too late and fails, as a quorum write does with CLUSTERDOWN ("only 1 of the 2
 * replicas needed acknowledged the write in time"). Counted in calls, not time: the keyspace
 * answers CALLS_PER_TURN calls per event-loop turn, oldest first, and fails a call that had
 * DEADLINE_CALLS or more calls ahead of it when it started.
 *
 * redis-benchmark -t mset -P 16 -c 50 against a node of 3 nodes N=3 W=2 ran at 29.9 MSETs a second
 * (bench/results/resp-2026-12-02.json): 50 x 16 MSETs of 10 keys started 8,000 quorum writes at
 * once on the node owning the hash-tag slot, the later ones failed past their deadline, and
 * redis-benchmark --cluster sleeps a second after each CLUSTERDOWN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRespServer } from '../../src/resp/server.ts';
import { deadlineKeyspace } from './deadline-keyspace.ts';
import { RawConnection } from './resp-raw.ts';

test('50 connections pipelining 16 MSETs of 10 keys each: every MSET answers OK, none started past its deadline', async () => {
  const { keyspace, peak, late } = deadlineKeyspace();
  const server = await startRespServer({ keyspace, port: 0 });
  const connections = await Promise.all(Array.from({ length: 50 }, () => RawConnection.open(server.port)));
  try {
    const value = 'v'.repeat(100);
    const replies = await Promise.all(
      connections.map(async (connection, c) => {
        for (let m = 0; m < 16; m++) {
          const args = ['MSET'];
          for (let k = 0; k < 10; k++) args.push(`key:{tag}:${c}:${m}:${k}`, value);
          connection.send(args);
        }
        const got: string[] = [];
        for (let m = 0; m < 16; m++) got.push(await connection.read(`MSET ${m} of connection ${c}`));
        return got;
      }),
    );
    const errors = replies.flat().filter((reply) => reply !== '+OK\r\n');
    assert.deepEqual(errors.slice(0, 3), [], `${errors.length} of 800 MSETs failed; at most ${peak()} keyspace calls were unanswered at once`);
    assert.equal(late(), 0);
    assert.equal(replies.flat().length, 800);
  } finally {
    for (const connection of connections) connection.close();
    await server.close();
  }
});

// One connection pipelining 20 MSETs of 1,000 keys keeps about 2,500 keyspace calls waiting in the
// gate (each MSET sends 128 at a time). Before, the gate started waiting calls in arrival order, so
// another connection's GET sent meanwhile started only after every call waiting before it; now
// waiting connections take turns, and it starts with the next room. Counted in calls started.
test("another connection's GET is not queued behind one connection's pipelined MSETs", async () => {
  const { keyspace: slow } = deadlineKeyspace();
  const started: string[] = [];
  const keyspace = Object.assign(Object.create(slow) as typeof slow, {
    get: ((key, options, done) => (started.push(`get ${key}`), slow.get(key, options, done))) as typeof slow.get,
    set: ((key, value, options, done) => (started.push(`set ${key}`), slow.set(key, value, options, done))) as typeof slow.set,
  });
  const server = await startRespServer({ keyspace, port: 0 });
  const [bulk, other] = await Promise.all([RawConnection.open(server.port), RawConnection.open(server.port)]);
  try {
    for (let m = 0; m < 20; m++) {
      const args = ['MSET'];
      for (let k = 0; k < 1_000; k++) args.push(`bulk:${m}:${k}`, 'v');
      bulk.send(args);
    }
    // Event-driven: the GET goes once the MSETs' calls wait in the gate.
    while (server.admission.waitingCount < 1_000) await new Promise((resolve) => setImmediate(resolve));
    const waitingBefore = server.admission.waitingCount;
    const startedBefore = started.length;
    other.send(['GET', 'probe']);
    assert.equal(await other.read('the GET'), '$-1\r\n');
    // In arrival order it would start after every call waiting when it arrived (about waitingBefore,
    // as each answered call of an MSET queues its next); taking turns, after the calls that started
    // while its bytes were on their way (a turn or two of the keyspace: 64 calls each) and one more.
    const ahead = started.indexOf('get probe') - startedBefore;
    assert.ok(ahead >= 0 && ahead < waitingBefore / 2, `${ahead} calls started between the GET's sending and its start (${waitingBefore} were waiting)`);
    for (let m = 0; m < 20; m++) assert.equal(await bulk.read(`MSET ${m}`), '+OK\r\n');
  } finally {
    bulk.close();
    other.close();
    await server.close();
  }
});
