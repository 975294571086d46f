// Asking every member (src/daemon/member-ask.ts) over a hand-made channel: answers come back by
// name, a member whose answer is lost is unreachable after the timeout, an answer from another
// address or a duplicate is ignored, an answerer's error travels back, and junk is counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemberAsk, type AskKind } from '../../src/daemon/member-ask.ts';
import type { Datagram, NodeAddress, ReceiveHandler, Transport } from '../../src/runtime/env.ts';

/** Channels between named addresses; `drop` loses what it matches, `tamper` rewrites the sender. */
function network() {
  const handlers = new Map<NodeAddress, ReceiveHandler>();
  const rules = { drop: (_from: NodeAddress, _to: NodeAddress) => false, sender: (from: NodeAddress) => from, duplicate: false };
  const channel = (self: NodeAddress): Transport => ({
    send: (to, datagram: Datagram) => {
      if (rules.drop(self, to)) return;
      const bytes = datagram instanceof Uint8Array ? datagram.slice() : Buffer.concat(datagram.map((d) => Buffer.from(d)));
      const deliver = () => handlers.get(to)?.(rules.sender(self), bytes);
      queueMicrotask(deliver);
      if (rules.duplicate) queueMicrotask(deliver);
    },
    onReceive: (handler) => void handlers.set(self, handler),
  });
  return { channel, rules, handlers };
}

function member(net: ReturnType<typeof network>, name: string, peers: string[], answer: (kind: AskKind, count: number) => unknown = (kind, count) => ({ from: name, kind, count })) {
  return new MemberAsk({ channel: net.channel(name), members: () => peers.map((p) => ({ name: p, address: p })), answer, timeoutMs: 50 });
}

test('every member answers by name; a lost answer makes its member unreachable; errors travel back', async () => {
  const net = network();
  const a = member(net, 'a', ['b', 'c', 'd']);
  member(net, 'b', []);
  member(net, 'c', []);
  member(net, 'd', [], () => {
    throw new Error('analytics are off');
  });
  net.rules.drop = (from, to) => from === 'c' && to === 'a';
  const result = await a.askAll('hotkeys', 5);
  assert.deepEqual(result.answers, [{ name: 'b', body: { from: 'b', kind: 'hotkeys', count: 5 } }]);
  assert.deepEqual(
    result.unreachable.map((u) => [u.name, u.error]),
    [
      ['c', 'no answer within 50 ms'],
      ['d', 'analytics are off'],
    ],
  );
});

test('an answer from another address than the one asked, or a duplicate, is ignored; junk is counted', async () => {
  const net = network();
  const a = member(net, 'a', ['b']);
  member(net, 'b', []);
  net.rules.sender = (from) => (from === 'b' ? 'mallory' : from);
  assert.deepEqual((await a.askAll('stats')).unreachable.map((u) => u.name), ['b'], 'an answer claiming another sender does not count');
  net.rules.sender = (from) => from;
  net.rules.duplicate = true;
  const twice = await a.askAll('stats');
  assert.equal(twice.answers.length, 1);
  net.handlers.get('a')!('b', new TextEncoder().encode('not json'));
  net.handlers.get('a')!('b', new TextEncoder().encode('{"t":"q","id":1,"kind":"secrets","count":0}'));
  assert.equal(a.junk, 2);
});
