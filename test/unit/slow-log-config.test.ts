// --slow-log-threshold: a duration (0 logs every request) or off; anything else is a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/cli/start.ts';
import { ConfigError } from '../../src/daemon/config.ts';

test('--slow-log-threshold takes a duration or off, defaults to 10ms, and refuses anything else by name', () => {
  assert.equal(loadConfig([], {}).slowLogThresholdMs, 10);
  assert.equal(loadConfig(['--slow-log-threshold', '0'], {}).slowLogThresholdMs, 0);
  assert.equal(loadConfig(['--slow-log-threshold', '250ms'], {}).slowLogThresholdMs, 250);
  assert.equal(loadConfig(['--slow-log-threshold', '1.5s'], {}).slowLogThresholdMs, 1500);
  assert.equal(loadConfig(['--slow-log-threshold', 'off'], {}).slowLogThresholdMs, null);
  assert.equal(loadConfig([], { SHOAL_SLOW_LOG_THRESHOLD: 'off' }).slowLogThresholdMs, null);
  for (const bad of ['-1ms', 'fast', '10 ms', 'never']) {
    assert.throws(() => loadConfig(['--slow-log-threshold', bad], {}), (e: Error) => e instanceof ConfigError && /slow-log-threshold/.test(e.message) && /or off/.test(e.message), bad);
  }
});
