/**
 * Node-to-node bytes carry a one-byte message-family prefix, so gossip and replication can share
 * one transport per node and the node demultiplexes before either decodes anything.
 */

export const MessageFamily = {
  /** SWIM membership (src/gossip). */
  gossip: 0x47, // 'G'
  /** Replication: replica reads/writes, hints, sync (src/replication/messages.ts). */
  kv: 0x4b, // 'K'
} as const;

export type MessageFamilyCode = (typeof MessageFamily)[keyof typeof MessageFamily];

/** Prepends the family byte. */
export function frame(family: MessageFamilyCode, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = family;
  out.set(body, 1);
  return out;
}
