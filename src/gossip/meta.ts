/**
 * Member metadata: the limits gossip enforces on it (it rides on every probe), comparing it, and
 * the sticky keys a restarted member takes back from what its peers remember of it.
 */
import { GossipConfigError } from './errors.ts';
import type { Member } from './membership.ts';
import { MAX_IDENTIFIER_LENGTH, MAX_META_BYTES, MAX_META_ENTRIES, type MemberUpdate } from './wire.ts';

export type Meta = Readonly<Record<string, string | number>>;

/** Our own metadata, checked once: too much of it is a configuration error, said at once. */
export function checkedMeta(meta: Meta): Meta {
  const problem = metaProblem(meta);
  if (problem !== null) throw new GossipConfigError(`member metadata ${problem} (it rides on every probe: keep it small)`);
  return meta;
}

/**
 * Whether metadata is more than gossip carries: over MAX_META_BYTES (a conservative estimate of
 * the encoded size), over MAX_META_ENTRIES entries, or a key or string value longer than
 * MAX_IDENTIFIER_LENGTH. Peers' decoders refuse a whole message holding such an update, so our own
 * must never carry one (a published verdict view of five 50-character names did: every probe of
 * the node was dropped as malformed), and a peer's is dropped.
 */
export function encodedMetaTooBig(meta: Meta): boolean {
  return metaProblem(meta) !== null;
}

function metaProblem(meta: Meta): string | null {
  const entries = Object.entries(meta);
  if (entries.length > MAX_META_ENTRIES) return `has ${entries.length} entries; at most ${MAX_META_ENTRIES} fit`;
  let bytes = 0;
  for (const [k, v] of entries) {
    if (k.length > MAX_IDENTIFIER_LENGTH) return `has a key of ${k.length} characters; at most ${MAX_IDENTIFIER_LENGTH} fit`;
    if (typeof v === 'string' && v.length > MAX_IDENTIFIER_LENGTH) return `has ${k} of ${v.length} characters; at most ${MAX_IDENTIFIER_LENGTH} fit`;
    bytes += k.length + (typeof v === 'string' ? v.length : 9) + 2;
  }
  return bytes > MAX_META_BYTES ? `encodes to more than ${MAX_META_BYTES} bytes` : null;
}

export function sameMeta(a: Meta, b: Meta): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Whether an update describes a member exactly as it is (address, zone and metadata). */
export function sameIdentity(member: Member, u: MemberUpdate): boolean {
  if (member.address !== u.address || member.zone !== u.zone) return false;
  const a = Object.keys(member.meta);
  const b = Object.keys(u.meta);
  return a.length === b.length && a.every((k) => member.meta[k] === u.meta[k]);
}

/** `own` plus every sticky key that `remembered` has and `own` lacks (the same object when none is missing). */
export function withStickyMeta(own: Meta, remembered: Meta, sticky: readonly string[]): Meta {
  const missing = sticky.filter((key) => !(key in own) && key in remembered);
  if (missing.length === 0) return own;
  const merged = { ...own, ...Object.fromEntries(missing.map((key) => [key, remembered[key]!])) };
  // A peer's copy that would not fit is not worth failing a refutation over.
  return encodedMetaTooBig(merged) ? own : merged;
}
