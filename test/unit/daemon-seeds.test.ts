// The daemon's seed list: names resolved through an injected resolver that answers differently
// over time (a headless service as pods come and go), IP addresses used as given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPort, parseHostPort, SeedList, type HostResolver } from '../../src/daemon/seeds.ts';
import type { Logger } from '../../src/runtime/env.ts';

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: object, msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger & { lines: string[] };
}

/** A resolver whose answers are scripted per call: an array of addresses, or an error code. */
function scripted(answers: Record<string, (readonly string[] | string)[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (name: string): Promise<readonly string[]> => {
    calls.push(name);
    const queue = answers[name];
    const next = queue && queue.length > 1 ? queue.shift()! : queue?.[0];
    if (next === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    if (typeof next === 'string') throw Object.assign(new Error(`getaddrinfo ${next} ${name}`), { code: next });
    return next;
  };
  return Object.assign(resolver, { calls });
}

test('a name stands for every address it resolves to, as DNS answers change; IP seeds pass as given', async () => {
  const resolve = scripted({ 'shoal-peers': ['ENOTFOUND', ['10.0.0.1'], ['10.0.0.1', '10.0.0.2', 'fd00::3'], ['10.0.0.2']] });
  const log = recordingLog();
  const seeds = new SeedList(['shoal-peers:7401', '192.168.1.9:7401'], resolve, log);
  assert.equal(seeds.hasNames, true);
  assert.deepEqual(seeds.current(), ['192.168.1.9:7401'], 'before any lookup: the IP seed only');

  await seeds.refresh();
  assert.deepEqual(seeds.current(), ['192.168.1.9:7401']);
  assert.equal(seeds.problems(), 'seed names that do not resolve: shoal-peers:7401 (ENOTFOUND)');
  assert.ok(log.lines.includes('warn seed shoal-peers:7401 does not resolve (ENOTFOUND)'), log.lines.join('\n'));

  await seeds.refresh();
  assert.deepEqual(seeds.current(), ['10.0.0.1:7401', '192.168.1.9:7401']);
  assert.equal(seeds.problems(), null);

  await seeds.refresh();
  assert.deepEqual(seeds.current(), ['10.0.0.1:7401', '10.0.0.2:7401', '[fd00::3]:7401', '192.168.1.9:7401']);

  await seeds.refresh();
  assert.deepEqual(seeds.current(), ['10.0.0.2:7401', '192.168.1.9:7401'], 'a pod gone from DNS is gone from the seeds');
  assert.ok(log.lines.some((l) => l === 'info seeds now stand for: 10.0.0.2:7401, 192.168.1.9:7401'), log.lines.join('\n'));
});

test('a failed lookup keeps the last addresses; an unchanged answer keeps the same list object; lookups in flight are shared', async () => {
  const resolve = scripted({ a: [['10.0.0.1'], 'EAI_AGAIN', ['10.0.0.1']], b: [['10.0.0.1']] });
  const seeds = new SeedList(['a:1', 'b:1'], resolve, recordingLog());
  await Promise.all([seeds.refresh(), seeds.refresh()]);
  assert.equal(resolve.calls.length, 2, 'one lookup per name for both calls');
  const list = seeds.current();
  assert.deepEqual(list, ['10.0.0.1:1'], 'the same address from two names, once');
  await seeds.refresh();
  assert.equal(seeds.problems(), 'seed names that do not resolve: a:1 (EAI_AGAIN)');
  assert.equal(seeds.current(), list, 'kept, and the same object');
  await seeds.refresh();
  assert.equal(seeds.problems(), null);
  assert.equal(seeds.current(), list);
});

test('seeds that are all IP addresses never look anything up', async () => {
  const resolve = scripted({});
  const seeds = new SeedList(['10.0.0.1:7401', '[::1]:7401'], resolve, recordingLog());
  await seeds.refresh();
  assert.equal(seeds.hasNames, false);
  assert.deepEqual(seeds.current(), ['10.0.0.1:7401', '[::1]:7401']);
  assert.deepEqual(resolve.calls, []);
});

test('seed addresses: IPv4, bracketed IPv6 and DNS names; anything else says what is wrong', () => {
  assert.deepEqual(parseHostPort('10.0.0.5:7401').address, { host: '10.0.0.5', port: 7401, isName: false });
  assert.deepEqual(parseHostPort('[fd00::5]:7401').address, { host: 'fd00::5', port: 7401, isName: false });
  assert.deepEqual(parseHostPort('shoal-0.shoal-peers.default.svc.cluster.local:7401').address, { host: 'shoal-0.shoal-peers.default.svc.cluster.local', port: 7401, isName: true });
  assert.deepEqual(parseHostPort('localhost:1').address, { host: 'localhost', port: 1, isName: true });
  for (const bad of ['', 'host', 'host:', ':7401', 'fd00::5:7401', 'host:0', 'host:65536', '[nope]:1', 'a b:1', 'host:port']) {
    assert.equal(parseHostPort(bad).address, undefined, bad);
    assert.ok(parseHostPort(bad).problem, bad);
  }
  assert.equal(hostPort('fd00::5', 7401), '[fd00::5]:7401');
  assert.equal(hostPort('10.0.0.5', 7401), '10.0.0.5:7401');
});

test('a node that advertises a DNS name leaves the addresses of that name out of its seeds', async () => {
  const resolve = scripted({ 'shoal-0.shoal-peers': ['ENOTFOUND', ['10.0.0.1']], 'shoal-peers': [['10.0.0.1'], ['10.0.0.1'], ['10.0.0.1', '10.0.0.2']] });
  const seeds = new SeedList(['shoal-peers:7401'], resolve, recordingLog(), { host: 'shoal-0.shoal-peers', port: 7401 });
  await seeds.refresh();
  assert.deepEqual(seeds.current(), ['10.0.0.1:7401'], 'its own name does not resolve yet: nothing to leave out');
  await seeds.refresh();
  assert.deepEqual(seeds.current(), [], 'only itself: it founds');
  await seeds.refresh();
  assert.deepEqual(seeds.current(), ['10.0.0.2:7401']);
  const byIp = new SeedList(['shoal-peers:7401'], scripted({ 'shoal-peers': [['10.0.0.1', '10.0.0.2']] }), recordingLog(), { host: '10.0.0.1', port: 7401 });
  await byIp.refresh();
  assert.deepEqual(byIp.current(), ['10.0.0.1:7401', '10.0.0.2:7401'], 'an advertised IP address is left out by gossip, which knows it as given');
});
