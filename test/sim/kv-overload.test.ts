// kv-overload: slow partition actors with tiny mailboxes under more clients than they can serve.
// Backpressure must show (mailboxes refuse, replicas answer busy, clients get `overloaded`) and
// change nothing else: no lost acknowledged write, no mailbox past its bound, convergence after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import { kvOverloadScenario, OVERLOAD_MAILBOX_CAPACITY } from '../../src/sim/scenarios/kv-overload.ts';

interface Backpressure {
  overloaded: number;
  replicasBusy: number;
  mailboxRejected: number;
  mailboxPeakDepth: number;
}

for (const faults of ['none', 'swarm'] as const) {
  test(`kv-overload seed 1 (${faults} faults): clients get overloaded, no checker fails, deterministic`, () => {
    const report = runScenario(kvOverloadScenario, { seed: 1, nodes: 5, durationMs: 20_000, faults }, true);
    assert.deepEqual(report.violations, [], report.replay);
    const bp = report['backpressure'] as Backpressure;
    assert.ok(bp.mailboxRejected > 0, `no mailbox ever refused a job: ${JSON.stringify(bp)}`);
    assert.ok(bp.overloaded > 0, `no client was answered overloaded: ${JSON.stringify(bp)}`);
    assert.equal((report['errors'] as Record<string, number>)['overloaded'], bp.overloaded, 'each overloaded answer reached a client');
    assert.ok(bp.mailboxPeakDepth <= OVERLOAD_MAILBOX_CAPACITY);
    // Not vacuous: acknowledged strict writes were checked against later reads.
    assert.ok((report['strictReadsChecked'] as number) > 0);
    assert.ok((report['opsAcked'] as number) > 0);
  });
}
