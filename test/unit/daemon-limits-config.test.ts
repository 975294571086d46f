import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/cli/start.ts';
import { ConfigError } from '../../src/daemon/config.ts';
import { DEFAULT_WIRE_LIMITS } from '../../src/protocol/limits.ts';
import { DEFAULT_MAX_ARGUMENTS } from '../../src/resp/parser.ts';

test('client limits: the defaults are the wire defaults, Redis-like for connections, and off for idle timeout and rate', () => {
  const { limits } = loadConfig([], {});
  assert.deepEqual(limits, {
    maxKeyBytes: DEFAULT_WIRE_LIMITS.maxKeyBytes,
    maxValueBytes: DEFAULT_WIRE_LIMITS.maxValueBytes,
    maxFrameBytes: DEFAULT_WIRE_LIMITS.maxFrameBytes,
    maxBatchRequests: DEFAULT_WIRE_LIMITS.maxBatchRequests,
    maxInFlight: 16_384,
    maxPipeline: 128,
    maxUnreadReplyBytes: 64 * 1024 * 1024,
    respMaxUnreadReplyBytes: 1024 * 1024,
    respOutputBufferLimitBytes: 32 * 1024 * 1024,
    // The library's default (src/resp/connection.ts) is the daemon's.
    respMaxArguments: DEFAULT_MAX_ARGUMENTS,
    maxClients: 10_000,
    // The admin port's few users need far fewer than the client ports.
    adminMaxClients: 256,
    maxClientsPerAddress: 0,
    idleTimeoutMs: 0,
    maxRequestRate: 0,
    maxUserRequestRate: 0,
  });
});

test('client limits from flags, the environment and their checks', () => {
  const { limits } = loadConfig(['--max-clients', '5', '--idle-timeout', '300s', '--max-value-size', '2mib'], { SHOAL_MAX_REQUEST_RATE: '100', SHOAL_MAX_CLIENTS_PER_ADDRESS: '2' });
  assert.equal(limits.maxClients, 5);
  assert.equal(limits.idleTimeoutMs, 300_000);
  assert.equal(limits.maxValueBytes, 2 * 1024 * 1024);
  assert.equal(limits.maxRequestRate, 100);
  assert.equal(limits.maxClientsPerAddress, 2);
  assert.equal(loadConfig(['--resp-max-arguments', '5000'], {}).limits.respMaxArguments, 5000);
  // Above the multibulk count the parser accepts at all, the limit would mean nothing.
  assert.throws(() => loadConfig(['--resp-max-arguments', '1048577'], {}), ConfigError);
  assert.throws(() => loadConfig(['--resp-max-arguments', '15'], {}), ConfigError);
  assert.throws(() => loadConfig(['--max-value-size', '8mib'], {}), (e: unknown) => e instanceof ConfigError && /--max-frame-size .* must exceed --max-value-size/.test(e.message));
  // The RESP hard output limit under what a reading client may be sent at once would close it for one reply.
  assert.throws(() => loadConfig(['--max-value-size', '4mib', '--resp-output-buffer-limit', '4mib'], {}), (e: unknown) => e instanceof ConfigError && /--resp-output-buffer-limit \(4194304 bytes\) must be 0 or at least twice/.test(e.message));
  assert.throws(() => loadConfig(['--max-frame-size', '64mib', '--max-value-size', '32mib'], {}), (e: unknown) => e instanceof ConfigError && /--resp-output-buffer-limit .*\(67108864 bytes\)/.test(e.message));
  assert.equal(loadConfig(['--max-frame-size', '64mib', '--max-value-size', '32mib', '--resp-output-buffer-limit', '0'], {}).limits.respOutputBufferLimitBytes, 0);
  assert.equal(loadConfig(['--max-frame-size', '64mib', '--max-value-size', '32mib', '--resp-output-buffer-limit', '64mib'], {}).limits.respOutputBufferLimitBytes, 64 * 1024 * 1024);
  assert.throws(() => loadConfig(['--max-clients', '0'], {}), ConfigError);
  assert.equal(loadConfig(['--admin-max-clients', '8'], {}).limits.adminMaxClients, 8);
  assert.equal(loadConfig([], { SHOAL_ADMIN_MAX_CLIENTS: '9' }).limits.adminMaxClients, 9);
  assert.throws(() => loadConfig(['--admin-max-clients', '0'], {}), ConfigError);
  assert.throws(() => loadConfig(['--max-key-size', '1mib'], {}), ConfigError);
});
