/**
 * Node-to-node bytes carry a one-byte message-family prefix, so gossip and replication can share
 * one transport per node and the node demultiplexes before either decodes anything.
 */
import type { ReceiveHandler, Transport } from '../runtime/env.ts';

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

/**
 * Splits one node-to-node Transport into one channel per message family: a channel's sends carry
 * its family byte, and inbound bytes go to the channel their first byte names (without it).
 * Bytes of an unknown family are dropped and counted, as junk from the network must be.
 */
export class TransportMux {
  /** Inbound messages with no or an unknown family byte. */
  unknownFamily = 0;
  private readonly handlers = new Map<number, ReceiveHandler>();

  constructor(private readonly transport: Transport) {
    transport.onReceive((from, bytes) => {
      const handler = bytes.length > 0 ? this.handlers.get(bytes[0]!) : undefined;
      if (handler) handler(from, bytes.subarray(1));
      else this.unknownFamily++;
    });
  }

  channel(family: MessageFamilyCode): Transport {
    return {
      send: (to, bytes, lane) => this.transport.send(to, frame(family, bytes), lane),
      onReceive: (handler) => void this.handlers.set(family, handler),
    };
  }
}
