import assert from 'node:assert/strict';
import { test } from 'node:test';
import { originRefusal, parseAllowedOrigins, type OriginPolicy } from '../../src/security/origins.ts';

const noList: OriginPolicy = { allowed: null, ownHosts: ['127.0.0.1', 'cache.internal'] };

test('an open node without --allowed-origins takes pages from loopback hosts and its own hosts only', () => {
  for (const origin of ['http://localhost:3000', 'https://LOCALHOST', 'http://127.0.0.1:8080', 'http://127.9.9.9', 'http://[::1]:5173', 'http://cache.internal:8000']) {
    assert.equal(originRefusal(origin, noList, true), null, origin);
  }
  for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'null', 'file://', 'not an origin']) {
    assert.match(originRefusal(origin, noList, true) ?? '', /is not local and this node needs no password/, origin);
  }
  assert.equal(originRefusal('https://evil.example', noList, false), null, 'a node that needs a password: the page must log in');
});

test('--allowed-origins decides alone, whatever the node needs', () => {
  const policy: OriginPolicy = { allowed: parseAllowedOrigins(['https://app.example']), ownHosts: [] };
  for (const open of [true, false]) {
    assert.equal(originRefusal('https://app.example:443', policy, open), null);
    assert.match(originRefusal('http://localhost:3000', policy, open) ?? '', /not in --allowed-origins; .*--allowed-origins http:\/\/localhost:3000/);
  }
  assert.equal(originRefusal('https://evil.example', { allowed: ['*'], ownHosts: [] }, true), null);
  assert.match(originRefusal('https://evil.example', { allowed: [], ownHosts: [] }, false) ?? '', /this node takes no page \(--allowed-origins none\)/);
});
