// Sync data is bounded by bytes as well as by records (src/replication/sync.ts, SYNC_PUSH_BYTES and
// SYNC_MESSAGE_BYTES): before, one answer pushed up to syncBatch records in one `sd` message
// whatever their size, so large values made messages past the largest a node accepts
// (DEFAULT_MAX_MESSAGE_BYTES) and rounds past the bulk lane's send buffer, which the real
// transport drops. A handed-off partition of large values must arrive whole, in messages and
// rounds within those limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_BULK_BUFFERED_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from '../../src/transport/ws-transport.ts';
import { syncPair } from './replication-sync-pair.ts';

const SYNC_INTERVAL_MS = 1_000;
const VALUE_BYTES = 512 * 1024;
/** 48 values of 512 KiB: 24 MiB, within one answer's record budget (syncBatch, 512) at once. */
const KEYS = 48;

test('pushes of large values go in messages the receiver accepts and rounds the bulk lane buffers, and all of them arrive', () => {
  const sdSizes: number[] = [];
  const { nodes, put, flush, now } = syncPair({
    config: { syncIntervalMs: SYNC_INTERVAL_MS },
    onSend: (m, bytes) => {
      if (m.t === 'sd') sdSizes.push(bytes);
    },
  });
  for (let i = 0; i < KEYS; i++) put('n1', `key:${i}`, { wallMs: 1_000 + i, logical: 0, node: 1 }, new Uint8Array(VALUE_BYTES).fill(i));
  flush();
  nodes.get('n1')!.sync.start();
  const held = (): number => {
    let size = 0;
    nodes.get('n2')!.host.run(0, (actor) => void (size = actor.replica.size));
    flush();
    return size;
  };
  const perRound: number[] = [];
  for (let round = 0; round < 20 && held() < KEYS; round++) {
    sdSizes.length = 0;
    flush(now() + 2 * SYNC_INTERVAL_MS);
    perRound.push(sdSizes.reduce((a, b) => a + b, 0));
    assert.ok(sdSizes.every((bytes) => bytes <= DEFAULT_MAX_MESSAGE_BYTES), `a sync data message of ${Math.max(...sdSizes)} bytes, past the ${DEFAULT_MAX_MESSAGE_BYTES} a node accepts`);
  }
  assert.equal(held(), KEYS, 'n2 holds every value n1 pushed');
  assert.ok(perRound.every((bytes) => bytes <= DEFAULT_MAX_BULK_BUFFERED_BYTES), `a round pushed ${Math.max(...perRound)} bytes, past the bulk lane's buffer of ${DEFAULT_MAX_BULK_BUFFERED_BYTES}`);
});
