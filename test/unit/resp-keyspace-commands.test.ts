/**
 * The keyspace-iterating RESP commands (src/resp/keyspace-commands.ts) over MemoryKv's
 * ScanService: replies and error texts as Redis 7.0.15 gives them, SCAN returning every key once,
 * and the cursor's parsing (strtoul's rules) and encoding.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandSpec, ConnectionState, ReplyWriter, RespServerContext } from '../../src/resp/command.ts';
import { countKeysInSlotCommand, getKeysInSlotCommand, keyspaceCommands, RING_SLOTS } from '../../src/resp/keyspace-commands.ts';
import { CommandTable } from '../../src/resp/commands.ts';
import { cursorPosition, encodeCursor, parseCursor } from '../../src/resp/keyspace-walk.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';

type Reply = string | number | bigint | null | { error: string } | Reply[];

/** Builds the reply as a JS value: arrays nest, bulks become latin1 strings. */
class RecordingWriter implements ReplyWriter {
  readonly protocol = 2 as const;
  private readonly stack: { items: Reply[]; want: number }[] = [{ items: [], want: 1 }];
  private add(value: Reply): void {
    let top = this.stack[this.stack.length - 1]!;
    top.items.push(value);
    while (this.stack.length > 1 && top.items.length === top.want) {
      this.stack.pop();
      const parent = this.stack[this.stack.length - 1]!;
      parent.items.push(top.items);
      top = parent;
    }
  }
  private open(length: number): void {
    if (length === 0) this.add([]);
    else this.stack.push({ items: [], want: length });
  }
  get result(): Reply {
    return this.stack[0]!.items[0]!;
  }
  simple(text: string): void {
    this.add(text);
  }
  ok(): void {
    this.add('OK');
  }
  error(text: string): void {
    this.add({ error: text });
  }
  integer(value: number | bigint): void {
    this.add(Number(value));
  }
  bulk(value: Uint8Array | string | null): void {
    this.add(value === null ? null : typeof value === 'string' ? value : Buffer.from(value).toString('latin1'));
  }
  nullArray(): void {
    this.add(null);
  }
  array(length: number): void {
    this.open(length);
  }
  map(length: number): void {
    this.open(2 * length);
  }
  set(length: number): void {
    this.open(length);
  }
  double(value: number): void {
    this.add(String(value));
  }
  boolean(value: boolean): void {
    this.add(value ? 1 : 0);
  }
  verbatim(_format: string, text: string): void {
    this.add(text);
  }
  push(length: number): void {
    this.open(length);
  }
}

function harness(kv: MemoryKv) {
  const server: RespServerContext = { keyspace: kv, nowMs: () => Date.now(), topology: () => kv.topology(), route: () => null, stats: { keyspaceHits: 0, keyspaceMisses: 0 } };
  const connection: ConnectionState = { id: 1, name: '', protocol: 2, address: '127.0.0.1:1', readonly: false, closeAfterReply: false };
  const byName = new Map(keyspaceCommands.map((c) => [c.name, c]));
  const run = (spec: CommandSpec, words: (string | Buffer)[]): Promise<Reply> =>
    new Promise((resolve) => {
      const writer = new RecordingWriter();
      const args = words.map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : w));
      spec.run({ server, connection }, args, writer, () => resolve(writer.result));
    });
  const table = new CommandTable();
  const dispatch = (...words: string[]): Promise<Reply> =>
    new Promise((resolve) => {
      const writer = new RecordingWriter();
      table.dispatch({ server, connection }, words.map((w) => Buffer.from(w, 'latin1')), writer, () => resolve(writer.result));
    });
  return {
    call: (...words: string[]) => run(byName.get(words[0]!.toLowerCase())!, words),
    run,
    dispatch,
  };
}

function filled(n: number): MemoryKv {
  const kv = new MemoryKv();
  for (let i = 0; i < n; i++) kv.store.set(Buffer.from(`key:${i}`), Buffer.from('v'), 0);
  return kv;
}

