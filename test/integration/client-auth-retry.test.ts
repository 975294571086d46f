/**
 * A node that refuses credentials another node accepted is asked again: it may not have the user
 * yet (users spread between nodes in the background) or be refusing for a while (the auth guard's
 * lockout). Credentials no node accepted stay a failure for good (client-acl.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, stringCodec } from '../../src/index.ts';
import { AclStore } from '../../src/security/acl.ts';
import { startNode, until } from './client-helpers.ts';

test('a node that refused credentials another node accepted is redialled, and serves once it knows the user', async () => {
  const aclA = new AclStore('a', () => Date.now());
  const aclB = new AclStore('b', () => Date.now());
  assert.equal(aclA.setUser('app', ['on', '>pw', '~*', '+@all']), null);
  const a = await startNode({ name: 'a', acl: aclA });
  const b = await startNode({ name: 'b', acl: aclB });
  const client = await connect({ seeds: [a.address, b.address], codec: stringCodec, routing: false, username: 'app', password: 'pw', reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
  try {
    const stateOf = (address: string) => client.nodes().find((n) => n.address === address)?.state;
    await until(() => stateOf(b.address) !== 'connecting' && stateOf(b.address) !== undefined, 'b to answer the hello');
    assert.notEqual(stateOf(b.address), 'ready', 'b refused: it has no such user');
    // The user reaches b (as acl-sync would bring it).
    assert.equal(aclB.setUser('app', ['on', '>pw', '~*', '+@all']), null);
    await until(() => stateOf(b.address) === 'ready', 'the client to connect to b again');
    assert.equal(client.status, 'ready');
  } finally {
    await client.close();
    await a.server.close({ graceMs: 0 });
    await b.server.close({ graceMs: 0 });
  }
});
