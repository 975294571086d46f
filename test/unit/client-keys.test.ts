// String keys are sent as their UTF-8 bytes. A string that is not well-formed UTF-16 (a lone
// surrogate) has no UTF-8 form: TextEncoder writes U+FFFD for it, so 'a\uD800' and 'a\uFFFD' were
// one key (probe-sdk F7). The client refuses such keys, and such a keyPrefix or near-cache prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShoalClient, connect } from '../../src/client/client.ts';
import { wellFormed } from '../../src/client/checks.ts';
import { resolveOptions } from '../../src/client/options.ts';
import type { WebSocketConstructor } from '../../src/client/websocket.ts';

/** A WebSocket that never opens and counts what was sent: the client dials it and waits; close() closes it. */
class NeverOpens {
  static sent = 0;
  binaryType = 'arraybuffer';
  readyState = 0;
  private readonly onClose: ((event: { code: number; reason: string }) => void)[] = [];
  send(): void {
    NeverOpens.sent++;
  }
  close(): void {
    this.readyState = 3;
    for (const listener of this.onClose) listener({ code: 1006, reason: '' });
  }
  addEventListener(type: string, listener: (event: { code: number; reason: string }) => void): void {
    if (type === 'close') this.onClose.push(listener);
  }
}

test('a string key with a lone surrogate is refused before anything is sent, not merged with its U+FFFD twin', async () => {
  const client = new ShoalClient({ seeds: 'a:1', webSocket: NeverOpens as unknown as WebSocketConstructor, reconnect: false });
  try {
    for (const key of ['sur\uD800', 'sur\uDC00', '\uDBFFx', 'a\uDC00\uD800b']) {
      await assert.rejects(client.get(key), { name: 'TypeError', message: /^get\(\): a string key must be well-formed UTF-16: it has a lone surrogate at index \d+, which UTF-8 turns into U\+FFFD \(the bytes of another key\); give a binary key as a Uint8Array/ }, JSON.stringify(key));
      await assert.rejects(client.set(key, 1), { name: 'TypeError', message: /^set\(\): a string key must be well-formed/ });
      await assert.rejects(client.delete(key), { name: 'TypeError', message: /^delete\(\)/ });
      await assert.rejects(client.incr(key), { name: 'TypeError', message: /^incr\(\)/ });
      await assert.rejects(client.mset({ [key]: 1 }), { name: 'TypeError', message: /^set\(\)/ });
    }
    assert.equal(NeverOpens.sent, 0);
    // Surrogate pairs, U+FFFD itself and the empty string's neighbours are fine: the calls go to the offline queue.
    for (const key of ['sur\uFFFD', 'emoji \uD83D\uDE00', 'nul \u0000']) {
      const pending = client.get(key, { timeoutMs: 1 });
      await assert.rejects(pending, (e: Error) => e.name !== 'TypeError', JSON.stringify(key));
    }
  } finally {
    await client.close();
  }
});

test('a keyPrefix or near-cache prefix with a lone surrogate is refused at connect', () => {
  assert.throws(() => resolveOptions({ seeds: 'a:1', keyPrefix: 'app\uD800:' }), { name: 'TypeError', message: /^connect\(\): `keyPrefix` must be well-formed UTF-16: it has a lone surrogate at index 3, which UTF-8 turns into U\+FFFD/ });
  assert.throws(() => resolveOptions({ seeds: 'a:1', nearCache: { maxEntries: 1, prefixes: ['ok', 'u\uDC00'] } }), { name: 'TypeError', message: /^connect\(\): `nearCache.prefixes\[1\]` must be well-formed UTF-16: it has a lone surrogate at index 1/ });
});

test('without String.prototype.isWellFormed (older browsers) the scan finds the same lone surrogates', () => {
  const native = Object.getOwnPropertyDescriptor(String.prototype, 'isWellFormed');
  if (native !== undefined) delete (String.prototype as { isWellFormed?: unknown }).isWellFormed;
  try {
    for (const ok of ['', 'abc', '\uD83D\uDE00', 'a\uD83D\uDE00b\uFFFD', '\uDBFF\uDFFF']) assert.doesNotThrow(() => wellFormed(ok, 'k'), JSON.stringify(ok));
    const bad: [string, number][] = [['\uD800', 0], ['a\uDC00', 1], ['\uD83D\uDE00\uD83D', 2], ['\uDC00\uD800', 0], ['ab\uD800c', 2]];
    for (const [text, at] of bad) assert.throws(() => wellFormed(text, 'k'), { name: 'TypeError', message: new RegExp(`^k must be well-formed UTF-16: it has a lone surrogate at index ${at},`) }, JSON.stringify(text));
  } finally {
    if (native !== undefined) Object.defineProperty(String.prototype, 'isWellFormed', native);
  }
});

test('connect() rejects (it does not throw synchronously) for a bad option: the constructor checks them all', async () => {
  await assert.rejects(connect({ seeds: 'a:1', random: 'x' as unknown as () => number }), { name: 'TypeError', message: /^connect\(\): `random` must be a function/ });
  await assert.rejects(connect(undefined as unknown as { seeds: string }), { name: 'TypeError', message: /^connect\(\): the options must be an object/ });
});
