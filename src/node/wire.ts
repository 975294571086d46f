/**
 * Node-to-node bytes carry a one-byte message-family prefix, so gossip and replication can share
 * one transport per node and the node demultiplexes before either decodes anything.
 */
import type { Datagram, ReceiveHandler, Transport } from '../runtime/env.ts';

export const MessageFamily = {
  /** SWIM membership (src/gossip). */
  gossip: 0x47, // 'G'
  /** Replication: replica reads/writes, hints, sync (src/replication/messages.ts). */
  kv: 0x4b, // 'K'
  /** Users and ACLs (src/security/acl-sync.ts), handed to whoever asks through NodeConfig.aclChannel. */
  acl: 0x41, // 'A'
  /** Questions members ask each other for the admin port's cluster views (src/daemon/member-ask.ts), through NodeConfig.askChannel. */
  ask: 0x51, // 'Q'
} as const;

export type MessageFamilyCode = (typeof MessageFamily)[keyof typeof MessageFamily];

/**
 * The family byte and the body as a gather list: the transport copies the body once, into what
 * it sends, instead of the mux copying it first to put one byte in front. The one-byte prefix is
 * shared by every send of its family (transports never write to what they are given).
 */
export function frame(prefix: Uint8Array, body: Datagram): readonly Uint8Array[] {
  return body instanceof Uint8Array ? [prefix, body] : [prefix, ...body];
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
    const prefix = Uint8Array.of(family);
    return {
      send: (to, body, lane) => this.transport.send(to, frame(prefix, body), lane),
      onReceive: (handler) => void this.handlers.set(family, handler),
    };
  }
}
