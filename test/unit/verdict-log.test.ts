// The peer-verdict story line (src/node/verdict-log.ts): one line per peer per interval, the
// changes held back counted, and the verdict in force logged once the interval allows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/runtime/env.ts';
import { VERDICT_LOG_INTERVAL_MS, VerdictLog } from '../../src/node/verdict-log.ts';

function world() {
  let now = 0;
  const lines: Record<string, unknown>[] = [];
  const info = (obj: object, msg?: string) => void lines.push({ ...obj, msg });
  const log: Logger = { debug: () => {}, info, warn: info, error: info };
  return { log: new VerdictLog(log, () => now), lines, advance: (ms: number) => (now += ms) };
}

test('a flapping peer logs one line per interval, then the verdict in force with the changes held back', () => {
  const { log, lines, advance } = world();
  log.changed('n2', 'slow', 'healthy');
  for (let i = 0; i <= 50; i++) {
    advance(10);
    log.changed('n2', i % 2 === 0 ? 'healthy' : 'slow', i % 2 === 0 ? 'slow' : 'healthy');
  }
  log.changed('n3', 'erroring', 'healthy');
  log.flush();
  assert.deepEqual(lines.map((l) => [l.peer, l.verdict, l.previous, l.suppressed]), [['n2', 'slow', 'healthy', undefined], ['n3', 'erroring', 'healthy', undefined]]);
  assert.equal(lines[0]!.event, 'peer-verdict');
  assert.equal(lines[0]!.msg, 'peer n2 is slow (was healthy)');
  // n2 ended healthy: once the interval is over the log says so, with the 51 changes it held back.
  advance(VERDICT_LOG_INTERVAL_MS);
  log.flush();
  assert.deepEqual(lines.slice(2).map((l) => [l.peer, l.verdict, l.previous, l.suppressed]), [['n2', 'healthy', 'slow', 51]]);
  advance(VERDICT_LOG_INTERVAL_MS);
  log.flush();
  assert.equal(lines.length, 3, 'nothing more to say');
});

test('a peer that flaps back to the verdict the log shows adds nothing until its next change, which counts the flaps', () => {
  const { log, lines, advance } = world();
  log.changed('n2', 'slow', 'healthy');
  advance(1_000);
  log.changed('n2', 'healthy', 'slow');
  log.changed('n2', 'slow', 'healthy');
  advance(VERDICT_LOG_INTERVAL_MS);
  log.flush();
  assert.equal(lines.length, 1);
  log.changed('n2', 'healthy', 'slow');
  assert.deepEqual(lines.map((l) => [l.verdict, l.suppressed]), [['slow', undefined], ['healthy', 2]]);
});

test('a demoted peer back as a new process is said healthy at once, and its lines start afresh', () => {
  const { log, lines, advance } = world();
  log.changed('n2', 'silent', 'healthy');
  advance(1_000);
  log.newProcess('n2', 'silent');
  log.newProcess('n3', 'healthy');
  log.flush();
  assert.deepEqual(lines.map((l) => [l.peer, l.verdict, l.previous, l.restarted]), [['n2', 'silent', 'healthy', undefined], ['n2', 'healthy', 'silent', true]]);
  assert.equal(lines[1]!.msg, 'peer n2 is healthy (was silent): a new process, its previous verdict forgotten');
  advance(VERDICT_LOG_INTERVAL_MS);
  log.flush();
  assert.equal(lines.length, 2, 'nothing held back of the previous process');
});
