/**
 * hostRefusal (src/admin/host-check.ts): which Host headers an admin port that needs no password
 * serves. The real daemon's answers are test/integration/admin-host-check.test.ts; these are the
 * spellings a rebinding page or a tool could send.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostRefusal } from '../../src/admin/host-check.ts';
import type { OriginPolicy } from '../../src/security/origins.ts';

const plain: OriginPolicy = { allowed: null, ownHosts: ['127.0.0.1', 'Shoal-1.Internal'] };

test('no Host, IP addresses in any spelling, loopback and own names are served', () => {
  for (const host of [undefined, '127.0.0.1:7403', '127.9.9.9', '[::1]:7403', '10.0.0.5', '[fd00::1]', '0x7f.1:7403', '2130706433', 'localhost', 'LocalHost:1', 'shoal-1.internal:7403']) {
    assert.equal(hostRefusal(host, plain, 'http'), null, String(host));
  }
});

test('other names are refused with how to allow them, whatever they contain', () => {
  for (const host of ['rebind.example:7403', 'localhost.rebind.example', '127.0.0.1.nip.io', 'localhost.', 'shoal-1.internal.evil', '', 'a b', 'evil.example/status', 'user@127.0.0.1']) {
    assert.notEqual(hostRefusal(host, plain, 'http'), null, JSON.stringify(host));
  }
  assert.match(hostRefusal('Rebind.Example:7403', plain, 'http')!, /--allowed-origins http:\/\/rebind\.example:7403/);
  assert.match(hostRefusal('', plain, 'https')!, /--allowed-origins https:\/\/NAME:PORT/, 'not a host: the shape to write');
  assert.ok(hostRefusal('x'.repeat(100_000), plain, 'http')!.length < 1000, 'a long Host is not quoted whole');
});

test('--allowed-origins adds the hosts of its origins, compared as origins (scheme, default port)', () => {
  const listed: OriginPolicy = { allowed: ['https://scrape.example', 'http://app.example:9090'], ownHosts: [] };
  assert.equal(hostRefusal('scrape.example', listed, 'https'), null);
  assert.equal(hostRefusal('scrape.example:443', listed, 'https'), null, 'the default port');
  assert.notEqual(hostRefusal('scrape.example', listed, 'http'), null, 'another scheme is another origin');
  assert.equal(hostRefusal('app.example:9090', listed, 'http'), null);
  assert.notEqual(hostRefusal('app.example:7403', listed, 'http'), null, 'another port');
  assert.equal(hostRefusal('127.0.0.1:7403', listed, 'http'), null, 'the list adds names; addresses stay served');
  assert.equal(hostRefusal('anything.example', { allowed: ['*'], ownHosts: [] }, 'http'), null, '* lets any page use the node');
});
