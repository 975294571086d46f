// Which Redis port `shoal acl` talks to (src/cli/acl.ts). It read neither --node nor SHOAL_NODE,
// so beside another cluster (`npm start -- --base-port 7500`, SHOAL_NODE=127.0.0.1:7500) `shoal acl
// token add watcher` made the user on the cluster at 127.0.0.1:7402 (docs38). Pure: nothing is dialed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisAddress, run } from '../../src/cli/acl.ts';
import { UsageError } from '../../src/cli/args.ts';

test('shoal acl: --redis, else the Redis port of the node --node or SHOAL_NODE names (client port + 2), else shoal dev\'s first node', () => {
  assert.equal(redisAddress({}, {}), '127.0.0.1:7402');
  assert.equal(redisAddress({}, { SHOAL_NODE: '127.0.0.1:7500' }), '127.0.0.1:7502');
  assert.equal(redisAddress({ node: '10.0.0.5:26700' }, { SHOAL_NODE: '127.0.0.1:7500' }), '10.0.0.5:26702');
  assert.equal(redisAddress({ node: 'ws://[::1]:7410/shoal' }, {}), '[::1]:7412');
  assert.equal(redisAddress({ node: 'wss://shoal-0.example:7400/shoal' }, {}), 'rediss://shoal-0.example:7402', 'a TLS client port: its Redis port has TLS too');
  assert.equal(redisAddress({ redis: '127.0.0.1:6000', node: '127.0.0.1:7500' }, { SHOAL_NODE: '127.0.0.1:7600' }), '127.0.0.1:6000', '--redis wins');
  assert.throws(() => redisAddress({}, { SHOAL_NODE: 'nonsense' }), (e: unknown) => e instanceof UsageError && /SHOAL_NODE "nonsense"/.test(e.message));
});

// `shoal acl frob` said only "expected one of setuser, ..." (not what it got, no usage), unlike
// `shoal get` or `shoal keyring`, which show their usage line (docs40). Refused before any dial.
test('shoal acl: an unknown or missing subcommand, or a wrong argument count, is named, with the usage', async () => {
  const refusal = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message) && e.message.includes('Usage: shoal acl');
  await assert.rejects(run(['frob']), refusal(/^unknown subcommand "frob"; expected one of setuser, getuser, deluser, list, users, whoami, token\n/));
  await assert.rejects(run([]), refusal(/^expected a subcommand: one of setuser, getuser/));
  await assert.rejects(run(['getuser']), refusal(/^wrong number of arguments for acl getuser\n/));
});
