/**
 * Read-modify-write operations and results as they travel between nodes (inside the `x`, `xr`,
 * `xw` and `xca` replication messages, messages.ts). An RmwOp holds bigints, which msgpack maps
 * do not carry as such, so integers go as decimal strings; everything else is plain data.
 *
 * Decoding checks every field: a peer running another version (or anyone who can reach the peer
 * port) must not be able to make the primary run a malformed operation.
 */
import type { RmwErrorCode, RmwExpiry, RmwOp, RmwResult } from './rmw.ts';

/** An RmwOp with its bigints as decimal strings. */
export type WireRmwOp = Record<string, unknown> & { op: string };

/** [kind, value]: 'o' ok, 'i' integer (decimal string), 'b' bulk (bytes or null), 'e' error code. */
export type WireRmwResult = ['o'] | ['i', string] | ['b', Uint8Array | null] | ['e', string];

/** Thrown for an operation or result that does not decode. */
export class MalformedRmwError extends Error {
  override readonly name = 'MalformedRmwError';
}

/**
 * The operation as it travels. Values are copied: the caller lends them (they may be views into a
 * client's frame, reused once the call returns), and the message is sent later, and again on a retry.
 */
export function encodeRmwOp(op: RmwOp): WireRmwOp {
  switch (op.op) {
    case 'incrby':
      return { op: 'incrby', by: op.by.toString() };
    case 'append':
    case 'setrange':
    case 'set':
      return { ...op, value: op.value.slice() } as unknown as WireRmwOp;
    case 'msetnx':
      return { op: 'msetnx', values: op.values.map((v) => v.slice()) };
    default:
      return { ...op } as unknown as WireRmwOp;
  }
}

const ERROR_CODES: readonly RmwErrorCode[] = ['not-integer', 'overflow', 'not-float', 'nan-or-infinity', 'no-such-key', 'too-large'];
const CONDITIONS_SET = ['always', 'nx', 'xx'];
const CONDITIONS_EXPIRE = ['always', 'nx', 'xx', 'gt', 'lt'];

export function decodeRmwOp(wire: unknown): RmwOp {
  if (typeof wire !== 'object' || wire === null) throw new MalformedRmwError('read-modify-write operation is not a map');
  const w = wire as Record<string, unknown>;
  const bytes = (field: string): Uint8Array => {
    const v = w[field];
    if (!(v instanceof Uint8Array)) throw new MalformedRmwError(`read-modify-write "${String(w['op'])}" has no bytes field "${field}"`);
    return v;
  };
  const num = (field: string): number => {
    const v = w[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new MalformedRmwError(`read-modify-write "${String(w['op'])}" has no number field "${field}"`);
    return v;
  };
  const oneOf = (field: string, allowed: readonly string[]): string => {
    const v = w[field];
    if (typeof v !== 'string' || !allowed.includes(v)) throw new MalformedRmwError(`read-modify-write "${String(w['op'])}" has a bad "${field}"`);
    return v;
  };
  switch (w['op']) {
    case 'incrby': {
      const by = w['by'];
      if (typeof by !== 'string' || !/^-?\d{1,20}$/.test(by)) throw new MalformedRmwError('read-modify-write "incrby" has no integer "by"');
      return { op: 'incrby', by: BigInt(by) };
    }
    case 'incrbyfloat': {
      if (typeof w['by'] !== 'string') throw new MalformedRmwError('read-modify-write "incrbyfloat" has no "by"');
      return { op: 'incrbyfloat', by: w['by'] };
    }
    case 'append':
      return { op: 'append', value: bytes('value') };
    case 'setrange':
      return { op: 'setrange', offset: num('offset'), value: bytes('value') };
    case 'set':
      if (typeof w['get'] !== 'boolean') throw new MalformedRmwError('read-modify-write "set" has no boolean "get"');
      return { op: 'set', value: bytes('value'), expiry: decodeExpiry(w['expiry']), condition: oneOf('condition', CONDITIONS_SET) as 'always', get: w['get'] };
    case 'getdel':
      return { op: 'getdel' };
    case 'getex':
      return { op: 'getex', expiry: w['expiry'] === null || w['expiry'] === undefined ? null : decodeExpiry(w['expiry']) };
    case 'expire':
      // `xx` (XX with GT/LT) is optional: absent means false.
      if (w['xx'] !== undefined && typeof w['xx'] !== 'boolean') throw new MalformedRmwError('read-modify-write "expire" has a bad "xx"');
      return { op: 'expire', atMs: num('atMs'), condition: oneOf('condition', CONDITIONS_EXPIRE) as 'always', ...(w['xx'] === true ? { xx: true } : {}) };
    case 'persist':
      return { op: 'persist' };
    case 'del':
      return { op: 'del' };
    case 'rename':
      if (typeof w['nx'] !== 'boolean') throw new MalformedRmwError('read-modify-write "rename" has no boolean "nx"');
      return { op: 'rename', nx: w['nx'] };
    case 'copy':
      if (typeof w['replace'] !== 'boolean') throw new MalformedRmwError('read-modify-write "copy" has no boolean "replace"');
      return { op: 'copy', replace: w['replace'] };
    case 'msetnx': {
      const values = w['values'];
      if (!Array.isArray(values) || !values.every((v) => v instanceof Uint8Array)) throw new MalformedRmwError('read-modify-write "msetnx" has no values');
      return { op: 'msetnx', values: values as Uint8Array[] };
    }
    default:
      throw new MalformedRmwError(`unknown read-modify-write operation ${JSON.stringify(w['op'])}`);
  }
}

function decodeExpiry(wire: unknown): RmwExpiry {
  const w = wire as Record<string, unknown> | null;
  if (w && w['kind'] === 'keep') return { kind: 'keep' };
  if (w && w['kind'] === 'none') return { kind: 'none' };
  if (w && w['kind'] === 'at' && typeof w['atMs'] === 'number') return { kind: 'at', atMs: w['atMs'] };
  throw new MalformedRmwError('read-modify-write expiry is malformed');
}

export function encodeRmwResult(result: RmwResult): WireRmwResult {
  switch (result.kind) {
    case 'ok':
      return ['o'];
    case 'integer':
      return ['i', result.value.toString()];
    case 'bulk':
      return ['b', result.value];
    case 'error':
      return ['e', result.code];
  }
}

export function decodeRmwResult(wire: unknown): RmwResult {
  if (!Array.isArray(wire)) throw new MalformedRmwError('read-modify-write result is not a list');
  const [kind, value] = wire as [unknown, unknown];
  if (kind === 'o') return { kind: 'ok' };
  if (kind === 'i' && typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return { kind: 'integer', value: BigInt(value) };
  if (kind === 'b' && (value === null || value instanceof Uint8Array)) return { kind: 'bulk', value };
  if (kind === 'e' && ERROR_CODES.includes(value as RmwErrorCode)) return { kind: 'error', code: value as RmwErrorCode };
  throw new MalformedRmwError(`read-modify-write result ${JSON.stringify(kind)} is malformed`);
}
