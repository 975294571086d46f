/**
 * `/hotkeys` on the admin port: the cluster's hottest keys with estimated rates (ops/s), merged
 * from every member (src/daemon/cluster-views.ts), and the hot-key alerts in force: the JSON
 * `shoal hotkeys --json` prints. `?local=1` answers with this node's own tracker only (no peer is
 * asked); `?count=N` (1-64, default 10) caps the keys.
 */
import { flagParam, sendJson, type AdminRoute } from './server.ts';

export interface HotKeysRouteSources {
  /** This node's hot keys and alerts. */
  local(count: number): unknown;
  /** Every member's, merged. */
  cluster(count: number): Promise<unknown>;
}

export const DEFAULT_HOT_KEYS_COUNT = 10;
export const MAX_HOT_KEYS_COUNT = 64;

export function hotKeysRoutes(s: HotKeysRouteSources): AdminRoute[] {
  return [
    {
      path: '/hotkeys',
      description: 'hottest keys with estimated ops/s, merged from every member, and hot-key alerts in force; ?local=1 this node only, ?count=N (1-64, default 10)',
      handle: async ({ response, query }) => {
        const text = query.get('count');
        const count = text === null ? DEFAULT_HOT_KEYS_COUNT : Number(text);
        if (!Number.isInteger(count) || count < 1 || count > MAX_HOT_KEYS_COUNT) {
          sendJson(response, 400, { error: `count must be an integer from 1 to ${MAX_HOT_KEYS_COUNT}, got ${JSON.stringify(text)}` });
          return;
        }
        const local = flagParam(query, 'local', response);
        if (local === undefined) return;
        sendJson(response, 200, local ? s.local(count) : await s.cluster(count));
      },
    },
  ];
}
