/**
 * Helpers for datagrams (`Datagram` in src/runtime/env.ts: bytes, or a gather list of parts that a
 * transport copies at most once): their length, and copying or joining their parts.
 */
import type { Datagram } from '../runtime/env.ts';

export type { Datagram };

/** The bytes a datagram holds, all parts together. */
export function datagramByteLength(datagram: Datagram): number {
  if (datagram instanceof Uint8Array) return datagram.byteLength;
  let length = 0;
  for (const part of datagram) length += part.byteLength;
  return length;
}

/** Copies a datagram's bytes (all parts, in order) into `target` at `offset`. */
export function copyDatagram(datagram: Datagram, target: Uint8Array, offset: number): void {
  if (datagram instanceof Uint8Array) {
    target.set(datagram, offset);
    return;
  }
  for (const part of datagram) {
    target.set(part, offset);
    offset += part.byteLength;
  }
}

/** A fresh buffer holding a datagram's bytes: the one copy a transport that keeps them makes. */
export function joinDatagram(datagram: Datagram): Uint8Array {
  if (datagram instanceof Uint8Array) return datagram.slice();
  const out = new Uint8Array(datagramByteLength(datagram));
  copyDatagram(datagram, out, 0);
  return out;
}
