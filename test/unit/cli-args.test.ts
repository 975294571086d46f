import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { parseBytes, parseDuration, UnitSyntaxError } from '../../src/daemon/units.ts';
import { parseSeeds } from '../../src/sim/driver.ts';

const SPECS = { nodes: { kind: 'number', description: 'n' }, json: { kind: 'boolean', description: 'j' } } as const;

test('flags parse by kind; unknown ones, including inherited property names, are usage errors', () => {
  assert.deepEqual(parseArgs(['--nodes', '5', '--json', 'rest'], SPECS), { flags: { nodes: 5, json: true }, positionals: ['rest'] });
  assert.deepEqual(parseArgs(['--nodes=7'], SPECS).flags, { nodes: 7 });
  for (const bad of [['--bogus'], ['--toString', 'x'], ['--constructor'], ['--__proto__', '1'], ['--nodes', 'five'], ['--nodes']]) {
    assert.throws(() => parseArgs(bad, SPECS), UsageError, bad.join(' '));
  }
});

test('-h is --help; any other -x is an unknown option, and -- or a leading digit makes it an argument', () => {
  const withHelp = { ...SPECS, help: { kind: 'boolean', description: 'h' } } as const;
  assert.deepEqual(parseArgs(['key', '-h'], withHelp), { flags: { help: true }, positionals: ['key'] });
  assert.throws(() => parseArgs(['-h'], SPECS), /unknown option -h; put -- before/);
  assert.throws(() => parseArgs(['-x'], withHelp), /unknown option -x \(-h is --help\)/);
  assert.deepEqual(parseArgs(['--', '-h', '-x'], withHelp).positionals, ['-h', '-x']);
  assert.deepEqual(parseArgs(['-5', '-', '-1.5'], withHelp).positionals, ['-5', '-', '-1.5']);
  assert.deepEqual(parseArgs(['--nodes', '-3'], withHelp).flags, { nodes: -3 }, 'a flag value may start with -');
});

test('durations and sizes take their units and refuse anything else', () => {
  assert.equal(parseDuration('60s'), 60_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseBytes('64mb'), 64e6);
  assert.equal(parseBytes('1GiB'), 1024 ** 3);
  for (const bad of ['', '5 parsecs', '-1s']) assert.throws(() => parseDuration(bad), UnitSyntaxError, bad);
  for (const bad of ['', 'lots', '1tb']) assert.throws(() => parseBytes(bad), UnitSyntaxError, bad);
  const specs = { ttl: { kind: 'duration', description: 't' }, size: { kind: 'bytes', description: 's' } } as const;
  assert.deepEqual(parseArgs(['--ttl', '2s', '--size', '1kib'], specs).flags, { ttl: 2000, size: 1024 });
  assert.throws(() => parseArgs(['--ttl', 'soon'], specs), (e: unknown) => e instanceof UsageError && /^--ttl: "soon" is not a duration/.test(e.message));
});

test('seed lists: a seed, a list or a range; empty entries and huge ranges are refused', () => {
  assert.deepEqual(parseSeeds('7'), [7]);
  assert.deepEqual(parseSeeds('1,5, 9'), [1, 5, 9]);
  assert.deepEqual(parseSeeds('3..6'), [3, 4, 5, 6]);
  for (const bad of ['', '1,', ',2', 'x', '-1', '1.5', '6..3', '0..1000000000']) assert.throws(() => parseSeeds(bad), Error, bad);
});
