// The write ack's `sv` (docs/REPLICATION.md, "Versions across restarts"): a replica that kept a
// version an earlier incarnation of the write's coordinator handed out sends it after the binary
// ack; a node before the field reads the first 9 bytes as an ordinary ack, and a plain ack stays 9.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeKvMessage, encodeKvMessage } from '../../src/replication/messages.ts';

const sv = { wallMs: 1_767_225_611_000, logical: 4, node: 0x59fe74e3 };

test('an ack carrying the superseding version round-trips it', () => {
  const bytes = encodeKvMessage({ t: 'wa', id: 42, sv });
  assert.equal(bytes.length, 25);
  assert.deepEqual(decodeKvMessage(bytes), { t: 'wa', id: 42, sv });
});

test('a plain ack is 9 bytes and decodes without sv; the first 9 bytes of one with sv are that plain ack', () => {
  const plain = encodeKvMessage({ t: 'wa', id: 42 });
  assert.equal(plain.length, 9);
  assert.deepEqual(decodeKvMessage(plain), { t: 'wa', id: 42 });
  assert.deepEqual(encodeKvMessage({ t: 'wa', id: 42, sv }).subarray(0, 9), plain);
});
