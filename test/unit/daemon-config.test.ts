import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/cli/args.ts';
import { run as runDev } from '../../src/cli/dev.ts';
import { help, loadConfig } from '../../src/cli/start.ts';
import { ConfigError } from '../../src/daemon/config.ts';
import { DAEMON_OPTIONS, envName, OPTION_NAMES, optionSpec, type OptionSpec } from '../../src/daemon/options.ts';
import { OPERATIONS_DOC, withOptionsTable } from '../../scripts/docs-options.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoal-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('defaults are sane and complete', () => {
  const c = loadConfig([], {});
  assert.equal(c.port, 7400);
  assert.equal(c.peerPort, 7401);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.advertiseHost, '127.0.0.1');
  assert.equal(c.replicas, 3);
  assert.equal(c.readQuorum, 2);
  assert.equal(c.writeQuorum, 2);
  assert.equal(c.partitions, 1024);
  assert.equal(c.maxMemory, 256e6);
  assert.equal(c.replicaTimeoutMs, 500);
  assert.equal(c.shutdownTimeoutMs, 10_000);
  assert.equal(c.logFormat, 'json');
  assert.equal(loadConfig([], {}, true).logFormat, 'pretty', 'pretty on a terminal');
  assert.deepEqual(c.seeds, []);
  assert.match(c.name, /-7400$/);
  assert.equal(c.autoDrain, false, 'the automatic drain is off unless asked for');
  assert.equal(loadConfig(['--auto-drain', 'on'], {}).autoDrain, true);
});

test('flags beat environment variables, which beat the config file', () => {
  const path = file('a.json', JSON.stringify({ port: 9000, zone: 'file-zone', 'max-memory': '1gb', seeds: ['10.0.0.1:9001', 'h:2'], 'replica-timeout': 250 }));
  const c = loadConfig(['--config', path, '--zone', 'flag-zone'], { SHOAL_PORT: '9100' });
  assert.equal(c.port, 9100);
  assert.equal(c.zone, 'flag-zone');
  assert.equal(c.maxMemory, 1e9);
  assert.equal(c.replicaTimeoutMs, 250, 'a bare number in the file is milliseconds, as on the command line');
  assert.deepEqual(c.seeds, ['10.0.0.1:9001', 'h:2']);
  assert.equal(loadConfig([], { SHOAL_CONFIG: path }).port, 9000, 'the file can be named by its variable too');
});

