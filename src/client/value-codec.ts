/**
 * How values become bytes. The server stores bytes; the codec decides what a value is to the
 * application. Pass one as the `codec` option; write your own for JSON, protobuf, compression...
 */
import { decode, encode } from '@msgpack/msgpack';

export interface ValueCodec<V> {
  encode(value: V): Uint8Array;
  decode(bytes: Uint8Array): V;
}

/** Any msgpack value: strings, numbers, booleans, null, arrays, maps, Uint8Array, Date. The default. */
export const msgpackCodec: ValueCodec<unknown> = {
  encode: (value) => encode(value),
  decode: (bytes) => decode(bytes),
};

/** Raw bytes, stored as given: interoperates with anything that reads the cache. */
export const bytesCodec: ValueCodec<Uint8Array> = {
  encode: (value) => {
    if (!(value instanceof Uint8Array)) throw new TypeError('bytesCodec stores Uint8Array values only');
    return value;
  },
  decode: (bytes) => bytes,
};

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** UTF-8 strings, stored as their bytes (readable by `redis-cli`-style tools and the `shoal` CLI). */
export const stringCodec: ValueCodec<string> = {
  encode: (value) => {
    // TextEncoder would silently store String(value): '[object Object]' for an object, '' for undefined.
    if (typeof value !== 'string') throw new TypeError(`stringCodec stores string values only, got ${value === null ? 'null' : typeof value}`);
    return utf8Encoder.encode(value);
  },
  decode: (bytes) => utf8Decoder.decode(bytes),
};
