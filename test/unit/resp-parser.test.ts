import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RespParser, splitInlineArgs, type ParseFailure } from '../../src/resp/parser.ts';

function encode(commands: Uint8Array[][]): Buffer {
  const parts: Buffer[] = [];
  for (const args of commands) {
    parts.push(Buffer.from(`*${args.length}\r\n`));
    for (const arg of args) parts.push(Buffer.from(`$${arg.length}\r\n`), Buffer.from(arg), Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Feeds `bytes` cut at `cuts` and collects everything the parser returns. */
function parseAll(bytes: Uint8Array, cuts: number[] = [], parser = new RespParser()): (Uint8Array[] | ParseFailure)[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  const out: (Uint8Array[] | ParseFailure)[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    // A fresh buffer per chunk, as a socket delivers them.
    parser.push(Buffer.from(bytes.subarray(from, point)));
    from = point;
    for (;;) {
      const next = parser.next();
      if (next === null) break;
      out.push(next);
      if (!Array.isArray(next) && next.fatal) return out;
    }
  }
  return out;
}

const text = (args: Uint8Array[] | ParseFailure): string[] | string =>
  Array.isArray(args) ? args.map((a) => Buffer.from(a).toString('latin1')) : `${args.fatal ? 'fatal' : 'error'}: ${args.error}`;

test('any list of commands, encoded and cut at any points, parses back identical', () => {
  const arg = fc.uint8Array({ maxLength: 40 });
  const command = fc.array(arg, { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.array(command, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(2000), { maxLength: 12 }), (commands, cuts) => {
      const bytes = encode(commands);
      const parsed = parseAll(bytes, cuts);
      assert.deepEqual(parsed.map((c) => (Array.isArray(c) ? c.map((a) => Buffer.from(a)) : c)), commands.map((c) => c.map((a) => Buffer.from(a))));
    }),
    { numRuns: 300 },
  );
});

test('one byte at a time parses as well as all at once', () => {
  const bytes = encode([[Buffer.from('SET'), Buffer.from('key'), Buffer.from('a\r\nvalue')], [Buffer.from('GET'), Buffer.from('key')]]);
  const cuts = Array.from({ length: bytes.length }, (_, i) => i);
  assert.deepEqual(parseAll(bytes, cuts).map(text), [['SET', 'key', 'a\r\nvalue'], ['GET', 'key']]);
});

test('thousands of pipelined commands in one chunk; arguments inside a chunk are views of it', () => {
  const commands = Array.from({ length: 5000 }, (_, i) => [Buffer.from('PING'), Buffer.from(String(i))]);
  const bytes = encode(commands);
  const parser = new RespParser();
  parser.push(bytes);
  let count = 0;
  for (let next = parser.next(); next !== null; next = parser.next()) {
    assert.ok(Array.isArray(next));
    assert.equal(Buffer.from(next[1]!).toString(), String(count));
    assert.equal(next[1]!.buffer, bytes.buffer, 'an argument inside one chunk is not copied');
    count++;
  }
  assert.equal(count, 5000);
  assert.equal(parser.bufferedBytes, 0);
});

test('an argument split across chunks is copied once, into a buffer of its size', () => {
  const bytes = encode([[Buffer.from('ECHO'), Buffer.from('hello world')]]);
  const split = bytes.indexOf('hello') + 3;
  const [args] = parseAll(bytes, [split]);
  assert.ok(Array.isArray(args));
  assert.equal(Buffer.from(args[1]!).toString(), 'hello world');
  assert.equal(args[1]!.byteLength, args[1]!.buffer.byteLength);
});

test('empty multibulks and empty lines are skipped without a reply', () => {
  assert.deepEqual(parseAll(Buffer.from('*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n')).map(text), [['PING']]);
});

test('inline commands split as sdssplitargs: quotes, escapes, whitespace', () => {
  const cases: [string, string[] | null][] = [
    ['PING', ['PING']],
    ['  set  a   b ', ['set', 'a', 'b']],
    ['SET k "hello world"', ['SET', 'k', 'hello world']],
    ['ECHO "\\x41\\n\\t\\"q\\""', ['ECHO', 'A\n\t"q"']],
    ["ECHO 'it\\'s'", ['ECHO', "it's"]],
    ['ECHO a"b c"', ['ECHO', 'ab c']],
    ['ECHO ""', ['ECHO', '']],
    ['ECHO "abc', null],
    ['ECHO "abc"x', null],
    ["ECHO 'abc'x", null],
    ["ECHO 'abc", null],
  ];
  for (const [line, expected] of cases) {
    const args = splitInlineArgs(Buffer.from(line));
    assert.deepEqual(args === null ? null : args.map((a) => Buffer.from(a).toString('latin1')), expected, line);
  }
  assert.deepEqual(parseAll(Buffer.from('PING\r\nECHO "a b"\nSET x y\r\n'), [3, 9]).map(text), [['PING'], ['ECHO', 'a b'], ['SET', 'x', 'y']]);
});

test('each protocol error has Redis 7.0 text and is fatal', () => {
  const cases: [string, string][] = [
    ['*x\r\n', "ERR Protocol error: invalid multibulk length"],
    ['*01\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['*+1\r\n', 'ERR Protocol error: invalid multibulk length'],
    [`*${1024 * 1024 + 1}\r\n`, 'ERR Protocol error: invalid multibulk length'],
    ['*1\r\n$-1\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$-0\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$1099511627776\r\n', 'ERR Protocol error: invalid bulk length'],
    [`*1\r\n$${512 * 1024 * 1024 + 1}\r\n`, 'ERR Protocol error: invalid bulk length'],
    ['*1\r\nx\r\n', "ERR Protocol error: expected '$', got 'x'"],
    ['*2\r\n$1\r\na\r\n:1\r\n', "ERR Protocol error: expected '$', got ':'"],
    ['ECHO "open\r\n', 'ERR Protocol error: unbalanced quotes in request'],
    ['x'.repeat(64 * 1024 + 1), 'ERR Protocol error: too big inline request'],
    ['*' + '1'.repeat(64 * 1024 + 1), 'ERR Protocol error: too big mbulk count string'],
    ['*1\r\n$' + '1'.repeat(64 * 1024 + 1), 'ERR Protocol error: too big bulk count string'],
  ];
  for (const [input, error] of cases) {
    const out = parseAll(Buffer.from(input), [1, 5]);
    const last = out[out.length - 1];
    assert.deepEqual(last, { error, fatal: true }, JSON.stringify(input.slice(0, 30)));
  }
});

test('commands before a protocol error still parse; after it the parser keeps failing', () => {
  const parser = new RespParser();
  const out = parseAll(Buffer.from('PING\r\n*1\r\n$4\r\nECHO\r\n*z\r\nPING\r\n'), [], parser);
  assert.deepEqual(out.map(text), [['PING'], ['ECHO'], 'fatal: ERR Protocol error: invalid multibulk length']);
  parser.push(Buffer.from('PING\r\n'));
  assert.deepEqual(parser.next(), { error: 'ERR Protocol error: invalid multibulk length', fatal: true });
});

test('an unterminated multibulk waits without error', () => {
  assert.deepEqual(parseAll(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\n')), []);
});

test('an argument over the size limit is skipped as it arrives, fails its command only, and the stream goes on', () => {
  const parser = new RespParser({ maxArgumentBytes: 8 });
  const big = Buffer.alloc(100, 0x61);
  const bytes = encode([[Buffer.from('SET'), Buffer.from('k'), big], [Buffer.from('PING')]]);
  const out = parseAll(bytes, [20, 40, 60], parser);
  assert.deepEqual(out.map(text), ["error: ERR argument of 100 bytes exceeds Shoal's maximum value size (8 bytes)", ['PING']]);
  // Skipped bytes are not held.
  assert.equal(parser.bufferedBytes, 0);
});

test('a command with more arguments than the limit is answered with an error, its arguments skipped, and the next command works', () => {
  const parser = new RespParser({ maxArguments: 4 });
  const args = (n: number): Buffer[] => [Buffer.from('DEL'), ...Array.from({ length: n - 1 }, (_, i) => Buffer.from(`key${i}`))];
  const tooMany = "error: ERR command has 5 arguments, more than this node's limit of 4 (--resp-max-arguments)";
  // At the limit: parsed as usual; over it: refused. Then PING on the same stream.
  const bytes = encode([args(4), args(5), [Buffer.from('PING')]]);
  assert.deepEqual(parseAll(bytes, [], parser).map(text), [['DEL', 'key0', 'key1', 'key2'], tooMany, ['PING']]);
  // Nothing of the refused command is held once it has been skipped.
  assert.equal(parser.bufferedBytes, 0);
  // Cut anywhere, one byte at a time, and pipelined behind and ahead of other commands.
  const pipelined = encode([[Buffer.from('PING')], args(5), args(5), [Buffer.from('ECHO'), Buffer.from('x')]]);
  const expected = [['PING'], tooMany, tooMany, ['ECHO', 'x']];
  assert.deepEqual(parseAll(pipelined, [], new RespParser({ maxArguments: 4 })).map(text), expected);
  const everyByte = Array.from({ length: pipelined.length }, (_, i) => i);
  assert.deepEqual(parseAll(pipelined, everyByte, new RespParser({ maxArguments: 4 })).map(text), expected);
});

test('the arguments of a refused command are dropped as they arrive, before the command is complete', () => {
  const parser = new RespParser({ maxArguments: 4 });
  parser.push(Buffer.from('*1000\r\n'));
  for (let i = 0; i < 999; i++) {
    parser.push(Buffer.from(`$10\r\n${String(i).padStart(10, '0')}\r\n`));
    assert.equal(parser.next(), null);
    assert.equal(parser.bufferedBytes, 0);
  }
  parser.push(Buffer.from('$1\r\nx\r\n*1\r\n$4\r\nPING\r\n'));
  assert.deepEqual(text(parser.next()!), "error: ERR command has 1000 arguments, more than this node's limit of 4 (--resp-max-arguments)");
  assert.deepEqual(text(parser.next()!), ['PING']);
});

test('a refused command still fails fatally on a protocol error inside it, and a count over the absolute maximum stays fatal', () => {
  assert.deepEqual(parseAll(Buffer.from('*10\r\n$3\r\nDEL\r\n$1\r\nk\r\n:5\r\n'), [], new RespParser({ maxArguments: 4 })).map(text), [
    "fatal: ERR Protocol error: expected '$', got ':'",
  ]);
  assert.deepEqual(parseAll(Buffer.from('*1048577\r\n$3\r\nDEL\r\n'), [], new RespParser({ maxArguments: 4 })).map(text), [
    'fatal: ERR Protocol error: invalid multibulk length',
  ]);
});

test('an inline command with more arguments than the limit is refused, and the next command works', () => {
  const parser = new RespParser({ maxArguments: 4 });
  assert.deepEqual(parseAll(Buffer.from('DEL a b c\r\nDEL a b c d\r\nPING\r\n'), [], parser).map(text), [
    ['DEL', 'a', 'b', 'c'],
    "error: ERR command has 5 arguments, more than this node's limit of 4 (--resp-max-arguments)",
    ['PING'],
  ]);
});
