// Gossip encryption inside the simulator (issue 14): the SealingTransport wraps each simulated
// node's whole transport, as the daemon wraps the real one. A cluster with the key forms and
// serves; a node with another key never joins; the key is rotated (install -> use -> remove) while
// a node is crashed, and that node, restarted with only the old key, learns it lacks the new key
// and rejoins once it is given it (as `shoal keyring install --primary --only` does).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { Keyring, keyIdHex } from '../../src/security/keyring.ts';
import { applyKeyringRequest, staleKeyHint, staleSenderReason } from '../../src/security/keyring-admin.ts';
import { SealingTransport } from '../../src/security/sealing-transport.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const key = (b: number) => new Uint8Array(32).fill(b);
const [k1, k2, wrong] = [key(1), key(2), key(9)];

type Sealed = ShoalNode & { sealing: SealingTransport };

/** `keyrings[i]` is node i's keyring; it outlives crashes, as the keyring file in the data directory does. */
function cluster(keyrings: Keyring[]): Simulation<Sealed> {
  const seeds = keyrings.map((_, i) => nodeAddress(i));
  return new Simulation<Sealed>({
    seed: 14,
    nodes: keyrings.length,
    trace: new EventTrace(),
    factory: (env, { index }) => {
      const sealing = new SealingTransport(env.transport, {
        cluster: 'shoal',
        address: env.address,
        keyring: keyrings[index]!,
        log: env.log,
        nowMs: () => env.clock.monoMs(),
        randomBytes: (n) => Uint8Array.from({ length: n }, () => env.random.int(256)),
      });
      const node = createNode({ env: { ...env, transport: sealing }, config: { seeds, partitions: 32, gossipProfile: 'local' } });
      return Object.assign(node, { sealing });
    },
  });
}

function alive(node: ShoalNode): string[] {
  return node.status().members.filter((m) => m.state === 'alive').map((m) => m.name).sort();
}

function writeAndRead(sim: Simulation<Sealed>, via: number, k: string): void {
  let written: string | null = null;
  sim.process(via)!.kv.set(enc.encode(k), enc.encode('v'), { consistency: 'quorum' }, (error) => (written = error ? error.code : 'ok'));
  sim.runUntil(sim.now + 2_000, () => written !== null);
  assert.equal(written, 'ok');
  let read: string | null = null;
  sim.process((via + 1) % 2)!.kv.get(enc.encode(k), { consistency: 'quorum' }, (error, result) => (read = error ? error.code : new TextDecoder().decode(result!.value ?? new Uint8Array())));
  sim.runUntil(sim.now + 2_000, () => read !== null);
  assert.equal(read, 'v');
}

test('a cluster with the key forms and serves; a node with another key never joins', () => {
  const sim = cluster([new Keyring([k1]), new Keyring([k1]), new Keyring([k1]), new Keyring([wrong])]);
  sim.runUntil(10_000);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(alive(sim.process(i)!), ['n1', 'n2', 'n3']);
    assert.equal(sim.process(i)!.status().ring.members, 3);
    assert.ok(sim.process(i)!.sealing.stats().rejected['unknown-key'] > 0, 'the members count what n4 sends');
  }
  writeAndRead(sim, 0, 'sealed-key');
  const stranger = sim.process(3)!;
  assert.equal(stranger.status().joined, false);
  assert.equal(stranger.sealing.stats().opened, 0, 'it opens nothing');
  assert.ok(stranger.sealing.stats().unknownKeySenders.some((u) => u.keyId === keyIdHex(k1)), 'it hears the key id it lacks (notices)');
});

test('rotation while a node is crashed; restarted on the old key it is shut out and says so; given the new key it rejoins', () => {
  const rings = [new Keyring([k1]), new Keyring([k1]), new Keyring([k1])];
  const sim = cluster(rings);
  sim.runUntil(5_000);
  assert.deepEqual(alive(sim.process(0)!), ['n1', 'n2', 'n3']);
  sim.crash(2);
  sim.runUntil(sim.now + 1_000);
  // What `shoal keyring install|use|remove` does on every member that answers (n3 does not).
  for (const request of [
    { id: 'i', op: 'install' as const, key: Buffer.from(k2).toString('base64'), fanout: false },
    { id: 'u', op: 'use' as const, keyId: keyIdHex(k2), fanout: false },
    { id: 'r', op: 'remove' as const, keyId: keyIdHex(k1), fanout: false },
  ]) {
    for (const i of [0, 1]) assert.ok(applyKeyringRequest(sim.process(i)!.sealing, nodeAddress(i), request).ok);
    sim.runUntil(sim.now + 500);
  }
  writeAndRead(sim, 0, 'after-rotation');
  assert.deepEqual(rings[2]!.list(), [{ id: keyIdHex(k1), primary: true }], 'the crashed node missed it');

  sim.restart(2);
  sim.runUntil(sim.now + 8_000);
  const back = sim.process(2)!;
  assert.deepEqual(alive(back), ['n3'], 'it hears nothing it can open');
  assert.ok(back.sealing.stats().unknownKeySenders.some((u) => u.keyId === keyIdHex(k2)), 'it knows which key it lacks');
  const hint = staleKeyHint(back.sealing.stats(), 'n3', 'DATA/keyring.sealed') ?? '';
  assert.match(hint, new RegExp(`send under key id ${keyIdHex(k2)}, which this node's keyring \\(primary ${keyIdHex(k1)}\\) lacks`));
  assert.match(hint, /shoal keyring install --new-key-file NEW --primary --only --peer n3 --key-file OLD/);
  const stale = sim.process(0)!.sealing.stats().unknownKeySenders.find((u) => u.address === 'n3' && u.keyId === keyIdHex(k1));
  assert.ok(stale, 'the members see it on the removed key');
  // What their `shoal status` says of it: the key id, and the command that brings it back.
  assert.match(staleSenderReason(stale), new RegExp(`sends under key id ${keyIdHex(k1)}, .* bring it back with \`shoal keyring install --new-key-file NEW --primary --only --peer n3 --key-file OLD\`, OLD holding key ${keyIdHex(k1)}`));
  assert.notDeepEqual(alive(sim.process(0)!), ['n1', 'n2', 'n3']);

  // The recovery: the new key installed as primary on that node only.
  const result = applyKeyringRequest(back.sealing, 'n3', { id: 'x', op: 'install', key: Buffer.from(k2).toString('base64'), primary: true, fanout: false });
  assert.ok(result.ok, result.error);
  sim.runUntil(sim.now + 30_000, () => [0, 1, 2].every((i) => alive(sim.process(i)!).join() === 'n1,n2,n3'));
  for (let i = 0; i < 3; i++) assert.deepEqual(alive(sim.process(i)!), ['n1', 'n2', 'n3']);
  assert.deepEqual(sim.process(0)!.sealing.stats().unknownKeySenders, []);
  writeAndRead(sim, 1, 'after-recovery');
});
