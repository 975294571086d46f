// The progress line of commands that wait (src/cli/progress.ts): rewritten in place on a terminal,
// throttled, cleared before lines that stay, and silent with --json or when not a terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bar, eta, Progress, type ProgressStream } from '../../src/cli/progress.ts';

function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { out: string } {
  return {
    isTTY,
    columns,
    out: '',
    write(text: string): boolean {
      this.out += text;
      return true;
    },
  };
}

test('on a terminal the line is rewritten in place with \\r, throttled, and erased when done', () => {
  const stream = fakeStream(true);
  let now = 0;
  const progress = new Progress({ stream, minIntervalMs: 100, now: () => now });
  assert.equal(progress.active, true);
  progress.update('one');
  progress.update('two'); // within 100 ms: skipped
  now = 150;
  progress.update('three');
  progress.done();
  assert.equal(stream.out, '\rone\x1b[K\rthree\x1b[K\r\x1b[K');
  assert.ok(!stream.out.includes('\n'), 'a progress line never scrolls the terminal');
});

test('a line that stays is written above the progress line, which is drawn again', () => {
  const stream = fakeStream(true);
  const progress = new Progress({ stream, minIntervalMs: 0, now: () => 0 });
  progress.update('3/10');
  progress.log('seed 4: FAIL');
  assert.equal(stream.out, '\r3/10\x1b[K\r\x1b[Kseed 4: FAIL\n\r3/10\x1b[K');
});

test('a line wider than the terminal is cut to fit', () => {
  const stream = fakeStream(true, 30);
  const progress = new Progress({ stream, minIntervalMs: 0, now: () => 0 });
  progress.update('x'.repeat(100));
  const drawn = stream.out.slice(1, stream.out.indexOf('\x1b[K'));
  assert.equal(drawn.length, 29);
  assert.ok(drawn.endsWith('…'));
});

test('nothing is written when stderr is not a terminal, or with --json', () => {
  for (const progress of [new Progress({ stream: fakeStream(false) }), new Progress({ stream: fakeStream(true), enabled: false })]) {
    progress.update('working');
    progress.log('a failure');
    progress.done();
    assert.equal(progress.active, false);
  }
  const pipe = fakeStream(false);
  const quiet = new Progress({ stream: pipe });
  quiet.update('working');
  quiet.log('x');
  assert.equal(pipe.out, '');
  const json = fakeStream(true);
  new Progress({ stream: json, enabled: false }).update('working');
  assert.equal(json.out, '');
});

test('bar and eta', () => {
  assert.equal(bar(0, 4, 4), '[----] 0/4 0%');
  assert.equal(bar(3, 4, 4), '[###-] 3/4 75%');
  assert.equal(bar(5, 0, 4), '[----] 5/0 0%');
  assert.equal(eta(0, 10, 1000), '');
  assert.equal(eta(5, 10, 10_000), 'eta 10s');
  assert.equal(eta(1, 10, 10_000), 'eta 1m30s');
  assert.equal(eta(10, 10, 10_000), '');
});
