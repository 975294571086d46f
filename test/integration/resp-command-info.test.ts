/**
 * COMMAND INFO as redis-server 7.0 answers it, for every command (and subcommand) Shoal has:
 * arity, flags (in Redis's order), first/last/step key positions and ACL categories. Both servers
 * are asked `COMMAND INFO <name>` for each name in Shoal's COMMAND LIST. Key specs and tips are
 * not compared (docs/REDIS.md says so); what may differ is the table below, each with its reason.
 * And COMMAND LIST FILTERBY: what Redis lists of the commands Shoal has, and its errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisBesideShoal } from './resp-raw.ts';

/** Commands and subcommands Shoal has that redis-server 7.0 does not describe, and why. */
const NOT_IN_REDIS: Record<string, string> = {
  'shoal.hotkeys': "Shoal's own command (docs/REDIS.md, \"Shoal-specific commands\")",
  'client|setinfo': "Redis 7.2's: newer client libraries send it on connect, so Shoal accepts it",
  'debug|sleep': "Redis's DEBUG takes its subcommand as an argument and lists none; Shoal's DEBUG knows SLEEP and HELP only, as subcommands",
  'debug|help': 'as debug|sleep',
};

type Reply = string | number | null | Reply[];

/** A RESP2 reply (latin1) as nested arrays; also returns where it ended. */
function parse(text: string, at = 0): [Reply, number] {
  const line = text.indexOf('\r\n', at);
  const head = text.slice(at + 1, line);
  switch (text[at]) {
    case '+':
      return [head, line + 2];
    case ':':
      return [Number(head), line + 2];
    case '$': {
      const n = Number(head);
      return n < 0 ? [null, line + 2] : [text.slice(line + 2, line + 2 + n), line + 2 + n + 2];
    }
    case '*': {
      const n = Number(head);
      if (n < 0) return [null, line + 2];
      const items: Reply[] = [];
      let pos = line + 2;
      for (let i = 0; i < n; i++) {
        const [item, next] = parse(text, pos);
        items.push(item);
        pos = next;
      }
      return [items, pos];
    }
    default:
      throw new Error(`unexpected reply ${JSON.stringify(text.slice(at, at + 40))}`);
  }
}

/** What is compared of one COMMAND INFO entry, and its subcommands by name. */
function described(entry: Reply[]): { line: string; subcommands: Map<string, Reply[]> } {
  const [name, arity, flags, first, last, step, categories] = entry as [string, number, string[], number, number, number, string[]];
  const subcommands = new Map((entry[9] as Reply[][]).map((sub) => [sub[0] as string, sub]));
  return { line: `${name} arity=${arity} flags=[${flags.join(' ')}] keys=${first},${last},${step} categories=[${categories.join(' ')}]`, subcommands };
}

const servers = redisBesideShoal();

test('COMMAND INFO of every command Shoal has: arity, flags, key positions and ACL categories as redis-server 7.0', async () => {
  const [names] = parse(await servers.toShoal.command(['COMMAND', 'LIST']));
  const mismatches: string[] = [];
  let compared = 0;
  const compare = (name: string, ours: Reply[], theirs: Reply[] | null): void => {
    if (theirs === null) {
      if (NOT_IN_REDIS[name] === undefined) mismatches.push(`${name}: redis-server does not have it`);
      return;
    }
    const a = described(ours);
    const b = described(theirs);
    compared++;
    if (a.line !== b.line) mismatches.push(`shoal: ${a.line}\n    redis: ${b.line}`);
    for (const [sub, entry] of a.subcommands) compare(sub, entry, b.subcommands.get(sub) ?? null);
  };
  for (const name of names as string[]) {
    const [[ours]] = [parse(await servers.toShoal.command(['COMMAND', 'INFO', name]))[0] as Reply[][]];
    const [[theirs]] = [parse(await servers.toRedis.command(['COMMAND', 'INFO', name]))[0] as (Reply[] | null)[]];
    compare(name, ours!, theirs ?? null);
  }
  assert.ok(compared > 100, `${compared} commands and subcommands compared`);
  assert.deepEqual(mismatches, []);
});

test('COMMAND LIST FILTERBY PATTERN, ACLCAT and MODULE list what redis-server 7.0 lists of the commands Shoal has; its errors byte for byte', async () => {
  const [all] = parse(await servers.toShoal.command(['COMMAND', 'LIST']));
  const [withSubcommands] = parse(await servers.toShoal.command(['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', '*']));
  const ours = new Set(withSubcommands as string[]);
  assert.ok((all as string[]).every((name) => ours.has(name)) && ours.has('client|tracking') && ours.has('cluster|slots'), 'a filter lists subcommands too');
  const filters = [
    ['PATTERN', 'get*'], ['PATTERN', 'GET*'], ['PATTERN', 'client|*'], ['PATTERN', '*|help'], ['PATTERN', '*e?pire*'], ['PATTERN', '[a-c]*'], ['PATTERN', 'nosuch'],
    ['ACLCAT', 'string'], ['ACLCAT', 'KEYSPACE'], ['ACLCAT', 'admin'], ['ACLCAT', 'connection'], ['ACLCAT', 'transaction'], ['ACLCAT', 'fast'], ['ACLCAT', 'nosuch'],
    ['MODULE', 'nosuch'],
  ];
  for (const [type, argument] of filters) {
    const args = ['COMMAND', 'LIST', 'FILTERBY', type!, argument!];
    const [shoalNames] = parse(await servers.toShoal.command(args));
    const [redisNames] = parse(await servers.toRedis.command(args));
    const expected = (redisNames as string[]).filter((name) => ours.has(name)).sort();
    assert.deepEqual((shoalNames as string[]).filter((name) => NOT_IN_REDIS[name] === undefined).sort(), expected, args.join(' '));
  }
  for (const args of [['COMMAND', 'LIST', 'FILTERBY'], ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN'], ['COMMAND', 'LIST', 'FILTERBY', 'NAME', 'x'], ['COMMAND', 'LIST', 'x', 'PATTERN', 'y'],
    ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'a', 'b'], ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'a', 'FILTERBY', 'ACLCAT', 'b'], ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch'], ['COMMAND', 'LIST', 'filterby', 'module', 'x']]) {
    assert.equal(await servers.toShoal.command(args), await servers.toRedis.command(args), args.join(' '));
  }
});
