/**
 * The safety default: a node refuses a non-loopback --host while the default user needs no
 * password, unless --insecure is given; it refuses before it binds anything (exit status 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runShoal } from './daemon-harness.ts';
import { isLoopbackHost } from '../../src/security/origins.ts';

test('a non-loopback --host without a password for default is refused with exit status 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-insecure-'));
  try {
    const result = await runShoal(['start', '--host', '0.0.0.0', '--advertise-host', '127.0.0.1', '--port', '1', '--data-dir', dir, '--log-format', 'json']);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr + result.stdout, /refusing to listen on 0\.0\.0\.0, which is not a loopback address, while the default user needs no password.*--insecure/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) assert.ok(!isLoopbackHost(h), h);
});
