/**
 * COMMAND DOCS as redis-server 7.0 answers it, byte for byte, for every command and subcommand
 * Shoal has (summary, since, group, complexity, doc flags, history, arguments), in RESP2 and
 * RESP3. A container command (CLIENT, CONFIG, CLUSTER...) is compared without its `subcommands`
 * (Shoal has fewer), and each of its subcommands on its own. What may differ is the table below,
 * each with its reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisBesideShoal } from './resp-raw.ts';

/** Commands and subcommands whose docs are Shoal's own, and why. */
const SHOALS_OWN: Record<string, string> = {
  'shoal.hotkeys': "Shoal's own command (docs/REDIS.md, \"Shoal-specific commands\")",
  'client|setinfo': "Redis 7.2's (newer client libraries send it on connect): its 7.2 docs",
  'debug|sleep': "Redis's DEBUG takes its subcommand as an argument and documents none",
  'debug|help': 'as debug|sleep',
};

/** A RESP reply with its types kept (`+` simple, `$` bulk, `:` integer; aggregates as [type, items]), so equal values mean equal bytes. */
type Reply = string | [string, Reply[]];

function parse(text: string, at = 0): [Reply, number] {
  const line = text.indexOf('\r\n', at);
  const type = text[at]!;
  const head = text.slice(at + 1, line);
  if ('+-:_,#'.includes(type)) return [`${type}${head}`, line + 2];
  if (type === '$') {
    const n = Number(head);
    return n < 0 ? ['$nil', line + 2] : [`$${text.slice(line + 2, line + 2 + n)}`, line + 2 + n + 2];
  }
  const n = Number(head);
  const items: Reply[] = [];
  let pos = line + 2;
  for (let i = 0; i < (type === '%' ? 2 * n : n); i++) {
    const [item, next] = parse(text, pos);
    items.push(item);
    pos = next;
  }
  return [[type, items], pos];
}

/** A map's (or RESP2 flat array's) entries by key. */
function entries(reply: Reply): Map<string, Reply> {
  const items = (reply as [string, Reply[]])[1];
  const out = new Map<string, Reply>();
  for (let i = 0; i < items.length; i += 2) out.set((items[i] as string).slice(1), items[i + 1]!);
  return out;
}

/** One command's docs without `subcommands`, and its subcommands' docs by full name. */
function split(docs: Reply): { own: Reply; subcommands: Map<string, Reply> } {
  const [type, items] = docs as [string, Reply[]];
  const own: Reply[] = [];
  let subcommands = new Map<string, Reply>();
  for (let i = 0; i < items.length; i += 2) {
    if (items[i] === '$subcommands') subcommands = entries(items[i + 1]!);
    else own.push(items[i]!, items[i + 1]!);
  }
  return { own: [type, own], subcommands };
}

const servers = redisBesideShoal();

for (const protocol of ['2', '3']) {
  test(`COMMAND DOCS of every command and subcommand Shoal has is redis-server 7.0's, byte for byte (RESP${protocol})`, async () => {
    await servers.toShoal.command(['HELLO', protocol]);
    await servers.toRedis.command(['HELLO', protocol]);
    const names = (parse(await servers.toShoal.command(['COMMAND', 'LIST']))[0] as [string, string[]])[1].map((n) => n.slice(1));
    const mismatches: string[] = [];
    const undocumented: string[] = [];
    let compared = 0;
    const compare = (name: string, ours: Reply, theirs: Reply | undefined): void => {
      const a = split(ours);
      if (!entries(a.own).has('summary')) undocumented.push(name);
      if (SHOALS_OWN[name] !== undefined) {
        assert.deepEqual([...entries(a.own).keys()].slice(0, 3), ['summary', 'since', 'group'], name);
      } else if (theirs === undefined) {
        mismatches.push(`${name}: redis-server does not have it`);
      } else {
        const b = split(theirs);
        compared++;
        if (JSON.stringify(a.own) !== JSON.stringify(b.own)) mismatches.push(`${name}\n    shoal: ${JSON.stringify(a.own)}\n    redis: ${JSON.stringify(b.own)}`);
        for (const [sub, docs] of a.subcommands) compare(sub, docs, b.subcommands.get(sub));
        return;
      }
      for (const [sub, docs] of a.subcommands) compare(sub, docs, undefined);
    };
    for (const name of names) {
      const ours = entries(parse(await servers.toShoal.command(['COMMAND', 'DOCS', name]))[0]).get(name);
      const theirs = entries(parse(await servers.toRedis.command(['COMMAND', 'DOCS', name]))[0]).get(name);
      assert.ok(ours !== undefined, name);
      compare(name, ours, theirs);
    }
    assert.deepEqual(undocumented, [], 'commands without a summary');
    assert.ok(compared > 130, `${compared} commands and subcommands compared`);
    assert.deepEqual(mismatches, []);
  });
}

test('COMMAND DOCS of several names, an unknown one skipped, and of everything', async () => {
  await servers.toShoal.command(['HELLO', '2']);
  await servers.toRedis.command(['HELLO', '2']);
  const args = ['COMMAND', 'DOCS', 'get', 'nosuch', 'SET'];
  assert.equal(await servers.toShoal.command(args), await servers.toRedis.command(args));
  const all = entries(parse(await servers.toShoal.command(['COMMAND', 'DOCS']))[0]);
  const listed = (parse(await servers.toShoal.command(['COMMAND', 'LIST']))[0] as [string, string[]])[1].map((n) => n.slice(1));
  assert.deepEqual([...all.keys()].sort(), [...listed].sort());
});
