/**
 * Node protocol versions, for rolling upgrades: which peers a member lets into its view.
 *
 * Every member announces, in its gossip metadata (so in every join, push-pull and `alive` update
 * it sends), the protocol version it runs and the range of peer versions it accepts. The rule:
 * two members interoperate when each one's version lies in the other's accepted range. By default
 * a node of version v accepts v-1..v+1, so a cluster in the middle of a rolling upgrade runs v and
 * v+1 side by side, and a node two versions away is refused by both sides.
 *
 * A refused peer never enters the view (its messages are dropped, its join is answered with
 * `refuse`), is listed with the reason for status, and is logged at warn, rate-limited. Members
 * that announce no version predate versioning: they run version 1 and accept 1..2, which is what
 * they can in fact talk to (the wire layout is unchanged; see docs/GOSSIP.md, "Protocol versions").
 */
import type { Env, NodeAddress } from '../runtime/env.ts';
import { GossipConfigError } from './errors.ts';
import type { LogLimiter } from '../runtime/log-limiter.ts';
import type { VersionRefusedPeer } from './membership.ts';
import type { MemberUpdate } from './wire.ts';

/**
 * The node protocol version this build speaks. Bump it when a change needs both sides to know it.
 * 3: value hunts are numbered and answered with a final `h` batch (src/replication/value-hunts.ts).
 * 4: a read answer's record may come after an inherited forgetting horizon (`vh`, src/replication/messages.ts VOUCH_PROTOCOL).
 */
export const PROTOCOL_VERSION = 4;


/**
 * The first version that decodes flush floor messages (`fl`, src/replication/flush-floors.ts):
 * FLUSHALL uses floors only when every member runs it, and nothing sends `fl` to an older member
 * (it would drop the message as malformed). Version 1 nodes ignore the floors sync and read answers
 * carry (optional fields, and a flag bit they do not read).
 */
export const FLUSH_FLOORS_PROTOCOL = 2;

/** Metadata keys that carry a member's protocol version and the peer versions it accepts. */
export const PROTOCOL_META = { version: 'proto', min: 'protoMin', max: 'protoMax' } as const;

/** A member's protocol version and the range of peer versions it accepts (inclusive). */
export interface ProtocolRange {
  version: number;
  min: number;
  max: number;
}

/** What a member that announces no version is taken to be: the first version, before versioning. */
const UNVERSIONED: ProtocolRange = { version: 1, min: 1, max: 2 };
/** Refused peers remembered for status, at most (they are outside input). */
const MAX_REFUSED_PEERS = 16;

/** The range a node of `version` announces by default: its neighbours, one version either side. */
export function protocolRange(version: number = PROTOCOL_VERSION): ProtocolRange {
  if (!Number.isSafeInteger(version) || version < 1) throw new GossipConfigError(`protocol version must be a positive integer, not ${version}`);
  return { version, min: Math.max(1, version - 1), max: version + 1 };
}

/** `meta` with the range's three keys set (they are the gossip layer's, whatever the caller passed). */
export function withProtocolMeta(meta: Readonly<Record<string, string | number>>, range: ProtocolRange): Readonly<Record<string, string | number>> {
  return { ...meta, [PROTOCOL_META.version]: range.version, [PROTOCOL_META.min]: range.min, [PROTOCOL_META.max]: range.max };
}

/** The range a peer announces in its metadata; UNVERSIONED without the keys, null when they are not a valid range. */
export function announcedRange(meta: Readonly<Record<string, string | number>>): ProtocolRange | null {
  const v = meta[PROTOCOL_META.version];
  if (v === undefined) return UNVERSIONED;
  const range = { version: v, min: meta[PROTOCOL_META.min] ?? v, max: meta[PROTOCOL_META.max] ?? v };
  const valid = Object.values(range).every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1);
  return valid && range.min <= range.max ? (range as ProtocolRange) : null;
}

function describe(r: ProtocolRange): string {
  return `protocol version ${r.version} (accepts ${r.min}..${r.max})`;
}

