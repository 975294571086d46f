/**
 * Peer verdicts shared through gossip (Panorama, OSDI 2018: judge a component by what the
 * components using it observe). Each node publishes, in its member metadata, the peers its own
 * coordinator has demoted (src/health/peer-health.ts) as a compact `name:letter` list (s slow,
 * e erroring, q quiet, that is silent), and whether it declares itself degraded; gossip's
 * piggyback carries the metadata as it carries any state change. Healthy peers are left out, so
 * a healthy cluster publishes nothing.
 *
 * A member is `degraded` when it declared itself so, or when a majority of the other live
 * members' published views name it. Its health score is the share of those observers that do
 * not name it (0 when it declared itself degraded): `shoal_node_health_score`.
 */
import type { PeerVerdict } from '../health/peer-health.ts';
import type { Member } from '../gossip/membership.ts';

/** Metadata keys: the published view, and the self-declared degradation. */
export const VERDICT_META = { view: 'hv', degraded: 'dg' } as const;
/** Metadata keys of a member's own failure prediction (failure-watch.ts): percent, and seconds. */
export const PREDICTION_META = { probability: 'fp', secondsToFailure: 'ft' } as const;
/** At most this many demoted peers are published (metadata is small: it rides on every probe). */
export const MAX_PUBLISHED_VERDICTS = 8;

const LETTER: Record<Exclude<PeerVerdict, 'healthy'>, string> = { slow: 's', erroring: 'e', silent: 'q' };

export interface MemberHealth {
  name: string;
  state: 'healthy' | 'degraded';
  /** 0..1: the share of observers that do not report it (0 if it declared itself degraded). */
  score: number;
  /** The observers that report it, with what they report. */
  reportedBy: { observer: string; verdict: string }[];
  selfDeclared: boolean;
  /** Its own published probability of failing within its model's horizon (0..1); null when it publishes none. */
  failureProbability: number | null;
  /** Its own predicted seconds to failure; null when it publishes none. */
  secondsToFailure: number | null;
}

/** The metadata value for this node's demoted peers: '' when there is none. */
export function encodeVerdicts(verdicts: readonly { name: string; verdict: PeerVerdict }[]): string {
  return verdicts
    .filter((v) => v.verdict !== 'healthy')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, MAX_PUBLISHED_VERDICTS)
    .map((v) => `${v.name}:${LETTER[v.verdict as Exclude<PeerVerdict, 'healthy'>]}`)
    .join(',');
}

/** A member's published view: peer name -> verdict letter. A malformed entry is skipped. */
export function decodeVerdicts(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof value !== 'string' || value === '') return out;
  for (const entry of value.split(',')) {
    const i = entry.lastIndexOf(':');
    if (i > 0) out.set(entry.slice(0, i), entry.slice(i + 1));
  }
  return out;
}

const VERDICT_NAME: Record<string, string> = { s: 'slow', e: 'erroring', q: 'silent' };

/** Every live member's health, from the views the live members published. */
export function memberHealth(members: readonly Member[]): MemberHealth[] {
  const live = members.filter((m) => m.state === 'alive' || m.state === 'suspect');
  const views = new Map(live.map((m) => [m.name, decodeVerdicts(m.meta[VERDICT_META.view])]));
  return live.map((m) => {
    const observers = live.filter((o) => o.name !== m.name);
    const reportedBy = observers.flatMap((o) => {
      const letter = views.get(o.name)!.get(m.name);
      return letter === undefined ? [] : [{ observer: o.name, verdict: VERDICT_NAME[letter] ?? letter }];
    });
    const selfDeclared = Boolean(m.meta[VERDICT_META.degraded]);
    const majority = observers.length > 0 && reportedBy.length > observers.length / 2;
    const score = selfDeclared ? 0 : observers.length === 0 ? 1 : 1 - reportedBy.length / observers.length;
    const probability = m.meta[PREDICTION_META.probability];
    const seconds = m.meta[PREDICTION_META.secondsToFailure];
    return {
      name: m.name,
      state: selfDeclared || majority ? 'degraded' : 'healthy',
      score: Math.round(score * 1000) / 1000,
      reportedBy,
      selfDeclared,
      failureProbability: typeof probability === 'number' ? probability / 100 : null,
      secondsToFailure: typeof seconds === 'number' ? seconds : null,
    };
  });
}
