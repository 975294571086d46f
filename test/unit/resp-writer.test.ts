import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDouble, ReplySink, RespReplyWriter } from '../../src/resp/writer.ts';
import type { ReplyWriter } from '../../src/resp/command.ts';

function encoded(protocol: 2 | 3, write: (w: ReplyWriter) => void): string {
  const sink = new ReplySink(64);
  write(new RespReplyWriter(sink, { protocol }));
  return Buffer.concat(sink.take()).toString('latin1');
}

test('RESP2 and RESP3 encodings of every reply type', () => {
  const cases: [string, (w: ReplyWriter) => void, string, string][] = [
    ['simple', (w) => w.simple('PONG'), '+PONG\r\n', '+PONG\r\n'],
    ['ok', (w) => w.ok(), '+OK\r\n', '+OK\r\n'],
    ['error', (w) => w.error('ERR bad\r\nthing'), '-ERR bad  thing\r\n', '-ERR bad  thing\r\n'],
    ['integer', (w) => w.integer(-42), ':-42\r\n', ':-42\r\n'],
    ['bigint', (w) => w.integer(9223372036854775807n), ':9223372036854775807\r\n', ':9223372036854775807\r\n'],
    ['bulk bytes', (w) => w.bulk(Uint8Array.from([0, 13, 10, 255])), '$4\r\n\x00\r\n\xff\r\n', '$4\r\n\x00\r\n\xff\r\n'],
    ['bulk utf8', (w) => w.bulk('é'), '$2\r\n\xc3\xa9\r\n', '$2\r\n\xc3\xa9\r\n'],
    ['null bulk', (w) => w.bulk(null), '$-1\r\n', '_\r\n'],
    ['null array', (w) => w.nullArray(), '*-1\r\n', '_\r\n'],
    ['array', (w) => (w.array(2), w.integer(1), w.bulk('a')), '*2\r\n:1\r\n$1\r\na\r\n', '*2\r\n:1\r\n$1\r\na\r\n'],
    ['map', (w) => (w.map(1), w.bulk('k'), w.integer(1)), '*2\r\n$1\r\nk\r\n:1\r\n', '%1\r\n$1\r\nk\r\n:1\r\n'],
    ['set', (w) => (w.set(1), w.simple('x')), '*1\r\n+x\r\n', '~1\r\n+x\r\n'],
    ['double', (w) => w.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['double inf', (w) => w.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['boolean', (w) => (w.boolean(true), w.boolean(false)), ':1\r\n:0\r\n', '#t\r\n#f\r\n'],
    ['verbatim', (w) => w.verbatim('txt', 'a\nb'), '$3\r\na\nb\r\n', '=7\r\ntxt:a\nb\r\n'],
    ['push', (w) => (w.push(1), w.bulk('m')), '*1\r\n$1\r\nm\r\n', '>1\r\n$1\r\nm\r\n'],
  ];
  for (const [name, write, resp2, resp3] of cases) {
    assert.equal(encoded(2, write), resp2, `${name} in RESP2`);
    assert.equal(encoded(3, write), resp3, `${name} in RESP3`);
  }
});

test('the protocol is read at each call, so HELLO 3 answers in RESP3', () => {
  const source: { protocol: 2 | 3 } = { protocol: 2 };
  const sink = new ReplySink();
  const writer = new RespReplyWriter(sink, source);
  writer.bulk(null);
  source.protocol = 3;
  writer.bulk(null);
  assert.equal(Buffer.concat(sink.take()).toString(), '$-1\r\n_\r\n');
});

test('doubles print as C printf %.17g does', () => {
  const cases: [number, string][] = [
    [0, '0'], [1, '1'], [-2.5, '-2.5'], [0.1, '0.10000000000000001'], [100000, '100000'],
    [1e20, '1e+20'], [1.5e-5, '1.5e-05'], [1.2e-7, '1.1999999999999999e-07'], [2 / 3, '0.66666666666666663'], [123456.789, '123456.789'], [3.0e16, '30000000000000000'], [1e17, '1e+17'],
    [0.0001, '0.0001'], [Number.NaN, 'nan'], [Infinity, 'inf'],
  ];
  for (const [value, expected] of cases) assert.equal(formatDouble(value), expected, String(value));
});

test('replies pile up in one contiguous part; a new slab starts only when one is full', () => {
  const sink = new ReplySink(1024);
  const writer = new RespReplyWriter(sink, { protocol: 2 });
  for (let i = 0; i < 100; i++) writer.simple('PONG');
  const parts = sink.take();
  assert.equal(parts.length, 1, '100 replies of 7 bytes fit one slab');
  assert.equal(parts[0]!.length, 700);
  for (let i = 0; i < 200; i++) writer.simple('PONG');
  const more = sink.take();
  assert.equal(Buffer.concat(more).length, 1400);
  assert.ok(more.length <= 3);
  // Views handed out are never overwritten by later writes.
  assert.equal(Buffer.from(parts[0]!).toString('latin1'), '+PONG\r\n'.repeat(100));
});

test('a large value is its own part (a copy), and a sink can join another in order', () => {
  const big = Buffer.alloc(20_000, 0x62);
  const first = new ReplySink();
  const second = new ReplySink(64);
  new RespReplyWriter(first, { protocol: 2 }).simple('A');
  new RespReplyWriter(second, { protocol: 2 }).bulk(big);
  big.fill(0x63); // the owner reuses its buffer: the reply keeps what was written
  first.append(second);
  const all = Buffer.concat(first.take()).toString('latin1');
  assert.equal(all, '+A\r\n$20000\r\n' + 'b'.repeat(20_000) + '\r\n');
});