/**
 * Why a peer announcing `theirs` cannot be in a cluster with a member running `ours`, in words,
 * or null when the two interoperate (each version within the other's accepted range).
 */
export function incompatibility(ours: ProtocolRange, theirs: ProtocolRange | null): string | null {
  if (theirs === null) return 'it announces no valid protocol version';
  const versions = `it runs ${describe(theirs)}, this node ${describe(ours)}`;
  const tooNew = theirs.version > ours.max || ours.version < theirs.min;
  const tooOld = theirs.version < ours.min || ours.version > theirs.max;
  if (!tooNew && !tooOld) return null;
  // Neither side is wrong on its own: a cluster mixes two adjacent versions at most, during an upgrade.
  const which = theirs.version > ours.version ? 'too new' : 'too old';
  return `${versions}: ${which} for this node (a cluster mixes at most two adjacent versions: upgrade one version at a time)`;
}


/**
 * One member's admission by protocol version: decides, remembers the peers it refused (for status,
 * and to drop their messages that carry no metadata), and logs each refusal, rate-limited.
 */
export class VersionGate {
  private readonly refused = new Map<string, VersionRefusedPeer & { heardMs: number }>();

  constructor(
    private readonly env: Env,
    readonly ours: ProtocolRange,
    private readonly logLimiter: LogLimiter,
    /** Refused peers not heard from for this long are forgotten (gossip's deadReclaimMs). */
    private readonly forgetAfterMs: number,
  ) {
    if (ours.min > ours.version || ours.max < ours.version) throw new GossipConfigError(`protocol version ${ours.version} must lie within the accepted range ${ours.min}..${ours.max}`);
  }

  /**
   * Whether member `name` may be in the view. With its metadata (an update about it, or its own
   * in a message it sent), by the rule; without, unless it was refused before.
   */
  admits(name: string, address: NodeAddress, meta: Readonly<Record<string, string | number>> | undefined): boolean {
    const now = this.env.clock.monoMs();
    if (meta === undefined) {
      const known = this.refused.get(name);
      if (known === undefined) return true;
      known.heardMs = now;
      return false;
    }
    const reason = incompatibility(this.ours, announcedRange(meta));
    if (reason === null) {
      // Restarted with a version we accept (a rollback, say): welcome back.
      if (this.refused.delete(name)) this.env.log.info({ peer: name }, `node ${name} now runs a protocol version this node accepts; no longer refused`);
      return true;
    }
    this.refused.delete(name);
    this.refused.set(name, { name, address, reason, heardMs: now });
    if (this.refused.size > MAX_REFUSED_PEERS) this.refused.delete(this.refused.keys().next().value!);
    if (this.logLimiter.allow(`version ${name}`, now)) this.env.log.warn({ peer: name, address }, `refusing node ${name} at ${address}: ${reason}`);
    return false;
  }

  /**
   * A seed refused us for our version: the reason in words (from the refuser's own update, which
   * the `refuse` carries), logged at error, rate-limited.
   */
  refusedBy(seed: NodeAddress, seedName: string, updates: readonly MemberUpdate[]): string {
    const theirs = updates.find((u) => u.name === seedName);
    const why = incompatibility(this.ours, theirs ? announcedRange(theirs.meta) : null) ?? 'it does not accept this node\'s protocol version';
    const reason = `seed ${seed} (node ${seedName}) refused this node: ${why}`;
    if (this.logLimiter.allow(`version-refused-by ${seed}`, this.env.clock.monoMs())) this.env.log.error({ seed, seedName }, `cannot join: ${reason}`);
    return reason;
  }

  /** Peers refused for their version and heard of within `forgetAfterMs`. */
  refusedPeers(): VersionRefusedPeer[] {
    const cutoff = this.env.clock.monoMs() - this.forgetAfterMs;
    for (const [name, p] of this.refused) if (p.heardMs <= cutoff) this.refused.delete(name);
    return Array.from(this.refused.values(), ({ name, address, reason }) => ({ name, address, reason }));
  }
}
