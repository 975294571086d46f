/**
 * The keyspace scan's pieces (src/replication/scan.ts): pages in scan-hash order with ties kept
 * together, MATCH after COUNT, positions that resume exactly, request checks, and the scan
 * messages' codec.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeKvMessage, encodeKvMessage, MalformedKvMessageError, type KvMessage } from '../../src/replication/messages.ts';
import { replicationConfig } from '../../src/replication/config.ts';
import { invalidScanRequest, mergePages, pageOf, PartitionScanner, scanHash } from '../../src/replication/scan.ts';
import type { KvError, ScanPage } from '../../src/replication/api.ts';
import { context, fakeEnv } from './replication-fakes.ts';

const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
const over = (list: string[]) => (visit: (key: string) => void) => list.forEach(visit);

describe('pageOf', () => {
  it('pages through every key once, in scan-hash order, resuming at `next`', () => {
    const seen: string[] = [];
    let after = 0;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 100);
      const page = pageOf(over(keys), after, 7, null);
      assert.equal(page.examined, page.keys.length);
      seen.push(...page.keys);
      if (page.next === null) break;
      assert.ok(page.next > scanHash(page.keys[page.keys.length - 1]!), 'the next position is past the page');
      after = page.next;
    }
    assert.deepEqual([...seen].sort(), [...keys].sort());
    const hashes = seen.map(scanHash);
    assert.deepEqual(hashes, [...hashes].sort((a, b) => a - b));
  });

  it('keeps keys sharing a scan hash in one page, past COUNT', () => {
    // A real collision of the 32-bit scan hash: by the birthday bound, within a few hundred thousand keys.
    const byHash = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const key = `c${i}`;
      const other = byHash.get(scanHash(key));
      if (other !== undefined) pair = [other, key];
      else byHash.set(scanHash(key), key);
    }
    const hash = scanHash(pair[0]);
    const page = pageOf(over([...keys, ...pair]), hash, 1, null);
    assert.deepEqual([...page.keys].sort(), [...pair].sort(), 'both keys of the hash in one page of COUNT 1');
    assert.equal(page.examined, 2);
    assert.ok(page.next === null || page.next > hash);
  });

  it('applies MATCH after COUNT keys were looked at, and "*" matches everything', () => {
    const page = pageOf(over(keys), 0, 10, 'k1*');
    assert.equal(page.examined, 10);
    assert.ok(page.keys.every((k) => k.startsWith('k1')));
    assert.ok(page.keys.length < 10);
    assert.equal(pageOf(over(['']), 0, 10, '*').keys.length, 1, 'exactly "*" lists even the empty key, as Redis');
    assert.equal(pageOf(over(keys), 0, 1000, 'k1?').keys.length, 10);
  });

  it('an empty partition, or a position past every key, is done at once', () => {
    assert.deepEqual(pageOf(over([]), 0, 10, null), { keys: [], next: null, examined: 0 });
    assert.deepEqual(pageOf(over(keys), 0xffffffff, 10, null).next, null);
  });
});

describe('scan requests and messages', () => {
  it('refuses bad partitions, positions and counts', () => {
    assert.equal(invalidScanRequest(1024, 0, 0, 1), null);
    assert.match(invalidScanRequest(1024, 1024, 0, 1)!, /partition/);
    assert.match(invalidScanRequest(1024, -1, 0, 1)!, /partition/);
    assert.match(invalidScanRequest(1024, 0, 2 ** 32, 1)!, /position/);
    assert.match(invalidScanRequest(1024, 0, 0.5, 1)!, /position/);
    assert.match(invalidScanRequest(1024, 0, 0, 0)!, /count/);
  });

  it('round-trips the scan messages and refuses malformed ones', () => {
    const messages: KvMessage[] = [
      { t: 'sc', id: 1, p: 3, a: 0xfffffffe, c: 10 },
      { t: 'sc', id: 2, p: 3, a: 0, c: 10, m: new Uint8Array([0x2a, 0xff]) },
      { t: 'sa', id: 3, s: 'ok', k: ['a', '\xff'], n: 42, x: 2 },
      { t: 'sa', id: 4, s: 'catching-up', k: [], n: -1, x: 0 },
      { t: 'cn', id: 5, p: 9 },
      { t: 'ca', id: 6, s: 'ok', n: 1234 },
    ];
    for (const m of messages) assert.deepEqual(decodeKvMessage(encodeKvMessage(m)), m);
    const bad = encodeKvMessage({ t: 'ca', id: 6, s: 'nonsense' as 'ok', n: 1 });
    assert.throws(() => decodeKvMessage(bad), MalformedKvMessageError);
  });
});

describe('mergePages', () => {
  it('takes the union below the smallest next position', () => {
    const sorted = [...keys].sort((a, b) => scanHash(a) - scanHash(b));
    const bound = scanHash(sorted[5]!);
    // One holder listed up to sorted[5] (exclusive); another lacks sorted[1] but listed further.
    const a = { k: sorted.slice(0, 5), n: bound, x: 5 };
    const b = { k: [sorted[0]!, ...sorted.slice(2, 8)], n: scanHash(sorted[8]!), x: 7 };
    const page = mergePages([a, b]);
    assert.deepEqual(page.keys, sorted.slice(0, 5));
    assert.equal(page.next, bound);
    assert.equal(page.examined, 7);
    assert.deepEqual(mergePages([{ k: ['x'], n: -1, x: 1 }, { k: ['y'], n: -1, x: 1 }]).next, null);
  });
});

describe('PartitionScanner', () => {
  function setup(consistency: 'one' | 'quorum') {
    const { env, flush } = fakeEnv();
    const sent: [string, KvMessage][] = [];
    const config = { ...replicationConfig(), defaultReadConsistency: consistency } as ReturnType<typeof replicationConfig>;
    const scanner = new PartitionScanner(context(env, sent, { config }));
    let result: { error: KvError | null; page?: ScanPage } | null = null;
    scanner.scanPartition(1, 0, { count: 10 }, (error, page) => (result = { error, page }));
    const requests = () => sent.filter(([, m]) => m.t === 'sc') as [string, KvMessage & { t: 'sc' }][];
    return { scanner, flush, requests, result: () => result, config };
  }

  it('asks itself first, and the next owner after a refusal', () => {
    const { scanner, requests, result } = setup('one');
    assert.deepEqual(requests().map(([to]) => to), ['n1']);
    scanner.onReply('n1', { t: 'sa', id: requests()[0]![1].id, s: 'catching-up', k: [], n: -1, x: 0 });
    assert.deepEqual(requests().map(([to]) => to), ['n1', 'n2']);
    scanner.onReply('n2', { t: 'sa', id: requests()[1]![1].id, s: 'ok', k: ['a'], n: -1, x: 1 });
    assert.equal(result()!.error, null);
    assert.deepEqual(result()!.page!.keys.map((k) => String.fromCharCode(...k)), ['a']);
    assert.equal(scanner.pendingCount, 0);
  });

  it('at quorum merges two holders, replacing a silent one after the timeout', () => {
    const { scanner, flush, requests, result, config } = setup('quorum');
    assert.deepEqual(requests().map(([to]) => to), ['n1', 'n2']);
    scanner.onReply('n1', { t: 'sa', id: requests()[0]![1].id, s: 'ok', k: ['a'], n: -1, x: 1 });
    assert.equal(result(), null, 'one answer of the two needed');
    flush(1_000 + config.requestTimeoutMs + 1);
    assert.deepEqual(requests().map(([to]) => to), ['n1', 'n2', 'n3']);
    // A late answer of the silent holder is ignored.
    scanner.onReply('n2', { t: 'sa', id: requests()[1]![1].id, s: 'ok', k: ['late'], n: -1, x: 1 });
    assert.equal(result(), null);
    scanner.onReply('n3', { t: 'sa', id: requests()[2]![1].id, s: 'ok', k: ['b'], n: -1, x: 1 });
    assert.equal(result()!.error, null);
    assert.deepEqual(result()!.page!.keys.map((k) => String.fromCharCode(...k)).sort(), ['a', 'b']);
  });

  it('fails as unavailable once every holder refused, and as overloaded when all were busy', () => {
    const { scanner, requests, result } = setup('quorum');
    scanner.onReply('n1', { t: 'sa', id: requests()[0]![1].id, s: 'ok', k: [], n: -1, x: 0 });
    scanner.onReply('n2', { t: 'sa', id: requests()[1]![1].id, s: 'none', k: [], n: -1, x: 0 });
    scanner.onReply('n3', { t: 'sa', id: requests()[2]![1].id, s: 'catching-up', k: [], n: -1, x: 0 });
    assert.equal(result()!.error!.code, 'unavailable');
    assert.match(result()!.error!.message, /1 of the 2 .*n2 \(does not hold it\), n3 \(catching up\)/);
    const busy = setup('one');
    for (let i = 0; i < 3; i++) busy.scanner.onReply(`n${i + 1}`, { t: 'sa', id: busy.requests()[i]![1].id, s: 'busy', k: [], n: -1, x: 0 });
    assert.equal(busy.result()!.error!.code, 'overloaded');
  });
});
