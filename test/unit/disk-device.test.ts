// The disk tier's file (src/daemon/disk-device.ts): a start whose filesystem cannot hold --disk-size
// is refused with a message that says so (probe-ops F2: the sparse file was accepted on a
// filesystem far too small, and the tier then failed its writes silently once it was full).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileDevice } from '../../src/daemon/disk-device.ts';

test('a disk tier file larger than the free space of its filesystem is refused, and not created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-disk-device-'));
  try {
    const path = join(dir, 'tier.shoal');
    assert.throws(() => FileDevice.open(path, 64 * 1024 * 1024, () => 20 * 1024 * 1024), /has 20\.0 MiB free, and the disk tier needs 64\.0 MiB more for --disk-size 64\.0 MiB .*lower --disk-size/);
    assert.equal(existsSync(path), false);
    // Room enough: created at its size (sparse), and a reopen counts the blocks the file already holds.
    const device = FileDevice.open(path, 1024 * 1024, () => 1024 * 1024);
    assert.equal(device.size, 1024 * 1024);
    device.close();
    FileDevice.open(path, 1024 * 1024, () => 1024 * 1024).close();
    // The real filesystem: nobody's temp directory holds an exbibyte.
    assert.throws(() => FileDevice.open(join(dir, 'huge.shoal'), 2 ** 60), /free, and the disk tier needs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
