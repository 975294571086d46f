/**
 * AclSync over a deterministic in-memory network: queued messages, a manual clock, partitions and
 * a node that is down. Everything is driven step by step; nothing depends on real time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclStore } from '../../src/security/acl.ts';
import { AclSync } from '../../src/security/acl-sync.ts';
import type { ReceiveHandler, Timers, Transport } from '../../src/runtime/env.ts';

class Net {
  now = 0;
  private queue: { from: string; to: string; bytes: Uint8Array }[] = [];
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private handlers = new Map<string, ReceiveHandler>();
  private nextId = 1;
  /** Pairs that cannot talk ("a|b"), and nodes that are down. */
  cut = new Set<string>();
  down = new Set<string>();

  transport(self: string): Transport {
    return {
      send: (to, datagram) => {
        const bytes = datagram instanceof Uint8Array ? datagram : Buffer.concat(datagram as Uint8Array[]);
        this.queue.push({ from: self, to, bytes: bytes.slice() });
      },
      onReceive: (handler) => void this.handlers.set(self, handler),
    };
  }

  timersFor(): Timers {
    return {
      setTimer: (delayMs, fn) => {
        const id = this.nextId++;
        this.timers.push({ at: this.now + delayMs, fn, id });
        return id as never;
      },
      cancelTimer: (id) => void (this.timers = this.timers.filter((t) => t.id !== (id as unknown as number))),
    };
  }

  private blocked(a: string, b: string): boolean {
    return this.down.has(a) || this.down.has(b) || this.cut.has(`${a}|${b}`) || this.cut.has(`${b}|${a}`);
  }

  /** Delivers every queued message (and those they cause), bounded. */
  deliver(): void {
    for (let i = 0; i < 10_000 && this.queue.length > 0; i++) {
      const m = this.queue.shift()!;
      if (!this.blocked(m.from, m.to)) this.handlers.get(m.to)?.(m.from, m.bytes);
    }
  }

  /** Advances the clock by `ms`, firing due timers and delivering after each. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let i = 0; i < 10_000; i++) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.now = next.at;
      next.fn();
      this.deliver();
    }
    this.now = end;
  }
}

function cluster(names: string[]): { net: Net; stores: Map<string, AclStore> } {
  const net = new Net();
  const stores = new Map<string, AclStore>();
  for (const name of names) {
    const store = new AclStore(name, () => net.now);
    stores.set(name, store);
    new AclSync({ store, transport: net.transport(name), timers: net.timersFor(), peers: () => names.filter((n) => n !== name && !net.down.has(n)), intervalMs: 1000 });
  }
  return { net, stores };
}

test('a change on one node reaches all at once', () => {
  const { net, stores } = cluster(['a', 'b', 'c']);
  net.now = 10;
  assert.equal(stores.get('a')!.setUser('alice', ['on', 'nopass', '+@read']), null);
  net.deliver();
  for (const s of stores.values()) assert.deepEqual(s.names(), ['alice', 'default']);
  assert.equal(new Set([...stores.values()].map((s) => s.digest())).size, 1);
});

test('across a partition and a node that was down, anti-entropy converges everyone', () => {
  const { net, stores } = cluster(['a', 'b', 'c']);
  // c is cut off from a and b; changes on both sides.
  net.cut.add('a|c').add('b|c');
  net.now = 10;
  stores.get('a')!.setUser('alice', ['on', 'nopass']);
  net.deliver();
  net.now = 20;
  stores.get('c')!.setUser('carol', ['on', 'nopass']);
  stores.get('c')!.setUser('alice', ['off']); // newer than a's: it wins once the partition heals
  net.deliver();
  assert.deepEqual(stores.get('b')!.names(), ['alice', 'default']);
  assert.deepEqual(stores.get('c')!.names(), ['alice', 'carol', 'default']);
  // b goes down; a deletes carol's... nothing yet: a adds dave while b is down.
  net.down.add('b');
  net.now = 30;
  stores.get('a')!.setUser('dave', ['on', 'nopass']);
  net.deliver();
  // Heal the partition and bring b back: within a few anti-entropy rounds all agree.
  net.cut.clear();
  net.down.clear();
  net.advance(10_000);
  const digests = new Set([...stores.values()].map((s) => s.digest()));
  assert.equal(digests.size, 1);
  for (const s of stores.values()) {
    assert.deepEqual(s.names(), ['alice', 'carol', 'dave', 'default']);
    assert.equal(s.get('alice')!.enabled, false);
  }
  // A deletion (tombstone) spreads too and is not undone by an old copy.
  net.now = 20_000;
  assert.equal(stores.get('b')!.delUsers(['carol']), 1);
  net.deliver();
  net.advance(5000);
  for (const s of stores.values()) assert.deepEqual(s.names(), ['alice', 'dave', 'default']);
});
