/**
 * AclSync in the deterministic simulator (src/sim): real simulated network (latency, partitions),
 * per-node clocks and timers, crashes and restarts. A node's "data directory" is a snapshot kept
 * outside the process and loaded at restart, as the daemon does with DATA_DIR/acl.sealed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { AclStore, type AclSnapshot } from '../../src/security/acl.ts';
import { AclSync } from '../../src/security/acl-sync.ts';

interface AclNode {
  store: AclStore;
  sync: AclSync;
}

function world(seed: number, nodes: number): { sim: Simulation<AclNode>; store: (i: number) => AclStore } {
  const addresses = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  const disks = new Map<number, AclSnapshot>();
  const sim: Simulation<AclNode> = new Simulation<AclNode>({
    seed,
    nodes,
    trace: new EventTrace(),
    factory: (env, info) => {
      const store = new AclStore(env.address, () => env.clock.wallMs());
      const saved = disks.get(info.index);
      if (saved !== undefined) store.load(saved);
      store.onChange(() => disks.set(info.index, structuredClone(store.snapshot())));
      const sync = new AclSync({ store, transport: env.transport, timers: env.timers, peers: () => addresses.filter((a) => a !== env.address), intervalMs: 1000 });
      return { store, sync };
    },
  });
  return { sim, store: (i) => sim.process(i)!.store };
}

function digests(sim: Simulation<AclNode>): Set<string> {
  return new Set(sim.upNodes().map((n) => n.process!.store.digest()));
}

for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: a change reaches all, survives a partition, and reaches a node that was down`, () => {
    const { sim, store } = world(seed, 3);
    sim.runUntil(100);
    assert.equal(store(0).setUser('alice', ['on', '#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b', '~a:*', '+@read']), null);
    sim.runUntil(sim.now + 500);
    for (let i = 0; i < 3; i++) assert.deepEqual(store(i).names(), ['alice', 'default'], `node ${i}`);

    // Node 3 cut off both ways; changes on both sides of the partition.
    const heal = [sim.network.cut([2], [0, 1]), sim.network.cut([0, 1], [2])];
    store(1).setUser('bob', ['on', 'nopass']);
    sim.runUntil(sim.now + 50);
    store(2).setUser('carol', ['on', 'nopass']);
    sim.runUntil(sim.now + 3000);
    assert.ok(!store(2).names().includes('bob'));
    for (const h of heal) h();
    sim.runUntil(sim.now + 5000);
    assert.equal(digests(sim).size, 1);
    assert.deepEqual(store(0).names(), ['alice', 'bob', 'carol', 'default']);

    // Node 2 down while alice changes and carol is deleted; it restarts from its disk and catches up.
    sim.crash(1);
    store(0).setUser('alice', ['off']);
    sim.runUntil(sim.now + 50);
    assert.equal(store(2).delUsers(['carol']), 1);
    sim.runUntil(sim.now + 2000);
    sim.restart(1);
    assert.equal(store(1).get('alice')!.enabled, true); // what it had on disk
    sim.runUntil(sim.now + 5000);
    assert.equal(digests(sim).size, 1);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(store(i).names(), ['alice', 'bob', 'default'], `node ${i}`);
      assert.equal(store(i).get('alice')!.enabled, false);
    }
  });
}
