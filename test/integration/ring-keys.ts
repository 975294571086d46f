/**
 * Keys placed on a chosen node, for the integration tests that freeze or kill the node leading
 * them, and the wait for an SDK client's connection to that node.
 */
import { partitionOf } from '../../src/ring/partition.ts';
import { until, type DaemonProcess } from './daemon-harness.ts';

/** The part of an SDK client (of any value type) these use. */
interface RoutingClient {
  topology(): Promise<{ partitions: number; owners: string[][] }>;
  nodes(): { address: string; state: string }[];
}

/** The first `count` keys PREFIX0, PREFIX1... whose primary is `node` in the ring `client` reads. */
export async function keysLedBy(client: RoutingClient, node: string, prefix: string, count: number): Promise<string[]> {
  const ring = await client.topology();
  const encoder = new TextEncoder();
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const candidate = `${prefix}${i}`;
    if (ring.owners[partitionOf(encoder.encode(candidate), ring.partitions)]![0] === node) keys.push(candidate);
  }
  return keys;
}

/** Waits until `client` has a ready connection to `node`. */
export function untilConnected(client: RoutingClient, node: DaemonProcess): Promise<true> {
  return until(`the client to be connected to ${node.spec.name}`, () => (client.nodes().some((c) => c.address === node.clientAddress && c.state === 'ready') ? true : undefined), 30_000);
}
