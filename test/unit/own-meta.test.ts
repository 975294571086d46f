// A node's own gossip metadata stays within what gossip carries (src/node/own-meta.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkedMeta } from '../../src/gossip/meta.ts';
import { decodeMessage, encodeGossipMessage } from '../../src/gossip/wire.ts';
import { checkRoomForFlags, fitOwnMeta } from '../../src/node/own-meta.ts';
import { encodeVerdicts, PREDICTION_META, VERDICT_META } from '../../src/node/peer-verdicts.ts';
import { RING_META } from '../../src/node/ring-placement.ts';

/** A Kubernetes-style member name of 49 characters. */
const name = (i: number) => `shoal-${i}.shoal-headless.cache-prod.svc.cluster.loc`;
const slow = (count: number) => encodeVerdicts(Array.from({ length: count }, (_, i) => ({ name: name(i), verdict: 'slow' as const })));

/** Whether a peer can read a ping carrying `meta` in its sender's update. */
function peersCanRead(meta: Readonly<Record<string, string | number>>): boolean {
  const update = { name: name(9), address: `${name(9)}:7401`, zone: '', state: 'alive' as const, incarnation: 3, meta, accuser: null };
  const bytes = encodeGossipMessage({ cluster: 'c', sender: name(9), body: { type: 'ping', seq: 1, target: name(1) }, updates: [update] });
  try {
    decodeMessage(bytes, { maxUpdates: 16, maxMessageBytes: 64 * 1024 });
    return true;
  } catch {
    return false;
  }
}

test('a verdict view longer than a peer decodes is cut, entry by entry from the end', () => {
  // Five slow peers of 49-character names: 264 characters, in 300 bytes of metadata. Before, only
  // the 512 bytes were checked, and every probe carrying this update was dropped by its peers.
  const meta = { partitions: 1024, clientAddress: `${name(9)}:7400`, [VERDICT_META.view]: slow(5) };
  assert.equal(peersCanRead(meta), false, 'the premise: peers refuse the whole message');
  const fitted = fitOwnMeta(meta);
  assert.ok(peersCanRead(fitted));
  assert.doesNotThrow(() => checkedMeta(fitted));
  assert.equal(fitted[VERDICT_META.view], slow(4), 'the first four verdicts are kept');
});

test('a full metadata loses its verdicts first, then the prediction and the degraded flag, and its announced ring last', () => {
  // 439 bytes with the leaving flag and the ring; the pad brings it to 497, the degraded flag to 510.
  const base = { partitions: 1024, clientAddress: 'x'.repeat(250), respAddress: 'y'.repeat(100), [RING_META.leaving]: 1, [RING_META.ring]: '0123456789abcdef', pad: 'z'.repeat(53) };
  const optional = { [PREDICTION_META.probability]: 90, [PREDICTION_META.secondsToFailure]: 60, [VERDICT_META.degraded]: 1, [VERDICT_META.view]: slow(2) };
  const fitted = fitOwnMeta({ ...base, ...optional });
  assert.doesNotThrow(() => checkedMeta(fitted));
  assert.deepEqual(fitted, { ...base, [VERDICT_META.degraded]: 1 }, 'the view and the prediction gave way, nothing more');
  const fuller = fitOwnMeta({ ...base, ...optional, pad: 'z'.repeat(80) });
  assert.doesNotThrow(() => checkedMeta(fuller));
  const { [RING_META.ring]: _, ...withoutRing } = base;
  assert.deepEqual(fuller, { ...withoutRing, pad: 'z'.repeat(80) }, 'then the ring went too; the leaving flag never gives way');
  const fits = { a: 1 };
  assert.equal(fitOwnMeta(fits), fits, 'what fits is left alone');
});

test('a node is refused at start when its addresses leave no room for the flags it must publish later', () => {
  const flags = [RING_META.claimSeed, RING_META.leaving, RING_META.draining, 'stopping'];
  assert.doesNotThrow(() => checkRoomForFlags({ partitions: 1024, clientAddress: 'x'.repeat(250), respAddress: 'y'.repeat(50) }, flags));
  assert.throws(() => checkRoomForFlags({ partitions: 1024, clientAddress: 'x'.repeat(250), respAddress: 'y'.repeat(100) }, flags), /leave no room in its gossip metadata for what it publishes later .*: member metadata encodes to more than 512 bytes/);
  assert.throws(() => checkRoomForFlags({ clientAddress: `${'h'.repeat(253)}:7400` }, flags), /this node's addresses do not fit in its gossip metadata: member metadata has clientAddress of 258 characters; at most 256 fit/);
});