describe('SCAN cursor', () => {
  it('parses as Redis strtoul does', () => {
    const p = (s: string) => parseCursor(Buffer.from(s, 'latin1'));
    assert.equal(p('0'), 0n);
    assert.equal(p(''), 0n);
    assert.equal(p('+5'), 5n);
    assert.equal(p('-1'), (1n << 64n) - 1n);
    assert.equal(p('-0'), 0n);
    assert.equal(p('007'), 7n);
    assert.equal(p('18446744073709551615'), (1n << 64n) - 1n);
    assert.equal(p('18446744073709551616'), null);
    assert.equal(p(' 5'), null);
    assert.equal(p('5 '), null);
    assert.equal(p('abc'), null);
    assert.equal(p('-'), null);
    assert.equal(p('0x10'), null);
    assert.equal(p('1e3'), null);
    assert.equal(p('5\x00junk'), 5n);
  });

  it('encodes (partition, position) so that 0 is the start and the end', () => {
    assert.equal(encodeCursor(0, 0, 1024), '0');
    assert.equal(encodeCursor(1024, 0, 1024), '0');
    const c = encodeCursor(1023, 0xffffffff, 1024);
    assert.deepEqual(cursorPosition(BigInt(c), 1024), { partition: 1023, position: 0xffffffff });
    assert.equal(cursorPosition(1024n << 32n, 1024), null);
  });
});

