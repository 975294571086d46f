// The SDK's connection handling in virtual time: a real SDK client and a real client session over
// the simulator's client links (src/sim/client-links.ts), one node serving a MemoryKv.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalClient } from '../../src/client/client.ts';
import type { ClientOptions } from '../../src/client/options.ts';
import { MemoryKv, MemoryStore } from '../../src/server/memory-kv.ts';
import { ClientSession, type ClientServerStats } from '../../src/server/session.ts';
import { ClientLinks } from '../../src/sim/client-links.ts';
import { namedStream } from '../../src/sim/rng.ts';
import { SIM_CLIENT_OPTIONS, simSessionConfig } from '../../src/sim/scenarios/kv-sdk.ts';
import { Simulation, type SimProcess } from '../../src/sim/simulation.ts';

const addressOf = (index: number) => `n${index + 1}:7000`;

/** `nodes` nodes serving one data set (MemoryKv over a shared MemoryStore) to SDK clients over simulated links. */
function world(nodes = 1, seed = 1) {
  const stats: ClientServerStats = { framesReceived: 0, requestsReceived: 0, replyFramesSent: 0, connectionsFailed: 0, connectionsClosedUnread: 0, repliesRefusedUnread: 0 };
  let links: ClientLinks | null = null;
  const sim: Simulation<SimProcess> = new Simulation<SimProcess>({
    seed,
    nodes,
    autoStart: false,
    factory: (env, { index }) => {
      const kv = new MemoryKv({ nodeName: env.address, clientAddress: addressOf(index), wallMs: () => env.clock.wallMs(), store });
      links!.listen(addressOf(index), index, env, (socket, remote) => new ClientSession(socket, simSessionConfig(env, kv, stats, null), remote));
      return {};
    },
  });
  const store = new MemoryStore(() => sim.now);
  links = new ClientLinks(sim, namedStream(seed, 'links'));
  for (let i = 0; i < nodes; i++) sim.start(i);
  const client = (options: Partial<ClientOptions<string>> = {}) =>
    new ShoalClient<string>({
      seeds: Array.from({ length: nodes }, (_, i) => addressOf(i)),
      timers: links.timers,
      webSocket: links.WebSocket,
      random: () => 0.5,
      ...SIM_CLIENT_OPTIONS,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0.5 },
      ...options,
    });
  const runUntil = (t: number) => sim.runUntilSettled(t, links.settle);
  /** Calls the SDK as client code (its promise settles as the simulation runs). */
  const call = <T>(fn: () => Promise<T>): Promise<T> => {
    let result!: Promise<T>;
    links.onClient(() => (result = fn()));
    return result;
  };
  return { sim, links: links as ClientLinks, client, runUntil, call };
}

test('a welcome that crosses close() does not revive the connection (no redial in 10 s of virtual time)', async () => {
  const { sim, links, client, runUntil } = world();
  const c = client();
  // Run until the node has answered the hello: its welcome is on the way.
  sim.runUntil(1_000, () => links.openLinks().some((l) => (l.server?.bufferedAmount ?? 0) > 0));
  assert.equal(c.status, 'connecting');
  const closed = c.close();
  await runUntil(sim.now + 10_000);
  await closed;
  assert.equal(links.stats.dialed, 1, 'a revived connection redials');
  assert.equal(c.status, 'closed');
});

test('a half-open connection is cut by keepalive between one and two intervals plus the timeout after the last frame, and the client redials', async () => {
  const { sim, links, client, runUntil, call } = world();
  const c = client();
  await runUntil(100);
  assert.equal(c.status, 'ready');
  const set = call(() => c.set('k', 'v'));
  await runUntil(sim.now + 100);
  await set;
  const link = links.openLinks()[0]!;
  const lastFrameAt = sim.now;
  links.halfOpen(link);
  let cutAt: number | null = null;
  c.on('status', (status) => {
    if (status === 'reconnecting' && cutAt === null) cutAt = sim.now;
  });
  await runUntil(sim.now + 5_000);
  const { keepaliveIntervalMs: interval, keepaliveTimeoutMs: timeout } = SIM_CLIENT_OPTIONS;
  assert.ok(cutAt !== null, 'keepalive never cut the half-open connection');
  assert.ok(cutAt >= lastFrameAt + interval + timeout && cutAt <= lastFrameAt + 2 * interval + timeout + 1, `cut ${cutAt - lastFrameAt} ms after the last frame`);
  assert.equal(c.status, 'ready', 'redialed');
  assert.equal(links.stats.dialed, 2);
  const get = call(() => c.get('k'));
  await runUntil(sim.now + 100);
  assert.equal(await get, 'v');
  const closed = c.close();
  await runUntil(sim.now + 100);
  await closed;
});

test('a read on a half-open connection fails over to another node once keepalive cuts it', async () => {
  const { sim, links, client, runUntil, call } = world(2);
  // No command timeout and no routing: only keepalive can end the read, and it goes to the least loaded node.
  const c = client({ commandTimeoutMs: 0, routing: false });
  await runUntil(100);
  assert.deepEqual(c.nodes().map((n) => n.state), ['ready', 'ready']);
  const set = call(() => c.set('k', 'stored'));
  await runUntil(sim.now + 100);
  await set;
  const [first] = links.openLinks();
  links.halfOpen(first!);
  const started = sim.now;
  let answeredAt = -1;
  const get = call(() => c.get('k')).then((v) => ((answeredAt = sim.now), v));
  await runUntil(sim.now + 5_000);
  assert.equal(await get, 'stored');
  const { keepaliveIntervalMs: interval, keepaliveTimeoutMs: timeout } = SIM_CLIENT_OPTIONS;
  assert.ok(answeredAt >= started + timeout && answeredAt <= started + 2 * interval + timeout + 10, `answered ${answeredAt - started} ms after it was sent`);
  assert.equal(links.stats.halfOpened, 1);
  assert.equal(links.stats.dialed, 3, 'one redial: the healthy connection was never cut');
  const closed = c.close();
  await runUntil(sim.now + 100);
  await closed;
});
