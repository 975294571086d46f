import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WireDecodeError } from '../../src/gossip/errors.ts';
import { decodeMessage, encodeGossipMessage, type GossipMessage, type MemberUpdate, type MessageBody } from '../../src/gossip/wire.ts';
import { buildCluster, runUntilAgreed } from '../../src/sim/scenarios/swim-harness.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const LIMITS = { maxMessageBytes: 64 * 1024, maxUpdates: 1000 };

const ident = fc.string({ minLength: 1, maxLength: 20 });
const update: fc.Arbitrary<MemberUpdate> = fc.record({
  name: ident,
  address: ident,
  zone: fc.string({ maxLength: 10 }),
  incarnation: fc.nat(),
  state: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
  // `__proto__` is not a valid meta key: the decoder refuses it (it would be a prototype, not a key).
  meta: fc.dictionary(ident.filter((k) => k !== '__proto__'), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxKeys: 5 }),
  accuser: fc.option(ident, { nil: null }),
});
const body: fc.Arbitrary<MessageBody> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: fc.nat(), target: ident }),
  fc.record({ type: fc.constant('ack' as const), seq: fc.nat(), target: ident }),
  fc.record({ type: fc.constant('nack' as const), seq: fc.nat(), target: ident }),
  fc.record({ type: fc.constant('ping-req' as const), seq: fc.nat(), target: ident, targetAddress: ident, wantNack: fc.boolean() }),
  fc.record({ type: fc.constant('sync' as const), reply: fc.boolean() }),
  fc.record({ type: fc.constant('gossip' as const) }),
  fc.record({ type: fc.constant('refuse' as const) }),
);
const message: fc.Arbitrary<GossipMessage> = fc.record({ cluster: ident, sender: ident, body, updates: fc.array(update, { maxLength: 20 }) });

/** Decoding either succeeds or raises a WireDecodeError; never anything else. */
function decodeOrReason(bytes: Uint8Array): GossipMessage | string {
  try {
    return decodeMessage(bytes, LIMITS);
  } catch (e) {
    assert.ok(e instanceof WireDecodeError, `unexpected ${(e as Error).name}: ${(e as Error).message}`);
    return e.reason;
  }
}

test('every valid message survives encode/decode unchanged', () => {
  fc.assert(
    fc.property(message, (m) => {
      const back = decodeMessage(encodeGossipMessage(m), LIMITS);
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(m)));
    }),
    { numRuns: 500 },
  );
});

test('arbitrary bytes never throw anything but WireDecodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void decodeOrReason(bytes)), { numRuns: 3000 });
});

test('every strict prefix of a valid message is rejected', () => {
  fc.assert(
    fc.property(message, fc.nat(), (m, cut) => {
      const bytes = encodeGossipMessage(m);
      const prefix = bytes.subarray(0, cut % bytes.length);
      assert.equal(typeof decodeOrReason(prefix), 'string');
    }),
    { numRuns: 1000 },
  );
});

test('flipped bytes in a valid message decode to a valid message or are rejected', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, x) => {
      const bytes = encodeGossipMessage(m).slice();
      bytes[at % bytes.length]! ^= x;
      void decodeOrReason(bytes);
    }),
    { numRuns: 2000 },
  );
});

test('oversized messages are rejected before decoding', () => {
  assert.equal(decodeOrReason(new Uint8Array(LIMITS.maxMessageBytes + 1)), 'oversized');
});

test('a live member fed junk, truncated and foreign messages keeps its view and counts them', () => {
  const sim = buildCluster({ seed: 7, nodes: 4, trace: new EventTrace() });
  assert.notEqual(runUntilAgreed(sim, 30_000), null);
  const node = sim.nodes[1]!;
  const p = node.process!;
  const before = { digest: p.viewDigest(), members: p.members().length };
  const junk = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    message.map((m) => encodeGossipMessage({ ...m, cluster: 'another-cluster' })),
    fc.tuple(message, fc.nat()).map(([m, cut]) => {
      const b = encodeGossipMessage({ ...m, cluster: 'shoal' });
      return b.subarray(0, cut % b.length);
    }),
  );
  let fed = 0;
  fc.assert(
    fc.property(junk, (bytes) => {
      fed++;
      node.receive!('intruder', bytes);
      assert.equal(p.viewDigest(), before.digest);
      assert.equal(p.members().length, before.members);
    }),
    { numRuns: 1000 },
  );
  const s = p.stats;
  assert.equal(s.malformed + s.oversized + s.unsupportedVersion + s.foreignCluster, fed, 'every junk message is counted');
  assert.ok(s.foreignCluster > 0);
});
