/**
 * This node's own gossip metadata, kept to what gossip carries (encodedMetaTooBig: 512 bytes in
 * all, no value over 256 characters; gossip refuses more, and peers would drop every message
 * holding it).
 *
 * Some entries must always get through: what the node starts with (its partition count and
 * addresses), the claim seed it takes at its join, and the flags its peers route by (leaving,
 * draining, stopping: without them peers keep sending to a node that is going). Room for those is
 * checked once, at start (`checkRoomForFlags`). The others are worth publishing but give way when
 * there is no room (`fitOwnMeta`): the published peer verdicts first, entry by entry from the end,
 * then the failure prediction, the degraded flag, and last the announced ring (without it, peers
 * see this node past a ring through sync answers alone, as before announcements).
 */
import { checkedMeta, encodedMetaTooBig } from '../gossip/membership.ts';
import { GossipConfigError } from '../gossip/errors.ts';
import { PROTOCOL_META } from '../gossip/protocol-version.ts';
import { PREDICTION_META, VERDICT_META } from './peer-verdicts.ts';
import { RING_META } from './ring-placement.ts';

type Meta = Readonly<Record<string, string | number>>;

/** What gives way when the metadata is full, first to last (the verdict view entry by entry first). */
const GIVES_WAY = [PREDICTION_META.probability, PREDICTION_META.secondsToFailure, VERDICT_META.degraded, RING_META.ring] as const;

/** `meta` without as much of its optional entries as it takes to fit (the same object when it fits). */
export function fitOwnMeta(meta: Meta): Meta {
  if (!encodedMetaTooBig(meta)) return meta;
  const fitted: Record<string, string | number> = { ...meta };
  while (encodedMetaTooBig(fitted) && typeof fitted[VERDICT_META.view] === 'string') {
    const entries = (fitted[VERDICT_META.view] as string).split(',');
    entries.pop();
    if (entries.length === 0) delete fitted[VERDICT_META.view];
    else fitted[VERDICT_META.view] = entries.join(',');
  }
  for (const key of GIVES_WAY) {
    if (!encodedMetaTooBig(fitted)) break;
    delete fitted[key];
  }
  return fitted;
}

/**
 * Throws GossipConfigError, at start, when `meta` (what the node starts with) leaves no room for
 * what it must publish later: gossip's protocol keys and `required` (numbers: the claim seed and
 * the flags).
 */
export function checkRoomForFlags(meta: Meta, required: readonly string[]): void {
  const largest = Number.MAX_SAFE_INTEGER;
  const later = [PROTOCOL_META.version, PROTOCOL_META.min, PROTOCOL_META.max, ...required];
  try {
    checkedMeta(meta);
  } catch (error) {
    if (!(error instanceof GossipConfigError)) throw error;
    throw new GossipConfigError(`this node's addresses do not fit in its gossip metadata: ${error.message}`);
  }
  try {
    checkedMeta({ ...meta, ...Object.fromEntries(later.map((key) => [key, largest])) });
  } catch (error) {
    if (!(error instanceof GossipConfigError)) throw error;
    throw new GossipConfigError(`this node's addresses leave no room in its gossip metadata for what it publishes later (its claim seed and its leaving, draining and stopping flags): ${error.message}`);
  }
}
