import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { createDevCa } from '../../src/security/dev-certs.ts';
import { loadTlsMaterial, TlsFileError, TlsReloader, serverTlsOptions, type ListenerTls } from '../../src/security/tls.ts';
import { silentLogger, type Logger } from '../../src/runtime/env.ts';

const origin = { cert: '--tls-cert', key: '--tls-key', ca: '--tls-ca' };

async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-'));
  const ca = await createDevCa('test CA');
  const a = await ca.issue('node-a');
  const b = await ca.issue('node-b');
  const files = { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'node.pem'), key: join(dir, 'node-key.pem') };
  writeFileSync(files.ca, ca.cert);
  writeFileSync(files.cert, a.cert);
  writeFileSync(files.key, a.key);
  const settings: ListenerTls = { cert: files.cert, key: files.key, ca: files.ca, clientAuth: 'require', origin };
  return { files, settings, a, b, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('loadTlsMaterial reads good files into a usable context', async () => {
  const f = await fixture();
  try {
    const material = loadTlsMaterial(f.settings);
    assert.ok(material.ca);
    createSecureContext(serverTlsOptions(material, 'require'));
    assert.deepEqual({ ...serverTlsOptions(material, 'require'), cert: 0, key: 0, ca: 0 }, { cert: 0, key: 0, ca: 0, requestCert: true, rejectUnauthorized: true });
    assert.equal(serverTlsOptions(material, 'request').rejectUnauthorized, false);
    assert.equal(serverTlsOptions(material, 'none').requestCert, false);
  } finally {
    f.done();
  }
});

test('a missing file, a non-PEM file and a mismatched key are errors naming the file and the option', async () => {
  const f = await fixture();
  try {
    const missing = join(f.files.dir, 'nope.pem');
    assert.throws(() => loadTlsMaterial({ ...f.settings, ca: missing }), (e: Error) => e instanceof TlsFileError && e.message.includes(missing) && e.message.includes('--tls-ca') && e.message.includes('ENOENT'));
    writeFileSync(join(f.files.dir, 'junk.pem'), 'not a certificate');
    assert.throws(() => loadTlsMaterial({ ...f.settings, cert: join(f.files.dir, 'junk.pem') }), /holds no PEM certificate.*--tls-cert/);
    writeFileSync(f.files.key, f.b.key);
    assert.throws(
      () => loadTlsMaterial(f.settings),
      (e: Error) => e instanceof TlsFileError && e.message.includes('does not match') && e.message.includes('--tls-key') && !e.message.includes('PRIVATE KEY'),
    );
  } finally {
    f.done();
  }
});

test('reload swaps the context of attached servers, and keeps the old one when the new files are bad', async () => {
  const f = await fixture();
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (_fields: unknown, message: string) => void warnings.push(message) };
  try {
    const reloader = new TlsReloader({ client: f.settings, peer: null }, log);
    assert.equal(reloader.has('peer'), false);
    const swapped: unknown[] = [];
    reloader.attach('client', { setSecureContext: (o) => void swapped.push(o) });
    const first = reloader.material('client').cert;
    // Half-written: the new cert with the old key.
    writeFileSync(f.files.cert, f.b.cert);
    assert.deepEqual(reloader.reload('test'), { reloaded: [], kept: ['client'] });
    assert.equal(swapped.length, 0);
    assert.equal(reloader.material('client').cert, first);
    assert.equal(warnings.length, 1);
    writeFileSync(f.files.key, f.b.key);
    assert.deepEqual(reloader.reload('test'), { reloaded: ['client'], kept: [] });
    assert.equal(swapped.length, 1);
    assert.equal(reloader.material('client').cert.toString(), f.b.cert);
    reloader.close();
  } finally {
    f.done();
  }
});

test('the daemon options resolve each listener\'s TLS: all, per listener, peer mutual TLS by default, and clear errors', async () => {
  const { loadConfig } = await import('../../src/cli/start.ts');
  const { ConfigError } = await import('../../src/daemon/config.ts');
  const off = loadConfig([], {});
  assert.deepEqual(off.tls, { client: null, resp: null, peer: null });
  const all = loadConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem'], {});
  assert.equal(all.tls.client?.clientAuth, 'none');
  assert.equal(all.tls.resp?.clientAuth, 'none');
  assert.equal(all.tls.peer?.clientAuth, 'require', 'nodes require each other\'s certificates when there is a CA');
  assert.match(all.tls.peer!.ca!, /ca\.pem$/);
  const split = loadConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'clients-ca.pem', '--peer-tls-ca', 'nodes-ca.pem', '--resp-tls-client-auth', 'require'], {});
  assert.match(split.tls.peer!.ca!, /nodes-ca\.pem$/);
  assert.equal(split.tls.peer!.origin.ca, '--peer-tls-ca');
  assert.match(split.tls.client!.ca!, /clients-ca\.pem$/);
  assert.equal(split.tls.resp?.clientAuth, 'require');
  assert.equal(split.tls.client?.clientAuth, 'none');
  const noCaPeer = loadConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {});
  assert.equal(noCaPeer.tls.peer?.clientAuth, 'none');
  assert.throws(() => loadConfig(['--tls-cert', 'c.pem'], {}), (e: Error) => e instanceof ConfigError && /--tls-cert is given without its private key/.test(e.message));
  assert.throws(() => loadConfig(['--tls-ca', 'ca.pem'], {}), /TLS is off: give --tls-cert and --tls-key/);
  // Every CA option needs a listener that reads it: none is ignored in silence.
  assert.throws(() => loadConfig(['--peer-tls-ca', 'nope.pem'], {}), (e: Error) => e instanceof ConfigError && /^--peer-tls-ca is given but TLS is off on the peer listener: give --peer-tls-cert and --peer-tls-key/.test(e.message));
  assert.throws(() => loadConfig(['--peer-tls-ca', 'nope.pem'], { SHOAL_TLS_CLIENT_AUTH: 'none' }), /--peer-tls-ca is given but TLS is off/);
  assert.throws(() => loadConfig(['--peer-tls-cert', 'c.pem', '--peer-tls-key', 'k.pem', '--peer-tls-ca', 'nodes.pem', '--tls-ca', 'ca.pem'], {}), /: --tls-ca is given but no listener uses it/);
  assert.throws(() => loadConfig(['--peer-tls-client-auth', 'require'], {}), /needs TLS on the peer listener/);
  assert.throws(() => loadConfig(['--client-tls-client-auth', 'request'], {}), /needs TLS on the client listener/);
  // The peer listener alone, with the shared CA: used, so accepted.
  assert.match(loadConfig(['--peer-tls-cert', 'c.pem', '--peer-tls-key', 'k.pem', '--tls-ca', 'ca.pem'], {}).tls.peer!.ca!, /ca\.pem$/);
  assert.throws(() => loadConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-client-auth', 'require'], {}), /needs a CA.*--tls-ca/);
  assert.throws(() => loadConfig(['--tls-client-auth', 'maybe'], {}), /must be one of none, request, require/);
});
