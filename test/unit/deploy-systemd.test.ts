/**
 * deploy/systemd: the unit and its example config agree with the daemon. The config loads as
 * `shoal start --config` reads it, systemd waits longer than the node's graceful stop, and a
 * configuration error (exit status 2) is not restarted in a loop. (`systemd-analyze verify` needs
 * a systemd this machine and CI do not run.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/cli/start.ts';
import { ExitStatus } from '../../src/daemon/errors.ts';

const DIR = fileURLToPath(new URL('../../deploy/systemd/', import.meta.url));

/** The unit's keys per section; a key given twice keeps its last value, as systemd does for these. */
function parseUnit(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]!] = {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not KEY=VALUE inside a section: ${line}`);
    current[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return sections;
}

test('systemd unit: runs `shoal start --config`, waits out the graceful stop, does not loop on bad configuration, gives default a password', () => {
  const unit = parseUnit(readFileSync(`${DIR}shoal.service`, 'utf8'));
  const service = unit.Service!;
  assert.deepEqual(Object.keys(unit).sort(), ['Install', 'Service', 'Unit']);
  const exec = service.ExecStart!.split(/\s+/);
  assert.ok(exec[0]!.startsWith('/'), 'ExecStart names an absolute path');
  assert.deepEqual(exec.slice(2), ['start', '--config', '/etc/shoal/shoal.json']);
  assert.equal(service.KillSignal, 'SIGTERM');
  assert.equal(service.RestartPreventExitStatus, String(ExitStatus.badConfig));
  assert.notEqual(service.User, 'root');

  // The example's password file is on the host being set up, not here: the config loads with a
  // stand-in at that path (the daemon reads the file as it parses), and the path is checked apart.
  const example = JSON.parse(readFileSync(`${DIR}shoal.json`, 'utf8')) as Record<string, unknown>;
  const passwordFile = example['default-password-file'];
  assert.equal(typeof passwordFile, 'string', 'the example gives the default user a password: on a non-loopback host the node refuses to start without one (exit 2, and RestartPreventExitStatus keeps it down)');
  assert.equal(example.insecure, undefined, 'never --insecure off loopback');
  assert.ok((passwordFile as string).startsWith('/etc/shoal/'), 'the password file sits beside the config, readable under ProtectSystem=strict');
  const standIn = mkdtempSync(join(tmpdir(), 'shoal-systemd-'));
  let config: ReturnType<typeof loadConfig>;
  try {
    writeFileSync(join(standIn, 'password'), 'stand-in\n');
    writeFileSync(join(standIn, 'shoal.json'), JSON.stringify({ ...example, 'default-password-file': join(standIn, 'password') }));
    config = loadConfig(['--config', join(standIn, 'shoal.json')], {});
  } finally {
    rmSync(standIn, { recursive: true, force: true });
  }
  assert.ok(config.defaultPassword !== null);
  assert.ok(Number(service.TimeoutStopSec) * 1000 >= config.shutdownTimeoutMs + 10_000, `TimeoutStopSec ${service.TimeoutStopSec} s outlasts shutdown-timeout ${config.shutdownTimeoutMs} ms`);
  assert.equal(config.host === '127.0.0.1', false, 'the example listens on the host\'s address, not loopback');
  assert.ok(config.seeds.length >= 3);
  // ProtectSystem=strict leaves the file system read-only but for the state directory: the data
  // directory must be in it (elsewhere the node cannot create it and exits with status 2).
  assert.equal(service.ProtectSystem, 'strict');
  assert.ok(service.StateDirectory, 'a StateDirectory the node may write');
  assert.ok(config.dataDir.startsWith(`/var/lib/${service.StateDirectory}/`), `data-dir ${config.dataDir} is under /var/lib/${service.StateDirectory}`);
});
