// Server commands a Redis user's tools call, compared with a real redis-server 7.0 (probe-redis2,
// s23): the HELP replies' closing line, and INFO's commandstats and errorstats sections, which
// monitoring agents (redis_exporter, Datadog's redisdb check) read.
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { test } from 'node:test';
import { RawConnection, redisBesideShoal, type Arg } from './resp-raw.ts';

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

/** `INFO section`'s fields as a map, the section's title line checked. */
async function infoFields(conn: RawConnection, section: string): Promise<Map<string, string>> {
  const reply = await conn.command(['INFO', section]);
  const lines = reply.split('\r\n').slice(1, -2).filter((line) => line !== '');
  assert.equal(lines[0]!.toLowerCase(), `# ${section}`, reply);
  return new Map(lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]));
}

/** commandstats without the timings, which differ: `calls=1,rejected_calls=0,failed_calls=0`. */
function countsOnly(stats: Map<string, string>): Map<string, string> {
  return new Map([...stats].map(([name, value]) => [name, value.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')]));
}

// Commands that run, commands rejected before running (arity, unknown subcommand: not counted
// against a command, as Redis has none to count), commands that fail while running, unknown ones.
const STATS_SCRIPT: Arg[][] = [
  ['SET', 'st:a', '1'], ['GET', 'st:a'], ['GET', 'st:a'], ['GET'], ['INCR', 'st:a'], ['SET', 'st:a', 'x'], ['INCR', 'st:a'],
  ['CLIENT', 'SETNAME', 'stats'], ['CLIENT', 'SETNAME'], ['CLIENT', 'NOSUCH'], ['CONFIG', 'GET', 'maxmemory'], ['NOSUCH', 'x'],
  ['HELLO', '4'], ['EXPIRE', 'st:a', '100', 'NX', 'XX'], ['PING'], ['ECHO', 'a', 'b'],
];

test('INFO commandstats and errorstats count what redis-server 7.0 counts', async () => {
  const counts: Map<string, string>[] = [];
  const errors: Map<string, string>[] = [];
  for (const conn of [pair.toRedis, pair.toShoal]) {
    assert.equal(await conn.command(['CONFIG', 'RESETSTAT']), '+OK\r\n');
    for (const command of STATS_SCRIPT) await conn.command(command);
    const stats = await infoFields(conn, 'commandstats');
    // usec is whole microseconds, and usec_per_call is exactly usec / calls, as Redis prints them.
    for (const [name, value] of stats) {
      const [, calls, usec, perCall] = /^calls=(\d+),usec=(\d+),usec_per_call=([\d.]+),/.exec(value) ?? [];
      assert.equal(perCall, (Number(calls) === 0 ? 0 : Number(usec) / Number(calls)).toFixed(2), `${name}:${value}`);
    }
    counts.push(countsOnly(stats));
    errors.push(await infoFields(conn, 'errorstats'));
  }
  assert.deepEqual(Object.fromEntries([...counts[1]!].sort()), Object.fromEntries([...counts[0]!].sort()));
  assert.deepEqual(Object.fromEntries(errors[1]!), Object.fromEntries(errors[0]!));
  // The titles' place among the sections: errorstats in the default INFO, commandstats in `all`.
  for (const conn of [pair.toRedis, pair.toShoal]) {
    const titles = (await conn.command(['INFO'])).split('\r\n').filter((line) => line.startsWith('# '));
    assert.ok(titles.includes('# Errorstats') && !titles.includes('# Commandstats'), titles.join());
    const all = (await conn.command(['INFO', 'all'])).split('\r\n').filter((line) => line.startsWith('# '));
    assert.ok(all.indexOf('# Commandstats') > all.indexOf('# CPU') && all.indexOf('# Errorstats') > all.indexOf('# Commandstats'), all.join());
  }
});

test("CLIENT LIST names another connection's last command as Redis 7.0 does: `config|get`, and one refused for its arity", async () => {
  for (const [last, expected] of [[['CONFIG', 'GET', 'maxmemory'], 'config|get'], [['GET'], 'get'], [['CLIENT', 'SETNAME'], 'client|setname']] as const) {
    const seen: string[] = [];
    for (const [port, viewer] of [[pair.redisPort, pair.toRedis], [pair.shoalPort, pair.toShoal]] as const) {
      const other = await RawConnection.open(port);
      try {
        const id = /^:(\d+)\r\n$/.exec(await other.command(['CLIENT', 'ID']))![1]!;
        await other.command([...last]);
        const line = await viewer.command(['CLIENT', 'LIST', 'ID', id]);
        seen.push(/ cmd=(\S+) /.exec(line)![1]!);
      } finally {
        other.close();
      }
    }
    assert.deepEqual(seen, [expected, expected], last.join(' '));
  }
});

test('CONFIG GET answers a name without glob characters spelled as the client gave it, as Redis 7.0', async () => {
  for (const command of [['CONFIG', 'GET', 'MAXMEMORY'], ['CONFIG', 'GET', 'MAXMEMORY', 'maxmemory'], ['CONFIG', 'GET', 'Slowlog-log-slower-than'], ['CONFIG', 'GET', 'MaxMemory-Policy', 'maxmemory-policy'], ['CONFIG', 'GET', 'SAVE', 'sav?']]) {
    const fromRedis = await pair.toRedis.command(command);
    const fromShoal = await pair.toShoal.command(command);
    // The policy's value is the node's store's (allkeys-wtinylfu by default): compare the names.
    assert.equal(fromShoal.split('\r\n').slice(0, 3).join('\r\n'), fromRedis.split('\r\n').slice(0, 3).join('\r\n'), command.join(' '));
    assert.equal(fromShoal.split('\r\n').length, fromRedis.split('\r\n').length, command.join(' '));
  }
});

test("INFO stats has Redis 7.0's network rate fields, in Redis's order and format", async () => {
  const names = ['total_net_input_bytes', 'total_net_output_bytes', 'total_net_repl_input_bytes', 'total_net_repl_output_bytes', 'instantaneous_input_kbps', 'instantaneous_output_kbps', 'instantaneous_input_repl_kbps', 'instantaneous_output_repl_kbps'];
  for (const conn of [pair.toRedis, pair.toShoal]) {
    for (let i = 0; i < 20; i++) await conn.command(['SET', `net:${i}`, 'x'.repeat(1000)]);
    const stats = await infoFields(conn, 'stats');
    const order = [...stats.keys()].filter((name) => names.includes(name));
    assert.deepEqual(order, names);
    for (const name of names.filter((n) => n.endsWith('kbps'))) assert.match(stats.get(name)!, /^\d+\.\d\d$/, name);
  }
});

test("INFO memory and cpu have Redis 7.0's peak, system memory and children fields, in Redis's order", async () => {
  const memoryNames = ['used_memory', 'used_memory_human', 'used_memory_rss', 'used_memory_rss_human', 'used_memory_peak', 'used_memory_peak_human', 'used_memory_peak_perc', 'total_system_memory', 'total_system_memory_human', 'maxmemory'];
  const cpuNames = ['used_cpu_sys', 'used_cpu_user', 'used_cpu_sys_children', 'used_cpu_user_children'];
  for (const conn of [pair.toRedis, pair.toShoal]) {
    const memory = await infoFields(conn, 'memory');
    assert.deepEqual([...memory.keys()].filter((name) => memoryNames.includes(name)), memoryNames);
    assert.ok(Number(memory.get('used_memory_peak')) >= Number(memory.get('used_memory')), JSON.stringify(Object.fromEntries(memory)));
    assert.match(memory.get('used_memory_peak_perc')!, /^\d+\.\d\d%$/);
    assert.equal(memory.get('total_system_memory'), String(totalmem()));
    const cpu = await infoFields(conn, 'cpu');
    assert.deepEqual([...cpu.keys()].filter((name) => cpuNames.includes(name)), cpuNames);
  }
});
