/**
 * The byte-accounting assertions (src/runtime/probes.ts): the hint store's and the store's running
 * byte counts equal what their contents cost, recounted. A recount walks every entry, so it runs
 * only where probes are (the simulator, at each store tick); production keeps the running counts.
 */
import type { Env } from '../runtime/env.ts';
import { invariant } from '../runtime/probes.ts';
import type { HintStore } from '../replication/hints.ts';
import type { Store } from '../store/index.ts';

export function checkAccounting(env: Pick<Env, 'probes' | 'log'>, store: Pick<Store, 'usedBytes' | 'recountBytes'>, hints: Pick<HintStore, 'bytes' | 'recountBytes'>): void {
  if (!env.probes) return;
  const hintBytes = hints.recountBytes();
  invariant(env, hintBytes === hints.bytes, 'hint-bytes-exact', () => `the hint store counts ${hints.bytes} bytes, its hints cost ${hintBytes}`);
  const storeBytes = store.recountBytes();
  invariant(env, storeBytes === store.usedBytes, 'store-bytes-exact', () => `the store counts ${store.usedBytes} bytes, its entries cost ${storeBytes}`);
}
