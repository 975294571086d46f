/**
 * A burst of SDK writes on one node of a real 3-node cluster (daemons as child processes, the real
 * SDK, one client): every write is answered, none fails.
 *
 * Why they failed: a quorum write's replica deadline (500 ms) runs from the moment the node starts
 * it, and the client sessions started every request they read at once. Thousands of sets in
 * flight on one node started thousands of quorum writes together; those answered after their
 * deadline failed as `unavailable` ("only 1 of the 2 replicas needed acknowledged the write in
 * time"; probe-sdk finding 8), and those past the coordinator's 10,000 pending requests as
 * `overloaded`. The node's admission gate (src/replication/admission-gate.ts), which held RESP's
 * calls only, now holds the SDK's too before they start.
 *
 * Counted in calls, never in time: one burst of BURST sets, and the test counts the failures.
 * BURST is over the coordinator's 10,000 pending requests (DEFAULT_MAX_PENDING_REQUESTS), so the
 * old code refused thousands as `overloaded` whatever the machine's speed (the node would have to
 * answer 5,000 writes before the client's last frames arrived); how many it failed as
 * `unavailable` depends on the machine (1,116 to 3,081 of 10,000 here, 0 at times on an idle one).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import { TestCluster } from './daemon-harness.ts';

/** Sets fired at once, all coordinated by one node. */
const BURST = 15_000;

let cluster: TestCluster;
let client: ShoalClient<string>;

before(async () => {
  cluster = await TestCluster.create(3, [], { admin: true });
  await cluster.startAll();
  await cluster.untilConverged();
  // Routing off: n1 coordinates every call, as when a client's ring points every key there.
  // A client timeout far past what the burst takes on a loaded machine: it only bounds a hang (the
  // nodes refuse, unapplied, what waited past it: session-deadline.test.ts, kv-sdk.test.ts).
  client = await connect<string>({ seeds: cluster.clientAddresses[0]!, routing: false, codec: stringCodec, commandTimeoutMs: 120_000 });
});

after(async () => {
  await client?.close();
  await cluster?.cleanup();
});

/** The value of an unlabelled series in a /metrics text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Fires `count` quorum sets at once; resolves with how many failed, by error code. */
async function burst(prefix: string, count: number): Promise<{ ok: number; failed: Record<string, number> }> {
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

test(`${BURST} SDK sets in flight at once on one node: none fails`, async () => {
  const { ok, failed } = await burst('burst', BURST);
  assert.deepEqual(failed, {}, `${BURST - ok} of ${BURST} sets failed: ${JSON.stringify(failed)}`);
  assert.equal(ok, BURST);
  // The node's gate held them (the SDK's calls, not RESP's: these nodes have no RESP port).
  const text = await (await fetch(`${cluster.nodes[0]!.adminUrl!}/metrics`)).text();
  assert.ok((sample(text, 'shoal_admission_waited_total') ?? 0) > 0, 'calls waited in the admission gate');
  assert.equal(sample(text, 'shoal_admission_in_flight'), 0, 'every call was answered');
  assert.equal(sample(text, 'shoal_admission_waiting'), 0);
});
