import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DAEMON_OPTIONS, envName, loadConfig, optionsMarkdown } from '../../src/daemon/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoal-config-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('defaults are sane and complete', () => {
  const c = loadConfig([], {});
  assert.equal(c.port, 7400);
  assert.equal(c.peerPort, 7401);
  assert.equal(c.replicas, 3);
  assert.equal(c.readQuorum, 2);
  assert.equal(c.writeQuorum, 2);
  assert.equal(c.partitions, 1024);
  assert.equal(c.maxMemory, 256e6);
  assert.deepEqual(c.seeds, []);
  assert.match(c.name, /-7400$/);
});

test('flags beat environment variables, which beat the config file', () => {
  const path = file('a.json', JSON.stringify({ port: 9000, zone: 'file-zone', 'max-memory': '1gb', seeds: ['10.0.0.1:9001', 'h:2'] }));
  const c = loadConfig(['--config', path, '--zone', 'flag-zone'], { SHOAL_PORT: '9100' });
  assert.equal(c.port, 9100);
  assert.equal(c.zone, 'flag-zone');
  assert.equal(c.maxMemory, 1e9);
  assert.deepEqual(c.seeds, ['10.0.0.1:9001', 'h:2']);
});

test('every bad input is a ConfigError that names what is wrong', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--bogus'], {}, /unknown option --bogus/],
    [['--port', 'abc'], {}, /--port takes a number/],
    [['--port', '70000'], {}, /--port must be a whole number from 1 to 65535/],
    [['--read-quorum', '4'], {}, /--read-quorum must be a whole number from 1 to 3/],
    [['--max-memory', 'lots'], {}, /not a size/],
    [['--seeds', 'nohost'], {}, /seed "nohost" is not HOST:PORT/],
    [['--gossip-profile', 'moon'], {}, /one of lan, wan, local/],
    [['--port', '7400', '--peer-port', '7400'], {}, /must differ/],
    [[], { SHOAL_PROT: '1' }, /unknown environment variable SHOAL_PROT/],
    [[], { SHOAL_REPLICAS: 'three' }, /SHOAL_REPLICAS takes a number/],
    [['--config', join(dir, 'missing.json')], {}, /cannot read config file .*ENOENT/],
    [['--config', file('bad.json', '{ nope')], {}, /not valid JSON/],
    [['--config', file('unknown.json', '{"colour": "blue"}')], {}, /unknown key "colour"/],
    [['--config', file('array.json', '[]')], {}, /must hold a JSON object/],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(() => loadConfig(argv, env), (e: unknown) => e instanceof ConfigError && message.test(e.message), `${argv.join(' ')} ${JSON.stringify(env)}`);
  }
});

test('docs/OPERATIONS.md lists every option exactly as the code defines it', () => {
  const docs = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8');
  assert.ok(docs.includes(optionsMarkdown()), 'regenerate the table: node --import tsx -e "import(\'./src/daemon/config.ts\').then(m => console.log(m.optionsMarkdown()))"');
  for (const name of Object.keys(DAEMON_OPTIONS)) assert.ok(docs.includes(envName(name)));
});
