// Server commands a Redis user's tools call, compared with a real redis-server 7.0 (probe-redis2,
// s23): the HELP replies' closing line, and INFO's commandstats and errorstats sections, which
// monitoring agents (redis_exporter, Datadog's redisdb check) read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisBesideShoal, type Arg, type RawConnection } from './resp-raw.ts';

const pair = redisBesideShoal();

/** A RESP2 array of simple strings, as its lines. */
function simpleLines(reply: string): string[] {
  return reply.split('\r\n').slice(1, -1).map((line) => line.slice(1));
}

test('every X HELP ends with the HELP lines redis-server 7.0 writes', async () => {
  for (const parent of ['CLIENT', 'CONFIG', 'COMMAND', 'ACL', 'SLOWLOG', 'LATENCY']) {
    const fromRedis = simpleLines(await pair.toRedis.command([parent, 'HELP']));
    const fromShoal = simpleLines(await pair.toShoal.command([parent, 'HELP']));
    assert.deepEqual(fromShoal.slice(-2), fromRedis.slice(-2), parent);
    assert.deepEqual(fromShoal.slice(-2), ['HELP', '    Prints this help.'], parent);
  }
});
