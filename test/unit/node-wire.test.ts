import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageFamily, TransportMux } from '../../src/node/wire.ts';
import { datagramByteLength, joinDatagram, type Datagram } from '../../src/protocol/datagram.ts';
import type { NodeAddress, ReceiveHandler, Transport } from '../../src/runtime/env.ts';

/** Two transports wired back to back; each send is recorded as given, and delivered joined. */
function pair(): { a: Transport; b: Transport; sentByA: Datagram[] } {
  const handlers: Record<NodeAddress, ReceiveHandler> = {};
  const sentByA: Datagram[] = [];
  const end = (self: NodeAddress, record: Datagram[] | null): Transport => ({
    send: (to, datagram) => {
      record?.push(datagram);
      handlers[to]?.(self, joinDatagram(datagram));
    },
    onReceive: (handler) => void (handlers[self] = handler),
  });
  return { a: end('a', sentByA), b: end('b', null), sentByA };
}

test('a channel puts its family byte in front of the body as a part of its own, not by copying the body', () => {
  const { a, b, sentByA } = pair();
  const muxA = new TransportMux(a);
  const muxB = new TransportMux(b);
  const got: [string, string, number[]][] = [];
  muxB.channel(MessageFamily.kv).onReceive((from, bytes) => got.push(['kv', from, [...bytes]]));
  muxB.channel(MessageFamily.gossip).onReceive((from, bytes) => got.push(['gossip', from, [...bytes]]));
  const body = new Uint8Array([1, 2, 3]);
  muxA.channel(MessageFamily.kv).send('b', body);
  muxA.channel(MessageFamily.gossip).send('b', [new Uint8Array([9]), body]);
  assert.deepEqual(got, [
    ['kv', 'a', [1, 2, 3]],
    ['gossip', 'a', [9, 1, 2, 3]],
  ]);
  // The body went down as it was given, behind a one-byte part.
  const first = sentByA[0] as readonly Uint8Array[];
  assert.deepEqual(first.map((part) => [...part]), [[MessageFamily.kv], [1, 2, 3]]);
  assert.equal(first[1], body);
  assert.equal(datagramByteLength(sentByA[1]!), 5);
});

test('bytes of no or an unknown family are dropped and counted', () => {
  const { a, b } = pair();
  const muxB = new TransportMux(b);
  const got: Uint8Array[] = [];
  muxB.channel(MessageFamily.kv).onReceive((_from, bytes) => got.push(bytes));
  a.send('b', new Uint8Array(0));
  a.send('b', new Uint8Array([0x00, 1]));
  a.send('b', [Uint8Array.of(MessageFamily.kv), new Uint8Array([7])]);
  assert.equal(muxB.unknownFamily, 2);
  assert.deepEqual(got.map((bytes) => [...bytes]), [[7]]);
});

test('joinDatagram copies: the joined bytes share no buffer with the parts', () => {
  const part = new Uint8Array([1, 2]);
  for (const datagram of [part, [part, part]] as Datagram[]) {
    const joined = joinDatagram(datagram);
    part[0] = 1;
    joined[0] = 99;
    assert.equal(part[0], 1);
    assert.equal(joined.length, datagramByteLength(datagram));
  }
  assert.deepEqual([...joinDatagram([part, new Uint8Array(0), part])], [1, 2, 1, 2]);
});
