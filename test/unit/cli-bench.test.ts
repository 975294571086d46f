/**
 * `shoal bench`'s trace loading: a file that is not in the format --format names, or a damaged
 * gzip, is a usage error with one line that names the file (main prints it, exit 2).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { UsageError } from '../../src/cli/args.ts';
import { loadTrace } from '../../src/cli/bench.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-bench-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a trace in another format than --format, or a damaged gzip, is a usage error naming the file', () => {
  const lirs = join(dir, 'keys.trace.gz');
  writeFileSync(lirs, gzipSync('1\n2\n3\n'));
  assert.equal(loadTrace(lirs, 'lirs').ids.length, 3);
  const odd = join(dir, 'odd.bin');
  writeFileSync(odd, new Uint8Array(3));
  const broken = join(dir, 'broken.gz');
  writeFileSync(broken, new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
  const cases: [string, 'arc' | 'u32be', RegExp][] = [
    [lirs, 'arc', /^trace .*keys\.trace\.gz is not in the arc format \(--format\): arc trace line 1: expected "start count ignored reqno", got "1"$/],
    [odd, 'u32be', /^trace .*odd\.bin is not in the u32be format \(--format\): u32be trace has 3 bytes/],
    [broken, 'arc', /^trace .*broken\.gz starts like gzip but does not unpack: /],
  ];
  for (const [file, format, message] of cases) {
    assert.throws(() => loadTrace(file, format), (e: Error) => e instanceof UsageError && message.test(e.message), `${file} as ${format}`);
  }
});
