/**
 * The store's keys array (one pointer per slot) is sized with the slot tables: grown by push, as it
 * was, V8 gave it half again its length each time it filled, up to 4 bytes an entry more than the
 * slots need (docs/STORE.md, "Memory at several sizes"). Read from a heap snapshot: the bytes of the
 * array's backing store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSnapshot } from 'node:v8';
import { Store } from '../../src/store/store.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };
/** V8's header on a FixedArray (map and length); then 8 bytes per element. */
const FIXED_ARRAY_HEADER_BYTES = 16;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

async function snapshot(): Promise<Snapshot> {
  let json = '';
  for await (const chunk of getHeapSnapshot()) json += String(chunk);
  return JSON.parse(json) as Snapshot;
}

/** The self sizes of the nodes reached from each node named `owner` by the property edges `path` (none where the path ends early). */
function sizeAlong(s: Snapshot, owner: string, path: string[]): number[] {
  const nf = s.snapshot.meta.node_fields.length;
  const ef = s.snapshot.meta.edge_fields.length;
  const nameAt = s.snapshot.meta.node_fields.indexOf('name');
  const sizeAt = s.snapshot.meta.node_fields.indexOf('self_size');
  const countAt = s.snapshot.meta.node_fields.indexOf('edge_count');
  const firstEdge: number[] = [];
  for (let i = 0, e = 0; i < s.nodes.length; i += nf) {
    firstEdge.push(e);
    e += s.nodes[i + countAt]! * ef;
  }
  /** The node (index into nodes) that `from` reaches by the edge named `name`. */
  const follow = (from: number, name: string): number | undefined => {
    const start = firstEdge[from / nf]!;
    for (let k = 0; k < s.nodes[from + countAt]!; k++) {
      const e = start + k * ef;
      const type = s.snapshot.meta.edge_types[0][s.edges[e]!];
      if (type !== 'element' && type !== 'hidden' && s.strings[s.edges[e + 1]!] === name) return s.edges[e + 2]!;
    }
    return undefined;
  };
  const sizes: number[] = [];
  for (let i = 0; i < s.nodes.length; i += nf) {
    if (s.strings[s.nodes[i + nameAt]!] !== owner) continue;
    let at: number | undefined = i;
    for (const name of path) at = at === undefined ? undefined : follow(at, name);
    if (at !== undefined) sizes.push(s.nodes[at + sizeAt]!);
  }
  return sizes;
}

test("the store's keys array holds a pointer per slot of capacity and no more", async () => {
  const store = new Store({ maxEntries: 1_000_000, clock, hotKeys: false, analytics: false });
  const value = new Uint8Array(8);
  for (let i = 0; i < 20_000; i++) store.set(`key:${i}`, value, { partition: i & 15 });
  const sizes = sizeAlong(await snapshot(), 'Store', ['keys', 'elements']);
  assert.deepEqual(sizes, [FIXED_ARRAY_HEADER_BYTES + 8 * store.slotCapacity], `slot capacity ${store.slotCapacity}`);
});
