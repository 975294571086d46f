import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATAGRAM_LENGTH_BYTES, DatagramBatchError, DatagramBatchWriter, forEachDatagram } from '../../src/protocol/index.ts';

function datagramsOf(batch: Uint8Array): number[][] {
  const out: number[][] = [];
  forEachDatagram(batch, (d) => out.push([...d]));
  return out;
}

test('a batch carries its datagrams in order, empty and large ones included, copied at add', () => {
  const writer = new DatagramBatchWriter();
  const reused = new Uint8Array([1, 2, 3]);
  const large = new Uint8Array(10_000).map((_, i) => i % 251);
  writer.add(reused);
  reused.fill(9); // the writer copied it: the batch still holds 1, 2, 3
  writer.add(new Uint8Array(0));
  writer.add(large);
  assert.equal(writer.datagrams, 3);
  assert.equal(writer.byteLength, 3 * DATAGRAM_LENGTH_BYTES + 3 + 10_000);
  const batch = writer.take()!;
  assert.deepEqual(datagramsOf(batch), [[1, 2, 3], [], [...large]]);
  // Taking starts a fresh batch; the one handed over is not touched by later adds.
  assert.equal(writer.take(), null);
  writer.add(new Uint8Array([7]));
  assert.deepEqual(datagramsOf(writer.take()!), [[7]]);
  assert.deepEqual(datagramsOf(batch)[0], [1, 2, 3]);
});

test('a gather list is batched as one datagram of its parts end to end, copied at add', () => {
  const writer = new DatagramBatchWriter();
  const prefix = Uint8Array.of(0x4b);
  const body = new Uint8Array([1, 2, 3]);
  writer.add([prefix, body]);
  writer.add([]);
  writer.add([new Uint8Array(0), prefix, new Uint8Array(5000).fill(6)]);
  body.fill(0);
  assert.equal(writer.datagrams, 3);
  assert.equal(writer.byteLength, 3 * DATAGRAM_LENGTH_BYTES + 4 + 0 + 5001);
  assert.deepEqual(datagramsOf(writer.take()!), [[0x4b, 1, 2, 3], [], [0x4b, ...new Array<number>(5000).fill(6)]]);
});

test('a batch whose lengths do not add up delivers nothing and throws DatagramBatchError', () => {
  const writer = new DatagramBatchWriter();
  writer.add(new Uint8Array([1, 2]));
  writer.add(new Uint8Array([3, 4, 5]));
  const batch = writer.take()!;
  for (const corrupt of [batch.subarray(0, batch.length - 1), batch.subarray(0, DATAGRAM_LENGTH_BYTES + 2 + 1)]) {
    const delivered: Uint8Array[] = [];
    assert.throws(() => forEachDatagram(corrupt, (d) => delivered.push(d)), DatagramBatchError);
    assert.equal(delivered.length, 0);
  }
});
