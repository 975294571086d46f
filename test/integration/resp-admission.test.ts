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
