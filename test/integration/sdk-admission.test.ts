/**
 * Bursts of SDK writes on one node: the real SDK over real WebSockets, against a client server in
 * this process whose keyspace fails calls started too far back (counted in calls: deterministic),
 * and against a real 3-node cluster (daemons as child processes).
 *
 * Why they failed: a quorum write's replica deadline (500 ms) runs from the moment the node starts
 * it, and the client sessions started every request they read at once. Thousands of sets in
 * flight on one node started thousands of quorum writes together; those answered after their
 * deadline failed as `unavailable` ("only 1 of the 2 replicas needed acknowledged the write in
 * time"; probe-sdk finding 8), and those past the coordinator's 10,000 pending requests as
 * `overloaded`. The node's admission gate (src/replication/admission-gate.ts), which held RESP's
 * calls only, now holds the SDK's too before they start.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import { AdmissionGate } from '../../src/replication/admission-gate.ts';
import { startClientServer } from '../../src/server/client-server.ts';
import { TestCluster } from './daemon-harness.ts';
import { deadlineKeyspace } from './deadline-keyspace.ts';

/** The value of an unlabelled series in a /metrics text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Fires `count` sets at once through `client`; resolves with how many succeeded and how many
 * failed, by error code.
 */
async function burst(client: ShoalClient<string>, prefix: string, count: number): Promise<{ ok: number; failed: Record<string, number> }> {
  const value = 'v'.repeat(100);
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => client.set(`${prefix}:${i}`, value, { consistency: 'quorum' })));
  const failed: Record<string, number> = {};
  let ok = 0;
  for (const result of results) {
    if (result.status === 'fulfilled') ok++;
    else {
      const error = result.reason as { code?: string; name?: string };
      const code = error.code ?? error.name ?? 'unknown';
      failed[code] = (failed[code] ?? 0) + 1;
    }
  }
  return { ok, failed };
}

/**
 * A client timeout far past what a burst takes on a loaded machine: it only bounds a hang (what
 * waits in the gate past a client's deadline is refused unapplied: session-deadline.test.ts).
 */
const CLIENT_OPTIONS = { routing: false, codec: stringCodec, commandTimeoutMs: 120_000 };

// Counted in calls: the keyspace answers 64 calls a turn and fails those started behind 2,000 or
// more. Without the gate the 5,000 sets start at once and the later ones fail (seen on 47c91a5,
// whose startClientServer has no `admission`: 2,936 of 5,000 `unavailable`, 4,936 calls
// unanswered at once); through it at most 1,024 are ever in flight.
test('5,000 SDK sets at once through a client server with the admission gate: none starts past its deadline', async () => {
  const { keyspace, peak, late } = deadlineKeyspace();
  const server = await startClientServer({ kv: keyspace, nodeName: 'n1', admission: new AdmissionGate({ nowMs: () => performance.now() }) });
  const client = await connect<string>({ seeds: `127.0.0.1:${server.port}`, ...CLIENT_OPTIONS });
  try {
    const { ok, failed } = await burst(client, 'in-process', 5_000);
    assert.deepEqual(failed, {}, `${5_000 - ok} of 5,000 sets failed: ${JSON.stringify(failed)}; at most ${peak()} calls were unanswered at once`);
    assert.equal(late(), 0);
  } finally {
    await client.close();
    await server.close({ graceMs: 0 });
  }
});

/** Sets fired at once on the real cluster, all coordinated by one node. */
const BURST = 15_000;

// On 47c91a5 three runs in three failed: 5,702 (40 unavailable, 1,214 timeout at a 5 s client
// timeout, 4,448 overloaded), 960 unavailable, and 4,168 overloaded of 15,000. How many fail there
// depends on the machine; with the gate none is over the coordinator's pending bound
// (`overloaded`), and `unavailable` is left only when a starved machine answers the gate's own
// limit (up to 1,024 calls) later than the replica timeout (230 of 15,000 in one burst of a hand
// run at load 10, none in this test's runs): at most 2% is allowed for that.
test(`${BURST} SDK sets in flight at once on one node of a real cluster: none overloaded, next to none unavailable`, async (t) => {
  const cluster = await TestCluster.create(3, [], { admin: true });
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  // Routing off: n1 coordinates every call, as when a client's ring points every key there.
  const client = await connect<string>({ seeds: cluster.clientAddresses[0]!, ...CLIENT_OPTIONS });
  t.after(() => client.close());
  const { ok, failed } = await burst(client, 'burst', BURST);
  const message = `${BURST - ok} of ${BURST} sets failed: ${JSON.stringify(failed)}`;
  assert.deepEqual(Object.keys(failed).filter((code) => code !== 'unavailable'), [], message);
  assert.ok((failed['unavailable'] ?? 0) <= BURST * 0.02, message);
  // The node's gate held them (the SDK's calls, not RESP's: these nodes have no RESP port).
  const text = await (await fetch(`${cluster.nodes[0]!.adminUrl!}/metrics`)).text();
  assert.ok((sample(text, 'shoal_admission_waited_total') ?? 0) > 0, 'calls waited in the admission gate');
  assert.equal(sample(text, 'shoal_admission_in_flight'), 0, 'every call was answered');
  assert.equal(sample(text, 'shoal_admission_waiting'), 0);
});
