/**
 * parseMemory (src/resp/server-state.ts): CONFIG SET maxmemory's value as redis-server 7.0.15's
 * memtoull reads it. The figures are what `CONFIG SET maxmemory X` then `CONFIG GET maxmemory`
 * answered on redis-server 7.0.15 (2026-12-06); null is its `argument must be a memory value`.
 * test/integration/resp-maxmemory.test.ts compares the common ones with a live redis-server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMemory } from '../../src/resp/server-state.ts';

const REDIS_7_0_15: [string, string | null][] = [
  ['1gb', '1073741824'], ['100MB', '104857600'], ['10k', '10000'], ['10K', '10000'], ['10kb', '10240'], ['100b', '100'], ['100B', '100'],
  ['5Mb', '5242880'], ['5gB', '5368709120'], ['1g', '1000000000'], ['1M', '1000000'], ['007', '7'],
  // No digits is 0; past 2^64 - 1 is 2^64 - 1 (strtoull); the product wraps modulo 2^64.
  ['mb', '0'], ['', '0'], ['18446744073709551616', '18446744073709551615'], ['1000000000000000000000', '18446744073709551615'],
  ['17179869184gb', '0'], ['17179869183gb', '18446744072635809792'], ['1'.repeat(127), '18446744073709551615'],
  ['-1', null], ['1.5mb', null], [' 1mb', null], ['1mb ', null], ['1tb', null], ['+5', null], ['0x10', null], ['1e3', null],
  ['abc', null], ['1KiB', null], ['1'.repeat(128), null], ['0'.repeat(130) + '5', null],
];

test('memory values read as redis-server 7.0 reads them', () => {
  for (const [text, bytes] of REDIS_7_0_15) assert.equal(parseMemory(text)?.toString() ?? null, bytes, JSON.stringify(text));
});