test('every bad input is a ConfigError that names the option and where its value came from', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--bogus'], {}, /unknown option --bogus; known options: --config, --name/],
    [['stray'], {}, /unexpected argument "stray"/],
    [['--port', 'abc'], {}, /^--port takes a number from 1 to 65535, not "abc"$/],
    [['--port', '70000'], {}, /^--port must be a whole number from 1 to 65535, not 70000$/],
    [['--port', '7400.5'], {}, /^--port must be a whole number/],
    // Ports and counts are written in plain digits: Number() would read these as 10000.
    [['--port', '1e4'], {}, /^--port must be a whole number from 1 to 65535 in plain digits, not 1e4$/],
    [['--port', '0x2710'], {}, /^--port must be a whole number from 1 to 65535 in plain digits, not 0x2710$/],
    [[], { SHOAL_REPLICAS: '2.0' }, /^SHOAL_REPLICAS must be a whole number from 1 to 16 in plain digits, not 2\.0$/],
    [['--port', '65535'], {}, /--port 65535 leaves no room for the default peer port/],
    [['--read-quorum', '4'], {}, /^--read-quorum must be a whole number from 1 to 3 \(--replicas\), not 4$/],
    [['--replicas', '2'], { SHOAL_WRITE_QUORUM: '3' }, /^SHOAL_WRITE_QUORUM must be a whole number from 1 to 2/],
    [['--max-memory', 'lots'], {}, /^--max-memory: "lots" is not a size/],
    [['--max-memory', '1kb'], {}, /^--max-memory must be at least 1mib, not 1kb$/],
    [['--replica-timeout', '1h'], {}, /^--replica-timeout must be from 10ms to 10m, not 1h$/],
    [['--seeds', 'nohost'], {}, /^--seeds: seed "nohost" is not HOST:PORT/],
    [['--seeds', 'a:1,b:99999'], {}, /seed "b:99999" has port 99999/],
    [['--seeds', '[10.0.0.1]:7401'], {}, /not an IPv6 address/],
    [['--seeds', 'bad_host!:7401'], {}, /neither an IP address nor a DNS name/],
    [['--gossip-profile', 'moon'], {}, /^--gossip-profile must be one of lan, wan, local, not "moon"$/],
    [['--name', 'a b'], {}, /^--name "a b" may hold only letters/],
    [['--port', '7400', '--peer-port', '7400'], {}, /^--peer-port must differ from --port \(both are 7400\)$/],
    // A clash with a port the user did not give names what they gave, and how the other was derived.
    [['--port', '7400', '--peer-port', '7402'], {}, /^--peer-port 7402 is also the default RESP port \(--port 7400 \+ 2\); give --resp-port \(0 turns it off\) or another --peer-port$/],
    [['--port', '7400', '--resp-port', '7401'], {}, /^--resp-port 7401 is also the default peer port \(--port 7400 \+ 1\); give --peer-port or another --resp-port$/],
    [['--port', '7400', '--peer-port', '7403'], {}, /^--peer-port 7403 is also the default admin port \(--port 7400 \+ 3\); give --admin-port \(0 turns it off\) or another --peer-port$/],
    [['--peer-port', '7402'], {}, /^--peer-port 7402 is also the default RESP port \(the default --port 7400 \+ 2\); give --resp-port \(0 turns it off\) or another --peer-port$/],
    [['--peer-port', '7400'], {}, /^--peer-port 7400 is also the default --port; give --port or another --peer-port$/],
    [['--port', '7400', '--admin-port', '7401'], { SHOAL_RESP_PORT: '9000' }, /^--admin-port 7401 is also the default peer port \(--port 7400 \+ 1\); give --peer-port or another --admin-port$/],
    [['--peer-port', '7500'], { SHOAL_PORT: '7500' }, /^--peer-port must differ from SHOAL_PORT \(both are 7500\)$/],
    [['--host', '0.0.0.0'], {}, /^--host 0.0.0.0 listens on every interface.*give --advertise-host/],
    [[], { SHOAL_HOST: '::' }, /^SHOAL_HOST :: listens on every interface/],
    [['--host', '0.0.0.0', '--advertise-host', '0.0.0.0'], {}, /^--advertise-host 0.0.0.0 is no address other nodes and clients can dial/],
    [['--advertise-host', '127.0.0.1:18490'], {}, /^--advertise-host "127.0.0.1:18490" has a port: give the host only/],
    [['--advertise-host', 'http://10.0.0.1'], {}, /^--advertise-host "http:\/\/10.0.0.1" has a scheme/],
    [['--advertise-host', 'bad host!'], {}, /^--advertise-host "bad host!" is neither an IP address nor a DNS name$/],
    [['--advertise-host', '[fd00::1]'], {}, /has brackets: give the IPv6 address without them/],
    [[], { SHOAL_HOST: 'node 1' }, /^SHOAL_HOST "node 1" is neither an IP address nor a DNS name$/],
    [[], { SHOAL_PROT: '1' }, /unknown environment variable SHOAL_PROT/],
    [[], { SHOAL_REPLICAS: 'three' }, /^SHOAL_REPLICAS takes a number/],
    [['--config', join(dir, 'missing.json')], {}, /cannot read config file .*missing.json: ENOENT \(given by --config\)$/],
    [[], { SHOAL_CONFIG: join(dir, 'missing.json') }, /cannot read config file .*ENOENT \(given by SHOAL_CONFIG\)$/],
    [['--config', file('bad.json', '{ nope')], {}, /not valid JSON/],
    [['--config', file('unknown.json', '{"colour": "blue"}')], {}, /unknown key "colour" in config file .*; known keys: name, cluster/],
    [['--config', file('nested.json', '{"config": "other.json"}')], {}, /unknown key "config"/],
    [['--config', file('array.json', '[]')], {}, /must hold a JSON object/],
    [['--config', file('range.json', '{"port": 0}')], {}, /^"port" in .*range.json must be a whole number from 1 to 65535, not 0$/],
    [['--config', file('type.json', '{"zone": 5}')], {}, /^"zone" in .*type.json must be a string, not 5$/],
    [['--config', file('list.json', '{"seeds": [1]}')], {}, /^"seeds" in .*list.json must be an array of strings or a comma-separated string/],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(() => loadConfig(argv, env), (e: unknown) => e instanceof ConfigError && message.test(e.message), `${argv.join(' ')} ${JSON.stringify(env)}`);
  }
});

