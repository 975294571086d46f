/**
 * Hot-key alerts (`--hot-key-alert-rate`): after each store tick the node hands the tracker's top
 * keys (src/store/hot-keys.ts, with their rates over the last tick interval) to `check`. A key whose
 * rate reaches the threshold raises an alert: one warning line with the key, the `fired` counter
 * (NodeStats.hotKeyAlerts), an entry in `active()` (the dashboard's list) and an event to every
 * listener (the client server pushes it to subscribed SDK clients). The alert clears when the rate
 * falls below `threshold x CLEAR_FRACTION` (hysteresis: sampling noise around the threshold does not
 * make it flap), or when the key leaves the tracker: one info line and an event with `cleared: true`.
 *
 * One line per key per crossing; a flood of keys crossing at once is bounded by the tracker's
 * capacity (64 keys), and a key that flaps anyway is held to one new alert per REALERT_MS.
 * Time is the caller's (Env clock), so the simulator replays alerts exactly.
 */
import type { WireHotKeyAlert } from '../protocol/index.ts';
import type { HotKey } from '../store/index.ts';

/** The alert clears when the key's rate falls below this fraction of the threshold. */
export const HOT_KEY_CLEAR_FRACTION = 0.75;
/** A key whose alert cleared may raise a new one only this long after its last one. */
export const HOT_KEY_REALERT_MS = 10_000;

/** One hot-key alert, as logs, the dashboard and SDK clients see it: what the wire carries. */
export type HotKeyAlert = WireHotKeyAlert;

export interface HotKeyAlertLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface HotKeyAlertsOptions {
  node: string;
  /** ops/s per key; 0 switches alerts off. */
  threshold: number;
  log: HotKeyAlertLog;
}

const utf8 = new TextDecoder();

/** A store key (latin1 string of the key's bytes) as people read it: UTF-8. */
export function displayKey(storeKey: string): string {
  const bytes = new Uint8Array(storeKey.length);
  for (let i = 0; i < storeKey.length; i++) bytes[i] = storeKey.charCodeAt(i);
  return utf8.decode(bytes);
}

export class HotKeyAlerts {
  /** Alerts raised since start (NodeStats.hotKeyAlerts). */
  fired = 0;
  private readonly activeByKey = new Map<string, HotKeyAlert>();
  /** When each key last fired, for HOT_KEY_REALERT_MS (pruned as they age). */
  private readonly lastFired = new Map<string, number>();
  private readonly listeners = new Set<(alert: HotKeyAlert) => void>();

  constructor(private readonly options: HotKeyAlertsOptions) {}

  get threshold(): number {
    return this.options.threshold;
  }

  /** Alerts in force, hottest first. */
  active(): HotKeyAlert[] {
    return [...this.activeByKey.values()].map((a) => ({ ...a })).sort((a, b) => b.rate - a.rate || (a.key < b.key ? -1 : 1));
  }

  /** Calls `listener` with every alert and every clearing; returns the unsubscribe. */
  subscribe(listener: (alert: HotKeyAlert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Compares the tracker's keys (store keys, with rates) to the threshold at wall time `nowMs`. */
  check(hot: readonly HotKey[], nowMs: number): void {
    const threshold = this.options.threshold;
    if (!(threshold > 0)) return;
    const rates = new Map<string, number>();
    for (const h of hot) rates.set(displayKey(h.key), h.rate);
    for (const [key, alert] of [...this.activeByKey]) {
      const rate = rates.get(key) ?? 0;
      if (rate >= threshold * HOT_KEY_CLEAR_FRACTION) {
        // The peak while in force, rounded as when it fired (a /hotkeys reader saw 6455.346859293552).
        alert.rate = Math.max(alert.rate, round(rate));
        continue;
      }
      this.activeByKey.delete(key);
      const cleared: HotKeyAlert = { ...alert, rate: round(rate), atMs: nowMs, cleared: true };
      this.options.log.info({ event: 'hot-key-cleared', key, rate: cleared.rate, threshold, seconds: Math.round((nowMs - alert.sinceMs) / 1000) }, `hot key ${JSON.stringify(key)} cooled down: ${Math.round(cleared.rate)} ops/s (alert at ${threshold})`);
      this.emit(cleared);
    }
    for (const [key, at] of this.lastFired) if (nowMs - at >= HOT_KEY_REALERT_MS) this.lastFired.delete(key);
    for (const [key, rate] of rates) {
      if (rate < threshold || this.activeByKey.has(key) || this.lastFired.has(key)) continue;
      const alert: HotKeyAlert = { key, node: this.options.node, rate: round(rate), threshold, sinceMs: nowMs, atMs: nowMs, cleared: false };
      this.activeByKey.set(key, alert);
      this.lastFired.set(key, nowMs);
      this.fired++;
      this.options.log.warn({ event: 'hot-key-alert', key, rate: alert.rate, threshold }, `hot key ${JSON.stringify(key)}: ${Math.round(alert.rate)} ops/s on this node (alert at ${threshold}, --hot-key-alert-rate)`);
      this.emit({ ...alert });
    }
  }

  private emit(alert: HotKeyAlert): void {
    for (const listener of [...this.listeners]) listener(alert);
  }
}

function round(rate: number): number {
  return Math.round(rate * 10) / 10;
}
