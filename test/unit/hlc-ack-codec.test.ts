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

// The sync answer's `hc`: the answerer's clock, which a restarted node folds in before it coordinates.
const hc = { wallMs: 1_767_225_611_000, logical: 7, node: 0x1234 };

test('a sync answer carries the answerer\'s clock; one from a node before the field decodes without it', () => {
  const answer = { t: 'sr' as const, eq: [1], df: [], v: 'r1' };
  assert.deepEqual(decodeKvMessage(encodeKvMessage({ ...answer, hc })), { ...answer, hc });
  assert.deepEqual(decodeKvMessage(encodeKvMessage(answer)), answer);
});

test('a sync answer whose clock is not a version is refused as malformed', () => {
  assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'sr', eq: [], df: [], v: 'r1', hc: { wallMs: 'soon' } as never })), /"hc"/);
});

test('a version in any message whose numbers are not safe non-negative integers is refused as malformed', () => {
  // The fixed binary layouts (wa, ra) carry a version's wall time as a float64: a peer can send NaN,
  // a negative or a fractional one there; the msgpack ones (sr, sl) any number at all.
  const wallTimes = [-1, 0.5, 2 ** 53, Number.NaN];
  for (const wallMs of wallTimes) {
    const bad = { ...hc, wallMs };
    const label = `wallMs ${wallMs}`;
    assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'sr', eq: [], df: [], v: 'r1', hc: bad })), /"hc"/, label);
    assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'sl', p: 0, b: [], k: [], x: [], v: 'r1', c: true, fh: bad })), /"fh"/, label);
    assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'wa', id: 1, sv: bad })), /"sv"/, label);
    assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, e: bad })), /"e"/, label);
    assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'ra', id: 1, r: null, ready: true, h: bad })), /"h"/, label);
  }
  for (const bad of [{ ...hc, logical: 0.5 }, { ...hc, node: -1 }]) {
    assert.throws(() => decodeKvMessage(encodeKvMessage({ t: 'sr', eq: [], df: [], v: 'r1', hc: bad })), /"hc"/, JSON.stringify(bad));
  }
});