test('--seeds none (the default `shoal start --help` shows) starts a new cluster, as no --seeds does', () => {
  // probe-chaos: the help and docs/OPERATIONS.md say `default: none ... none starts a new cluster`,
  // and `--seeds none` was refused as a seed that is not HOST:PORT.
  assert.deepEqual(loadConfig(['--seeds', 'none'], {}).seeds, []);
  assert.deepEqual(loadConfig([], { SHOAL_SEEDS: 'none' }).seeds, []);
  assert.throws(() => loadConfig(['--seeds', 'none,10.0.0.1:7401'], {}), /--seeds: "none" means no seeds, so it goes alone/);
});

test('--advertise-host is what others are told; --host is where the ports listen; seeds may be names and IPv6', () => {
  const c = loadConfig(['--host', '0.0.0.0', '--advertise-host', '10.1.2.3', '--seeds', 'shoal-peers.default.svc.cluster.local:7401, [fd00::1]:7401,10.0.0.9:7401'], {});
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.advertiseHost, '10.1.2.3');
  assert.deepEqual(c.seeds, ['shoal-peers.default.svc.cluster.local:7401', '[fd00::1]:7401', '10.0.0.9:7401']);
  assert.equal(loadConfig([], { SHOAL_ADVERTISE_HOST: 'node-1.example' }).advertiseHost, 'node-1.example');
  assert.equal(loadConfig(['--advertise-host', 'fd00::5'], {}).advertiseHost, 'fd00::5');
});

test('every option of the schema is a flag, a variable, a file key (but --config), and in --help; every default is valid', () => {
  const text = help();
  for (const name of OPTION_NAMES) {
    const spec: OptionSpec = optionSpec(name);
    assert.match(text, new RegExp(`--${name}\\s+${envName(name)}\\s`), `${name} in --help`);
    if (spec.default !== undefined && spec.default !== '') {
      // With the option it needs, if any (--disk-size needs --disk-dir).
      const needed = spec.requires === undefined ? [] : [`--${spec.requires.option}`, join(dir, spec.requires.option)];
      const fromFlag = loadConfig([`--${name}`, spec.default, ...needed], {});
      const fromEnv = loadConfig(needed, { [envName(name)]: spec.default });
      assert.deepEqual(fromFlag, fromEnv, `${name}: flag and variable read alike`);
      if (!spec.notInFile) assert.deepEqual(loadConfig(['--config', file(`${name}.json`, JSON.stringify({ [name]: spec.default })), ...needed], {}), fromFlag, `${name}: file key reads alike`);
    }
  }
  assert.ok(Object.keys(DAEMON_OPTIONS).length >= 20);
});

test('docs/OPERATIONS.md has the options table the schema gives (regenerate it with npm run docs:options)', () => {
  const doc = readFileSync(OPERATIONS_DOC, 'utf8');
  assert.equal(withOptionsTable(doc), doc, 'the options table in docs/OPERATIONS.md is stale: run npm run docs:options');
  for (const name of OPTION_NAMES) assert.ok(doc.includes(`| \`--${name}\``) && doc.includes(`\`${envName(name)}\``), name);
  assert.throws(() => withOptionsTable('# no markers'), /no <!-- options:start/);
});

