import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KnownPeers } from '../../src/daemon/known-peers.ts';
import { UNKEYED } from '../../src/security/sealed-file.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;

test('known peers: alive and suspect members other than itself, saved when they change, loaded by the next run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-known-peers-'));
  const first = new KnownPeers(dir, UNKEYED, quiet);
  assert.deepEqual(first.load(), [], 'no file: nothing remembered');
  first.update([
    { name: 'a', state: 'alive', peerAddress: '10.0.0.1:7401' },
    { name: 'b', state: 'suspect', peerAddress: '10.0.0.2:7401' },
    { name: 'c', state: 'dead', peerAddress: '10.0.0.3:7401' },
    { name: 'd', state: 'left', peerAddress: '10.0.0.4:7401' },
    { name: 'self', state: 'alive', peerAddress: '10.0.0.5:7401' },
  ], 'self');
  const written = statSync(first.path).mtimeMs;
  first.update([
    { name: 'b', state: 'alive', peerAddress: '10.0.0.2:7401' },
    { name: 'a', state: 'alive', peerAddress: '10.0.0.1:7401' },
  ], 'self');
  assert.equal(statSync(first.path).mtimeMs, written, 'the same peers: not written again');
  assert.deepEqual(new KnownPeers(dir, UNKEYED, quiet).load(), ['10.0.0.1:7401', '10.0.0.2:7401']);
  first.update([{ name: 'self', state: 'alive', peerAddress: '10.0.0.5:7401' }], 'self');
  assert.deepEqual(new KnownPeers(dir, UNKEYED, quiet).load(), [], 'every peer gone: a restart founds a cluster again');
  assert.ok(readFileSync(first.path).length > 0);
});
