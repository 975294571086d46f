// What a node's error reply becomes in the SDK (src/client/errors.ts, errorFromReply): a class per
// kind of failure, the node's message kept, the node named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForbiddenError, ProtocolError, ShoalError, errorFromReply } from '../../src/client/errors.ts';

test('an ACL refusal (forbidden) is a ForbiddenError with the node\'s NOPERM text, not a ProtocolError', () => {
  const text = "NOPERM this user has no permissions to run the 'set' command";
  const error = errorFromReply({ code: 'forbidden', message: text, topologyVersion: null }, '127.0.0.1:7400');
  assert.ok(error instanceof ForbiddenError && error instanceof ShoalError, error.name);
  assert.ok(!(error instanceof ProtocolError));
  assert.equal(error.name, 'ForbiddenError');
  assert.equal(error.code, 'forbidden');
  assert.equal(error.message, `${text} (forbidden from node 127.0.0.1:7400)`);
  // Codes the SDK has no class for are still ProtocolErrors.
  assert.ok(errorFromReply({ code: 'unsupported-version', message: 'x', topologyVersion: null }, 'n') instanceof ProtocolError);
});