test('shoal dev checks the options it passes on to its nodes against the schema before starting any', async () => {
  await assert.rejects(runDev(['--max-memory', 'lots']), (e: unknown) => e instanceof UsageError && /^--max-memory: "lots" is not a size/.test(e.message));
  await assert.rejects(runDev(['--log-level', 'loud']), (e: unknown) => e instanceof UsageError && /^--log-level must be one of trace, debug, info, warn, error/.test(e.message));
  await assert.rejects(runDev(['--max-memory', '1kb']), (e: unknown) => e instanceof UsageError && /^--max-memory must be at least 1mib/.test(e.message));
  // The base port's range, said as one (0 is below it, not a lack of room above).
  await assert.rejects(runDev(['--base-port', '0']), (e: unknown) => e instanceof UsageError && /^--base-port must be from 1024 to 65512, not 0: it is node1's client port/.test(e.message));
  await assert.rejects(runDev(['--base-port', '65533', '--nodes', '1']), (e: unknown) => e instanceof UsageError && /^--base-port must be from 1024 to 65532, not 65533/.test(e.message));
  await assert.rejects(runDev(['--base-port', '1e4']), (e: unknown) => e instanceof UsageError && /^--base-port takes a whole number, not "1e4"$/.test(e.message));
});

test('--disk-size or --disk-write-budget without --disk-dir is refused: the disk tier they size is off (probe-cli F9c)', () => {
  const dirGiven = loadConfig(['--disk-dir', join(dir, 'disk'), '--disk-size', '10mib', '--disk-write-budget', '1mib'], {});
  assert.equal(dirGiven.disk?.bytes, 10 * 1024 * 1024);
  for (const [args, env, message] of [
    [['--disk-size', '10mb'], {}, /^--disk-size is given but the disk tier is off: give --disk-dir too$/],
    [['--disk-write-budget', '1mib'], {}, /^--disk-write-budget is given but the disk tier is off: give --disk-dir too$/],
    [[], { SHOAL_DISK_SIZE: '10mb' }, /^SHOAL_DISK_SIZE is given but the disk tier is off: give --disk-dir too$/],
    [['--config', file('disk-size.json', '{"disk-size": "10mb"}')], {}, /disk-size" in .*disk-size\.json is given but the disk tier is off/],
  ] as const) {
    assert.throws(() => loadConfig([...args], env), (e: Error) => e instanceof ConfigError && message.test(e.message), `${args.join(' ')} ${JSON.stringify(env)}`);
  }
});

test('a SHOAL_* variable set to the empty string counts as not set, as for every variable; an empty flag is a bad value (probe-cli F9c)', () => {
  const defaults = loadConfig([], {});
  for (const name of ['SHOAL_MAX_MEMORY', 'SHOAL_PORT', 'SHOAL_DISK_SIZE', 'SHOAL_EVICTION_POLICY']) {
    assert.deepEqual(loadConfig([], { [name]: '' }), defaults, name);
  }
  assert.equal(loadConfig(['--max-memory', '64mb'], { SHOAL_MAX_MEMORY: '' }).maxMemory, 64_000_000, 'nor does it hide a flag');
  assert.throws(() => loadConfig(['--max-memory', ''], {}), (e: Error) => e instanceof ConfigError && /^--max-memory: "" is not a size/.test(e.message));
  assert.throws(() => loadConfig(['--config', file('empty-value.json', '{"max-memory": ""}')], {}), (e: Error) => e instanceof ConfigError && /^"max-memory" in .* is not a size/.test(e.message));
});

test('--allowed-origins: origins normalised as browsers send them, * for any, a malformed entry refused with the form', () => {
  assert.equal(loadConfig([], {}).allowedOrigins, null, 'not given: the local-pages rule of security/origins.ts');
  assert.deepEqual(loadConfig(['--allowed-origins', 'HTTPS://App.Example:443, http://localhost:3000'], {}).allowedOrigins, ['https://app.example', 'http://localhost:3000']);
  assert.deepEqual(loadConfig([], { SHOAL_ALLOWED_ORIGINS: '*' }).allowedOrigins, ['*']);
  for (const bad of ['app.example', 'https://app.example/path', 'https://user@app.example', 'file:///tmp/x', 'https://']) {
    assert.throws(() => loadConfig(['--allowed-origins', bad], {}), (e: Error) => e instanceof ConfigError && e.message.startsWith(`--allowed-origins: "${bad}" is not an origin: write it as a browser sends it, scheme://host[:port]`), bad);
  }
});
