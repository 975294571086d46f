// What `shoal dev` says about its ports (src/cli/dev.ts): node1 takes the base port and the three
// after it. The messages said "node i uses base + 10*i", which for the nodes as dev names them
// (node1, node2, ...) puts node1 at base + 10 (docs38: a newcomer reading the port-in-use hint).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../../src/cli/dev.ts';
import { UsageError } from '../../src/cli/args.ts';

test('a --base-port out of range names node1 at the base port itself, node2 at base + 10', async () => {
  await assert.rejects(run(['--base-port', '65534']), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /node1 uses base to base \+ 3, node2 base \+ 10 to base \+ 13/);
    assert.doesNotMatch(error.message, /node i uses/);
    return true;
  });
});