describe('keyspace commands over MemoryKv', () => {
  it('SCAN returns every key exactly once, and 0 at the end', async () => {
    const { call } = harness(filled(2000));
    const seen = new Map<string, number>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, keys] = (await call('SCAN', cursor, 'COUNT', '10')) as [string, string[]];
      for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
      cursor = next;
      calls++;
      assert.ok(calls < 2000, 'SCAN never ended');
    } while (cursor !== '0');
    assert.equal(seen.size, 2000);
    assert.deepEqual([...seen.values()].filter((n) => n !== 1), []);
  });

  it('SCAN applies MATCH and TYPE, and a cursor past the last partition ends at once', async () => {
    const { call } = harness(filled(300));
    const collect = async (...options: string[]) => {
      const all: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = (await call('SCAN', cursor, ...options)) as [string, string[]];
        all.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      return all.sort();
    };
    assert.deepEqual(await collect('MATCH', 'key:1?', 'COUNT', '50'), Array.from({ length: 10 }, (_, i) => `key:1${i}`).sort());
    assert.equal((await collect('TYPE', 'STRING')).length, 300);
    assert.deepEqual(await collect('TYPE', 'hash'), []);
    assert.deepEqual(await call('SCAN', '-1'), ['0', []]);
  });

  it('SCAN answers errors as Redis does', async () => {
    const { call } = harness(filled(3));
    assert.deepEqual(await call('SCAN', ' 5'), { error: 'ERR invalid cursor' });
    assert.deepEqual(await call('SCAN', 'x', 'COUNT', '0'), { error: 'ERR invalid cursor' });
    assert.deepEqual(await call('SCAN', '0', 'COUNT', '0'), { error: 'ERR syntax error' });
    assert.deepEqual(await call('SCAN', '0', 'COUNT', '-1'), { error: 'ERR syntax error' });
    assert.deepEqual(await call('SCAN', '0', 'COUNT', 'x'), { error: 'ERR value is not an integer or out of range' });
    assert.deepEqual(await call('SCAN', '0', 'COUNT', '9223372036854775808'), { error: 'ERR value is not an integer or out of range' });
    assert.deepEqual(await call('SCAN', '0', 'COUNT'), { error: 'ERR syntax error' });
    assert.deepEqual(await call('SCAN', '0', 'foo', 'bar'), { error: 'ERR syntax error' });
    const [cursor, keys] = (await call('SCAN', '0', 'COUNT', '5', 'COUNT', '100000')) as [string, string[]];
    assert.equal(cursor, '0');
    assert.equal(keys.length, 3);
  });

  it('KEYS, DBSIZE, RANDOMKEY', async () => {
    const { call } = harness(filled(120));
    assert.deepEqual(((await call('KEYS', 'key:11?')) as string[]).sort(), Array.from({ length: 10 }, (_, i) => `key:11${i}`).sort());
    assert.equal(((await call('KEYS', '*')) as string[]).length, 120);
    assert.equal(await call('DBSIZE'), 120);
    const key = (await call('RANDOMKEY')) as string;
    assert.match(key, /^key:\d+$/);
    const empty = harness(new MemoryKv());
    assert.equal(await empty.call('RANDOMKEY'), null);
    assert.equal(await empty.call('DBSIZE'), 0);
    assert.deepEqual(await empty.call('KEYS', '*'), []);
  });

  it('FLUSHALL and FLUSHDB delete every key; bad options are a syntax error', async () => {
    const kv = filled(200);
    const { call } = harness(kv);
    assert.deepEqual(await call('FLUSHALL', 'x'), { error: 'ERR syntax error' });
    assert.deepEqual(await call('FLUSHALL', 'ASYNC', 'x'), { error: 'ERR syntax error' });
    assert.equal(await call('DBSIZE'), 200);
    assert.equal(await call('FLUSHALL', 'sync'), 'OK');
    assert.equal(await call('DBSIZE'), 0);
    kv.store.set(Buffer.from('again'), Buffer.from('v'), 0);
    assert.equal(await call('FLUSHDB', 'ASYNC'), 'OK');
    assert.equal(kv.store.size, 0);
  });

  it('CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT filter the slot\'s partition by slot', async () => {
    const kv = filled(500);
    const { run } = harness(kv);
    // Hash tags put many keys in one slot; the other keys share its partition, not its slot.
    for (let i = 0; i < 30; i++) kv.store.set(Buffer.from(`{user7}:${i}`), Buffer.from('v'), 0);
    const slots = RING_SLOTS;
    const count = countKeysInSlotCommand(slots);
    const get = getKeysInSlotCommand(slots);
    const slot = slots.keySlot(Buffer.from('{user7}:x'));
    const expected = Array.from({ length: 30 }, (_, i) => `{user7}:${i}`);
    const partition = slots.partitionOfSlot(slot, 1024);
    // Keys in the same partition but other slots, which the slot filter must leave out.
    let neighbours = 0;
    for (let i = 0; neighbours < 5; i++) {
      const key = Buffer.from(`other:${i}`);
      if (slots.partitionOfSlot(slots.keySlot(key), 1024) === partition && slots.keySlot(key) !== slot) {
        kv.store.set(key, Buffer.from('v'), 0);
        neighbours++;
      }
    }
    assert.equal(await run(count, ['CLUSTER', 'COUNTKEYSINSLOT', String(slot)]), expected.length);
    assert.deepEqual(((await run(get, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '100'])) as string[]).sort(), expected.sort());
    assert.equal(((await run(get, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '0'])) as string[]).length, 0);
    assert.equal(((await run(get, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '7'])) as string[]).length, 7);
    assert.deepEqual(await run(count, ['CLUSTER', 'COUNTKEYSINSLOT', '16384']), { error: 'ERR Invalid slot' });
    assert.deepEqual(await run(count, ['CLUSTER', 'COUNTKEYSINSLOT', 'x']), { error: 'ERR value is not an integer or out of range' });
    assert.deepEqual(await run(get, ['CLUSTER', 'GETKEYSINSLOT', '1', '-1']), { error: 'ERR Invalid slot or number of keys' });
    assert.deepEqual(await run(get, ['CLUSTER', 'GETKEYSINSLOT', '-1', '1']), { error: 'ERR Invalid slot or number of keys' });
    assert.deepEqual(await run(get, ['CLUSTER', 'GETKEYSINSLOT', '1', 'x']), { error: 'ERR value is not an integer or out of range' });
    // Through the command table: CLUSTER lists them among its subcommands.
    const { dispatch } = harness(kv);
    assert.equal(await dispatch('cluster', 'countkeysinslot', String(slot)), 30);
    assert.deepEqual(await dispatch('CLUSTER', 'COUNTKEYSINSLOT'), { error: "ERR wrong number of arguments for 'cluster|countkeysinslot' command" });
    assert.deepEqual(await dispatch('CLUSTER', 'GETKEYSINSLOT', '1'), { error: "ERR wrong number of arguments for 'cluster|getkeysinslot' command" });
    assert.deepEqual(await dispatch('SCAN'), { error: "ERR wrong number of arguments for 'scan' command" });
    assert.deepEqual(await dispatch('KEYS', 'a', 'b'), { error: "ERR wrong number of arguments for 'keys' command" });
  });
});
