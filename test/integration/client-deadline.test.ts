/**
 * A write the SDK reported as failed (TimeoutError) must not be applied later over a newer
 * acknowledged write (probe-sdk finding 1). The key's primary n2 is frozen (SIGSTOP) with the
 * failed write in its socket; a newer write is acknowledged by n1 and n3; n2 resumes. Before
 * request deadlines, n2 then versioned the stale write afresh and last-writer-wins made it beat the
 * acknowledged one on every replica. Now n2 refuses it: its deadline passed while n2 was frozen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec, TimeoutError, type ShoalClient } from '../../src/client/index.ts';
import { TestCluster, until } from './daemon-harness.ts';
import { keysLedBy, untilConnected } from './ring-keys.ts';

/** The timed-out write's own timeout: short, so the test need not freeze n2 for long. */
const STALE_WRITE_TIMEOUT_MS = 1_000;

test('a write that timed out on a frozen node is not applied when it resumes: the newer acknowledged write wins', async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const n2 = cluster.nodes[1]!;
  const n3 = cluster.nodes[2]!;
  // n2 stays frozen until it is sent SIGCONT, even if an assertion fails first.
  t.after(() => n2.kill('SIGCONT'));

  // Client A routes by the ring, without keepalive pings: its connection to n2 outlives the
  // freeze, so its later requests queue behind the stale write on the same socket.
  const a = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 10_000, keepaliveIntervalMs: 0 });
  t.after(() => a.close());
  const [key] = (await keysLedBy(a, 'n2', 'deadline:', 1)) as [string];
  await untilConnected(a, n2);
  await a.set(key, 'v1', { consistency: 'all' });

  n2.kill('SIGSTOP');
  await assert.rejects(a.set(key, 'v2-timed-out', { timeoutMs: STALE_WRITE_TIMEOUT_MS }), TimeoutError);

  // Client B knows only n3 and sends every call there (n3 coordinates): the newer write is
  // acknowledged by n3 and n1 while n2 is frozen.
  const b = await connect({ seeds: [n3.clientAddress], codec: stringCodec, routing: false, commandTimeoutMs: 10_000 });
  t.after(() => b.close());
  await until(
    'n3 to acknowledge the newer write at QUORUM',
    () => b.set(key, 'v3-acknowledged', { consistency: 'quorum' }).then(() => true),
    60_000,
  );

  n2.kill('SIGCONT');
  // A's next call goes to n2 over the same connection, behind the stale write: once it is
  // answered, n2 has taken the stale write up (and, before the fix, coordinated it first).
  await until('n2 to answer client A again', () => a.get(key, { consistency: 'one', timeoutMs: 5_000 }).then(() => true), 60_000);
  await cluster.untilConverged();

  // Every replica answers (ALL): the acknowledged write must win, whichever node coordinates.
  const viaN2 = await readAll(a, key);
  const viaN3 = await readAll(b, key);
  assert.deepEqual({ viaN2, viaN3 }, { viaN2: 'v3-acknowledged', viaN3: 'v3-acknowledged' });
});

/** A read at ALL, retried while a replica is not counted yet (unavailable just after the freeze). */
function readAll(client: ShoalClient<string>, key: string): Promise<string | null> {
  return until(`a read of ${key} at ALL`, () => client.get(key, { consistency: 'all', detail: true }).then((d) => (d.acks === 3 ? d.value : undefined)), 60_000);
}
