/**
 * Notices when the ring a KvService serves changes, so the server can push `ring-changed`.
 *
 * A service that offers `onTopologyChange` is subscribed to (no delay, no polling): a node's
 * coordinator does, told by the node whenever its ring changes. Any other `KvService` has
 * `topology().version` polled.
 */
import type { KvService } from '../replication/api.ts';

export type TopologyListener = (version: string) => void;

/** The optional subscription hook: returns an unsubscribe function. */
export interface TopologyObservable {
  onTopologyChange(listener: TopologyListener): () => void;
}

/** How often a service without `onTopologyChange` is polled (1 s): ring changes take gossip rounds anyway. */
export const DEFAULT_TOPOLOGY_POLL_MS = 1000;

function isObservable(kv: KvService): kv is KvService & TopologyObservable {
  return typeof (kv as Partial<TopologyObservable>).onTopologyChange === 'function';
}

/** Calls `listener` with each new version; returns a function that stops watching. */
export function watchTopology(kv: KvService, listener: TopologyListener, pollMs = DEFAULT_TOPOLOGY_POLL_MS): () => void {
  if (isObservable(kv)) return kv.onTopologyChange(listener);
  let last = kv.topology().version;
  const timer = setInterval(() => {
    const version = kv.topology().version;
    if (version !== last) {
      last = version;
      listener(version);
    }
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}
