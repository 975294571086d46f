/**
 * What a node-to-node send takes (`Transport.send` in src/runtime/env.ts): the datagram's bytes,
 * or the parts they are made of, in order (a gather list, as for `writev`). A layer puts its
 * header in front of a body as a part of its own instead of copying the body behind it, and the
 * transport copies the parts at most once, into what it sends. The receiver always gets the
 * joined bytes. A transport never writes to the parts (a one-byte header can be shared by every
 * send); see Transport in src/runtime/env.ts for how long it may read them.
 */
export type Datagram = Uint8Array | readonly Uint8Array[];

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
