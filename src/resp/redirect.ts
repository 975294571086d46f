/**
 * The `route` hook of RespServerContext: whether a keyed command runs on this node, or gets
 * `-MOVED slot host:port` or `-CROSSSLOT` instead.
 *
 * Any node can serve any key (it coordinates the replicas, as for the SDK), so a redirect is
 * only advice that saves a hop: cluster clients that never refresh their slot map on a timer
 * (ioredis) converge because of it, and plain clients keep working against a node that holds
 * the key. A node redirects only a key it holds no replica of (not in the key's preference
 * list), to the key's primary; every doubt serves the key here:
 * - the ring changed less than a few gossip rounds ago (other nodes may not agree yet);
 * - this node holds a replica of the key (so with N equal to the node count nothing moves, and
 *   a READONLY connection reading a key it holds a replica of is served too);
 * - the key's primary is not believed alive, or has no RESP listener;
 * - this connection was just redirected for this very key (a client whose map disagrees with
 *   ours would otherwise bounce between nodes): the second time in a row it is served;
 * - multi-key commands whose keys are in several slots (they fan out across partitions), except
 *   MSETNX, RENAME, RENAMENX and COPY, whose all-or-nothing meaning needs one slot: CROSSSLOT, as Redis.
 */
import { keySlot } from '../ring/slots.ts';
import type { CommandSpec, ConnectionState } from './command.ts';
import type { ClusterView } from './cluster-view.ts';

export const CROSSSLOT_ERROR = "CROSSSLOT Keys in request don't hash to the same slot";

/** Multi-key commands that must not span slots (Redis Cluster's CROSSSLOT). */
const SINGLE_SLOT_COMMANDS: ReadonlySet<string> = new Set(['msetnx', 'rename', 'renamenx', 'copy']);

export type RouteHook = (connection: ConnectionState, spec: CommandSpec, args: Uint8Array[]) => string | null;

/** The key arguments of a command, from its key spec (first, last, step; last -1 = the last argument). */
export function keyArguments(spec: CommandSpec, args: Uint8Array[]): Uint8Array[] {
  const [first, lastSpec, step] = spec.keys;
  if (first <= 0) return [];
  const last = lastSpec < 0 ? args.length + lastSpec : lastSpec;
  const keys: Uint8Array[] = [];
  for (let i = first; i <= last && i < args.length; i += Math.max(1, step)) keys.push(args[i]!);
  return keys;
}

export function createRouter(view: ClusterView): RouteHook {
  /** Per connection: the key it was last redirected for, until it runs a keyed command here. */
  const lastMoved = new WeakMap<ConnectionState, Uint8Array>();

  return (connection, spec, args) => {
    const keys = keyArguments(spec, args);
    if (keys.length === 0) return null;
    const slot = keySlot(keys[0]!);
    for (let i = 1; i < keys.length; i++) {
      if (keySlot(keys[i]!) !== slot) {
        lastMoved.delete(connection);
        return SINGLE_SLOT_COMMANDS.has(spec.name) ? CROSSSLOT_ERROR : null;
      }
    }
    const target = movedTarget(view, slot);
    if (target === null) {
      lastMoved.delete(connection);
      return null;
    }
    const previous = lastMoved.get(connection);
    if (previous !== undefined && equalBytes(previous, keys[0]!)) {
      // The client came back with the same key: its map still disagrees with ours. Serve it.
      lastMoved.delete(connection);
      return null;
    }
    lastMoved.set(connection, keys[0]!.slice());
    return `MOVED ${slot} ${target}`;
  };
}

/** `host:port` to redirect a command on `slot` to, or null to serve it here. */
function movedTarget(view: ClusterView, slot: number): string | null {
  if (view.ringStableMs() < view.stableAfterMs) return null;
  const layout = view.layout();
  const partition = layout.partitionOfSlot(slot);
  // Any replica serves reads and writes alike (writes are coordinated to every replica), READONLY or not.
  if (layout.isOwner(partition, view.selfName)) return null;
  const primary = layout.primaryOf(partition);
  if (primary === null || primary.self || primary.liveness !== 'alive' || primary.resp === null) return null;
  return `${primary.resp.host}:${primary.resp.port}`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
