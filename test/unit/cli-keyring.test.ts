import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/cli/args.ts';
import { run } from '../../src/cli/keyring.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-keyring-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'k');
writeFileSync(keyFile, randomBytes(32).toString('base64'));

test('shoal keyring: usage errors name what is missing and never take a key on the command line', async () => {
  const base = ['--peer', '127.0.0.1:1', '--key-file', keyFile];
  const cases: [string[], RegExp][] = [
    [[], /expected list, install, use or remove/],
    [['list', '--key-file', keyFile], /--peer HOST:PORT is required/],
    [['list', '--peer', '127.0.0.1:1'], /--key-file FILE is required/],
    [['install', randomBytes(32).toString('base64'), ...base], /never from the command line/],
    [['install', ...base], /--new-key-file/],
    [['install', '--new-key-file', keyFile, '--primary', ...base], /--primary needs --only/],
    [['use', 'nothex', ...base], /16 hex digits/],
    // The answer to `use` comes sealed under the key it names: without that key it could not be read.
    [['use', '0123456789abcdef', ...base], /^use 0123456789abcdef: .* does not hold key 0123456789abcdef, .*give --key-file the file of key 0123456789abcdef/],
    [['list', '--new-key-file', keyFile, ...base], /^--new-key-file is for install only/],
    [['list', '--peer', '127.0.0.1:1', '--key-file', join(dir, 'absent')], /cannot read the key file .*ENOENT/],
    // Addresses and waits the command cannot use: usage errors, not a crash in new URL, listen or setTimeout.
    [['list', '--peer', '127.0.0.1:99999', '--key-file', keyFile], /^--peer "127\.0\.0\.1:99999" has port 99999, which is not from 1 to 65535/],
    [['list', '--peer', '127.0.0.1:0', '--key-file', keyFile], /has port 0, which is not from 1 to 65535/],
    [['list', '--peer', 'a%b:1', '--key-file', keyFile], /has host "a%b", which is neither an IP address nor a DNS name/],
    [['list', ...base, '--timeout', '1000h'], /^--timeout must be from 1ms to 60s/],
    [['list', ...base, '--timeout', '0'], /^--timeout must be from 1ms to 60s/],
    // 10.255.255.1 is no address of this machine: the listen fails at once, nothing is sent.
    [['list', ...base, '--listen', '10.255.255.1'], /^--listen 10\.255\.255\.1: cannot listen there \(EADDRNOTAVAIL\)/],
  ];
  for (const [argv, message] of cases) {
    await assert.rejects(run(argv), (e: Error) => e instanceof UsageError && message.test(e.message), argv.join(' '));
  }
});
