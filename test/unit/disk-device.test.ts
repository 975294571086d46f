// The disk tier's file (src/daemon/disk-device.ts): a start whose filesystem cannot hold --disk-size
// is refused with a message that says so (probe-ops F2: the sparse file was accepted on a
// filesystem far too small, and the tier then failed its writes silently once it was full).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DISK_WRITE_ERROR_LOG_INTERVAL_MS, FileDevice, reportingWriteErrors } from '../../src/daemon/disk-device.ts';
import type { BlockDevice } from '../../src/store/index.ts';

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

test('failed disk writes are logged at warn with their errno, at most one line per interval', () => {
  let now = 0;
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) };
  const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  let failing = false;
  const inner: BlockDevice = {
    size: 4096,
    read: (_o, length, done) => done(null, new Uint8Array(length)),
    write: (_o, _b, done) => done(failing ? full : null, undefined),
  };
  const device = reportingWriteErrors(inner, { clock: { monoMs: () => now, wallMs: () => now }, log: log as never });
  const errors: (Error | null)[] = [];
  const write = (): void => device.write(0, new Uint8Array(1), (error) => errors.push(error));
  write();
  assert.equal(lines.length, 0, 'a write that succeeds says nothing');
  failing = true;
  for (let i = 0; i < 5; i++) write();
  assert.equal(lines.length, 1, 'one line for a burst of failures');
  assert.equal(lines[0]!.fields.code, 'ENOSPC');
  assert.match(lines[0]!.msg, /1 write failed \(ENOSPC\).*the filesystem under --disk-dir is full/);
  now += DISK_WRITE_ERROR_LOG_INTERVAL_MS;
  write();
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.fields.failedWrites, 5, 'the next line counts the failures held back');
  assert.deepEqual(errors.map((e) => e?.message ?? null), [null, ...Array(6).fill('no space left on device')], 'the tier still sees every outcome');
});
