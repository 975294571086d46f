/**
 * Redis glob matching (src/protocol/glob.ts) against a real redis-server: the same keys are
 * stored there, and for every pattern KEYS's answer must equal the keys globMatch accepts.
 * Patterns are hand-picked edge cases (escapes, classes, ranges, unterminated classes, high
 * bytes) plus seeded random ones built from the same alphabet.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { globMatch, matchesEverything } from '../../src/protocol/glob.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

const KEYS: Buffer[] = [
  '',
  'a',
  'b',
  'ab',
  'abc',
  'abd',
  'aXc',
  'hello',
  'hallo',
  'hxllo',
  'heeeello',
  'hllo',
  'user:1',
  'user:2',
  'user:10',
  'user:',
  'a*c',
  'a?c',
  'a[c',
  'a]c',
  'a\\c',
  'a^c',
  'a-c',
  '[',
  ']',
  '\\',
  '*',
  '-',
  '^',
  'z',
  'Z',
  '\x00a',
  'a\x00',
  '\x80',
  '\xe9t\xe9',
  '\xff',
  'aaaaaaaaaaaaaaaaaaaaaaab',
].map(b);

const PATTERNS: string[] = [
  '*',
  '',
  '?',
  '??',
  '???',
  'a*',
  '*c',
  'a*c',
  'a?c',
  'h?llo',
  'h*llo',
  'h[ae]llo',
  'h[^e]llo',
  'h[a-b]llo',
  'h[b-a]llo',
  'h[a-]llo',
  'a[-]c',
  'a[\\]]c',
  'a[]]c',
  'a[]c',
  'a[\\\\]c',
  'a\\*c',
  'a\\?c',
  'a\\[c',
  'a\\',
  '\\',
  '\\\\',
  '[',
  '[abc',
  '[^',
  '[^]',
  'a[',
  'a[^',
  '[]',
  ']',
  '*\\',
  'user:?',
  'user:[0-9]',
  'user:[0-9]*',
  'user:*',
  'user:[^1]*',
  '**',
  '***c',
  '*a*',
  '*a*a*a*a*b',
  '[a-z]',
  '[z-a]',
  '[A-Z]',
  '[\x80-\xff]',
  '[a-\xff]',
  '[\xff-a]',
  '[^\x80]',
  '\xe9*',
  '*\xe9',
  '?\x00',
  '\x00*',
  '[\x00-a]*',
  'a[b-]',
  '[--z]',
  '[\\-]',
  'a[^a-z]c',
  '[[]',
  '[*]',
  '[?]',
];

const ALPHABET = ['a', 'b', 'c', 'h', 'e', 'l', 'o', '*', '?', '[', ']', '^', '-', '\\', ':', 'u', '1', '\xe9', '\xff', 'X'];

function randomPatterns(count: number): string[] {
  const random = SeededRandom.mulberry32(13);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + random.int(7);
    let p = '';
    for (let j = 0; j < length; j++) p += ALPHABET[random.int(ALPHABET.length)];
    out.push(p);
  }
  return out;
}

describe('Redis glob matching, compared with redis-server KEYS', () => {
  let server: ChildProcess;
  let client: Redis;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-glob-'));
    const socket = join(dir, 'redis.sock');
    server = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Ready once the server logs that it accepts connections on the socket.
    await new Promise<void>((resolve, reject) => {
      let log = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('ready to accept connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
    });
    client = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    const pipeline = client.pipeline();
    for (const key of KEYS) pipeline.set(key, '1');
    await pipeline.exec();
  });

  after(() => {
    client?.disconnect();
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('matches exactly the keys redis-server KEYS returns, for edge-case and random patterns', async () => {
    const patterns = [...PATTERNS, ...randomPatterns(300)];
    const pipeline = client.pipeline();
    for (const p of patterns) pipeline.callBuffer('KEYS', b(p));
    const answers = await pipeline.exec();
    const differences: string[] = [];
    patterns.forEach((p, i) => {
      const [error, keys] = answers![i]!;
      assert.equal(error, null);
      const theirs = (keys as Buffer[]).map((k) => k.toString('latin1')).sort();
      // KEYS (like SCAN) skips matching for exactly "*", which is how it lists the empty key.
      const ours = KEYS.filter((k) => matchesEverything(p) || globMatch(b(p), k)).map((k) => k.toString('latin1')).sort();
      // The latin1-string form (how replicas match store keys) must agree with the byte form.
      const oursAsStrings = KEYS.map((k) => k.toString('latin1')).filter((k) => matchesEverything(p) || globMatch(p, k)).sort();
      assert.deepEqual(oursAsStrings, ours, `string and byte matching differ for ${JSON.stringify(p)}`);
      if (JSON.stringify(theirs) !== JSON.stringify(ours)) differences.push(`${JSON.stringify(p)}: redis ${JSON.stringify(theirs)}, ours ${JSON.stringify(ours)}`);
    });
    assert.deepEqual(differences, []);
  });

  it('treats exactly "*" as match-everything', () => {
    assert.equal(matchesEverything('*'), true);
    assert.equal(matchesEverything(b('*')), true);
    assert.equal(matchesEverything('**'), false);
    assert.equal(matchesEverything(''), false);
  });

  it('gives up on absurdly deep star recursion instead of overflowing the stack', () => {
    const pattern = '*a'.repeat(5000) + 'b';
    assert.equal(globMatch(pattern, 'a'.repeat(6000)), false);
  });
});
