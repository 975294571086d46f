import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/cli/start.ts';
import { ConfigError } from '../../src/daemon/config.ts';
import { openGossipKeyring } from '../../src/daemon/gossip-keyring.ts';
import { StartupError } from '../../src/daemon/errors.ts';
import { keyIdHex } from '../../src/security/keyring.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoal-gossip-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const lines: string[] = [];
const log = { debug() {}, warn() {}, error() {}, info: (_o: object, msg?: string) => void lines.push(msg ?? '') };

test('--gossip-key-file: keys read, bad files are clear errors that never show a key', () => {
  const k1 = randomBytes(32);
  const c = loadConfig(['--gossip-key-file', file('k1', `# comment\n${k1.toString('hex')}\n`)], {});
  assert.equal(c.gossipKeys?.length, 1);
  assert.equal(keyIdHex(c.gossipKeys![0]!), keyIdHex(k1));
  assert.equal(loadConfig([], {}).gossipKeys, null);
  assert.throws(() => loadConfig(['--gossip-key-file', join(dir, 'absent')], {}), (e: Error) => e instanceof ConfigError && /cannot read the gossip key file .*ENOENT/.test(e.message));
  const secretish = 'not-a-key-but-secret-text';
  assert.throws(() => loadConfig(['--gossip-key-file', file('bad', secretish)], {}), (e: Error) => e instanceof ConfigError && /32 bytes/.test(e.message) && !e.message.includes(secretish));
});

test('the keyring: written at the first start, authoritative after; the key file only adds keys', () => {
  const [k1, k2] = [randomBytes(32), randomBytes(32)];
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const config = (args: string[]) => ({ ...loadConfig(['--data-dir', dataDir, ...args], {}) });
  assert.equal(openGossipKeyring(config([]), log), null, 'off without key file or keyring');
  const first = openGossipKeyring(config(['--gossip-key-file', file('a', k1.toString('base64'))]), log)!;
  assert.equal(first.primaryId, keyIdHex(k1));
  first.install(k2);
  first.use(keyIdHex(k2));
  const again = openGossipKeyring(config([]), log)!;
  assert.equal(again.primaryId, keyIdHex(k2), 'a rotation survives a restart, with no key file');
  const k3 = randomBytes(32);
  const withFile = openGossipKeyring(config(['--gossip-key-file', file('b', `${k3.toString('hex')}\n${k1.toString('hex')}`)]), log)!;
  assert.equal(withFile.primaryId, keyIdHex(k2), 'the key file does not change the primary');
  assert.deepEqual(withFile.list().map((k) => k.id).sort(), [k1, k2, k3].map((k) => keyIdHex(k)).sort());
  const atRest = file('rest', randomBytes(32).toString('hex'));
  assert.throws(() => openGossipKeyring(config(['--data-key-file', atRest]), log), StartupError, 'a keyring sealed under other at-rest keys is an error');
});
