// UnansweredWrites: finished writes kept for their silent owners' late acks, within a count, byte
// and age bound, each forgotten through the callback exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UNANSWERED_KEPT, UNANSWERED_MAX_BYTES, UNANSWERED_WINDOW_MS, UnansweredWrites, type UnansweredWrite } from '../../src/replication/unanswered-writes.ts';

function kept() {
  const forgotten: string[] = [];
  const writes = new UnansweredWrites((w) => forgotten.push(w.key));
  const write = (key: string, silent: string[], finishedAtMs = 0, bytes = 10): UnansweredWrite => ({ key, version: { wallMs: 1, logical: 0, node: 1 }, silent: new Set(silent), bytes, finishedAtMs, reissue: () => {} });
  return { writes, write, forgotten };
}

test('a write is kept for its silent owners only: another node\'s ack, or a second one from the same owner, finds nothing', () => {
  const { writes, write } = kept();
  assert.equal(writes.keep(1, write('k', [])), false, 'nobody silent: nothing to wait for');
  assert.equal(writes.keep(2, write('k', ['a', 'b'])), true);
  assert.equal(writes.answered(2, 'c', 0), undefined);
  assert.equal(writes.answered(2, 'a', 0)?.key, 'k');
  assert.equal(writes.answered(2, 'a', 0), undefined);
  assert.equal(writes.answered(2, 'b', 0)?.silent.size, 0);
});

test('the oldest writes are forgotten past the count bound, the byte bound and the window, each once', () => {
  const { writes, write, forgotten } = kept();
  for (let id = 0; id < UNANSWERED_KEPT + 2; id++) writes.keep(id, write(`k${id}`, ['a']));
  assert.equal(writes.size, UNANSWERED_KEPT);
  assert.deepEqual(forgotten, ['k0', 'k1']);
  assert.equal(writes.answered(0, 'a', 0), undefined);
  assert.equal(writes.keep(-1, write('huge', ['a'], 0, UNANSWERED_MAX_BYTES + 1)), false);
  writes.keep(-2, write('big', ['a'], 0, UNANSWERED_MAX_BYTES - 100));
  assert.ok(writes.size < UNANSWERED_KEPT, 'older ones made room for its bytes');
  forgotten.length = 0;
  const before = writes.size;
  writes.keep(-3, write('late', ['a'], UNANSWERED_WINDOW_MS));
  assert.equal(forgotten.length, before, 'every write finished a window earlier is forgotten');
  assert.equal(writes.size, 1);
  writes.drop(-3);
  writes.drop(-3);
  assert.equal(forgotten.filter((k) => k === 'late').length, 1);
});

test('a key\'s writes are forgotten at once when a newer write of it is stamped, others kept', () => {
  const { writes, write, forgotten } = kept();
  writes.keep(1, write('k', ['a']));
  writes.keep(2, write('k', ['b']));
  writes.keep(3, write('j', ['a']));
  writes.dropKey('k');
  assert.deepEqual(forgotten, ['k', 'k']);
  assert.equal(writes.answered(1, 'a', 0), undefined);
  assert.equal(writes.answered(3, 'a', 0)?.key, 'j');
  writes.dropKey('k');
  assert.equal(forgotten.length, 2);
});
