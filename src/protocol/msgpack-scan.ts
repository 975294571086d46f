/**
 * A structural pre-scan of msgpack bytes, run before a frame is decoded into objects.
 *
 * A generic msgpack decoder does work in proportion to the number of elements and their nesting,
 * not to the size of the bytes: a frame of 8 MiB can hold 8 million nested one-element arrays or a
 * map of a million keys, and decoding it blocks the event loop for seconds and allocates gigabytes.
 * The scan walks the same bytes without allocating anything, counting elements and open
 * containers, and refuses a frame as soon as it nests deeper or holds more elements than the
 * receiver allows. Its own cost is bounded by those limits, and once it has passed a frame the
 * decoder's is too. Strings, binary data (keys and values) and extension payloads are skipped by
 * their declared length, never looked at.
 */

/** How far a frame may nest (containers inside containers) and how many values it may hold in all. */
export interface ScanLimits {
  readonly maxDepth: number;
  /** Every value counts, map keys and container headers included. */
  readonly maxElements: number;
}

/**
 * Deepest nesting any frame of the client or node wire may have (16). The deepest real frame, a
 * status reply, nests 6 levels (frame, reply list, reply, status map, member list, member map).
 */
export const MAX_FRAME_DEPTH = 16;

export class MsgpackScanError extends Error {
  override readonly name = 'MsgpackScanError';
}

/**
 * Checks that `bytes` hold exactly one msgpack value within `limits`; throws MsgpackScanError
 * otherwise (truncated data, the never-used byte 0xc1, trailing bytes, too deep, too many values).
 */
export function scanMsgpack(bytes: Uint8Array, limits: ScanLimits): void {
  const length = bytes.byteLength;
  const at = new Cursor(bytes);
  // Values still to read in each open container, outermost first; `left` is the innermost's.
  const open: number[] = [];
  let left = 1;
  let elements = 0;

  for (;;) {
    if (left === 0) {
      const outer = open.pop();
      if (outer === undefined) break;
      left = outer;
      continue;
    }
    left--;
    if (++elements > limits.maxElements) {
      throw new MsgpackScanError(`msgpack data holds more than ${limits.maxElements} values`);
    }
    const b = at.u8();
    let children = 0;
    if (b <= 0x7f || b >= 0xe0) {
      // positive or negative fixint
    } else if (b <= 0x8f) {
      children = (b & 0x0f) * 2;
    } else if (b <= 0x9f) {
      children = b & 0x0f;
    } else if (b <= 0xbf) {
      at.skip(b & 0x1f);
    } else {
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          break;
        case 0xc4: // bin 8, 16, 32
        case 0xd9: // str 8, 16, 32
          at.skip(at.u8());
          break;
        case 0xc5:
        case 0xda:
          at.skip(at.u16());
          break;
        case 0xc6:
        case 0xdb:
          at.skip(at.u32());
          break;
        case 0xc7: // ext 8, 16, 32: length, type byte, data
          at.skip(at.u8() + 1);
          break;
        case 0xc8:
          at.skip(at.u16() + 1);
          break;
        case 0xc9:
          at.skip(at.u32() + 1);
          break;
        case 0xcc: // uint 8 and int 8
        case 0xd0:
          at.skip(1);
          break;
        case 0xcd:
        case 0xd1:
          at.skip(2);
          break;
        case 0xca: // float 32, uint 32, int 32
        case 0xce:
        case 0xd2:
          at.skip(4);
          break;
        case 0xcb: // float 64, uint 64, int 64
        case 0xcf:
        case 0xd3:
          at.skip(8);
          break;
        case 0xd4: // fixext 1, 2, 4, 8, 16: type byte and data
          at.skip(2);
          break;
        case 0xd5:
          at.skip(3);
          break;
        case 0xd6:
          at.skip(5);
          break;
        case 0xd7:
          at.skip(9);
          break;
        case 0xd8:
          at.skip(17);
          break;
        case 0xdc: // array 16, 32
          children = at.u16();
          break;
        case 0xdd:
          children = at.u32();
          break;
        case 0xde: // map 16, 32
          children = at.u16() * 2;
          break;
        case 0xdf:
          children = at.u32() * 2;
          break;
        default: // 0xc1, never used
          throw new MsgpackScanError(`byte 0x${b.toString(16)} at ${at.pos - 1} is not msgpack`);
      }
    }
    if (children > 0) {
      if (open.length + 1 > limits.maxDepth) {
        throw new MsgpackScanError(`msgpack data nests deeper than ${limits.maxDepth} levels`);
      }
      // Every value takes at least a byte: a count beyond the bytes left is a lie, refused now.
      at.need(children);
      open.push(left);
      left = children;
    }
  }
  if (at.pos !== length) throw new MsgpackScanError(`${length - at.pos} bytes after the end of the msgpack data`);
}

/**
 * The scan's read position. A class, not closures inside scanMsgpack: under tsx (which the tests
 * and the simulator run on) every named closure costs a defineProperty each time it is created,
 * and every gossip and msgpack-coded replication message is scanned.
 */
class Cursor {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless `n` more bytes are there. */
  need(n: number): void {
    const length = this.bytes.byteLength;
    if (n > length - this.pos) throw new MsgpackScanError(`msgpack data ends early at byte ${this.pos} of ${length}`);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
}
