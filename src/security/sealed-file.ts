/**
 * Encryption at rest: every file Shoal writes (ACL state, the gossip keyring, later the disk tier
 * and snapshots) goes through here, sealed with AES-256-GCM block by block.
 *
 * A sealed file is a header and blocks:
 *
 *   header: "SHOALSL1" | key id (8 bytes) | block size (u32 BE) | plain length (u64 BE as two u32)
 *   block i: nonce (12, random) | ciphertext | tag (16)
 *
 * Each block's authenticated data binds it to its place: the file's purpose (what it is, e.g.
 * `acl`), the header, the block's index and whether it is the last. So a flipped bit, a block
 * moved, a block from another file or another purpose, a truncated file (its last block is gone or
 * cut) all fail authentication: the reader gets a SealedDataError, never a wrong value.
 *
 * Keys: `AtRestKeys.primary` seals; every key in `all` opens (found by key id), so a rotation is
 * "add the new key as primary, keep the old one, rewrite the files (`resealFile`, at every start),
 * drop the old key".
 * Without a configured key, files are sealed with UNKEYED (all zeros): integrity is checked, but
 * nothing is secret; say so to operators (docs/SECURITY.md).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

const MAGIC = Buffer.from('SHOALSL1', 'ascii');
const KEY_ID_BYTES = 8;
const HEADER_BYTES = MAGIC.length + KEY_ID_BYTES + 4 + 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Plain bytes per block: large enough that the 28 bytes of nonce and tag cost under 0.1%. */
export const DEFAULT_BLOCK_BYTES = 64 * 1024;
const KEY_BYTES = 32;

/** The keys a node seals and opens its files with. */
export interface AtRestKeys {
  /** Seals new files. */
  readonly primary: Uint8Array;
  /** Every key that may open a file (the primary among them). */
  readonly all: readonly Uint8Array[];
}

/** The key used when none is configured: files are checked for integrity, not kept secret. */
export const UNKEYED: AtRestKeys = (() => {
  const zero = new Uint8Array(KEY_BYTES);
  return { primary: zero, all: [zero] };
})();

/** Sealed data that cannot be opened: corrupt, truncated, for another purpose, or under a key this node lacks. */
export class SealedDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedDataError';
  }
}

/** A key's public name: the first 8 bytes of its SHA-256 (as hex in messages). Never reveals the key. */
export function keyIdOf(key: Uint8Array): Uint8Array {
  return createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
}

/**
 * Keys from text, as an operator writes them in a key file or an environment variable: one key per
 * line (or comma-separated), each 32 bytes as 64 hex digits or base64; the first is the primary.
 * `source` names where the text came from, for the error.
 */
export function parseAtRestKeys(text: string, source: string): AtRestKeys {
  const words = text
    .split(/[\n,]/)
    .map((w) => w.trim())
    .filter((w) => w !== '' && !w.startsWith('#'));
  if (words.length === 0) throw new Error(`${source} holds no key: expected 32 bytes as 64 hex digits or base64, one per line`);
  const keys = words.map((word, i) => {
    if (/^[0-9a-fA-F]{64}$/.test(word)) return new Uint8Array(Buffer.from(word, 'hex'));
    if (/^[A-Za-z0-9+/]{43}=?$/.test(word)) return new Uint8Array(Buffer.from(word, 'base64'));
    throw new Error(
      `${source}: key ${i + 1} is not 32 bytes as 64 hex digits or base64 (make one with: node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")`,
    );
  });
  return { primary: keys[0]!, all: keys };
}

function header(keyId: Uint8Array, blockBytes: number, plainLength: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  Buffer.from(keyId).copy(h, MAGIC.length);
  h.writeUInt32BE(blockBytes, MAGIC.length + KEY_ID_BYTES);
  h.writeUInt32BE(Math.floor(plainLength / 2 ** 32), MAGIC.length + KEY_ID_BYTES + 4);
  h.writeUInt32BE(plainLength % 2 ** 32, MAGIC.length + KEY_ID_BYTES + 8);
  return h;
}

function blockAad(purpose: string, head: Buffer, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail[4] = last ? 1 : 0;
  return Buffer.concat([Buffer.from(purpose, 'utf8'), Buffer.from([0]), head, tail]);
}

/** Seals `plain` for `purpose` under the primary key. */
export function sealBytes(plain: Uint8Array, purpose: string, keys: AtRestKeys, blockBytes = DEFAULT_BLOCK_BYTES): Uint8Array {
  const head = header(keyIdOf(keys.primary), blockBytes, plain.length);
  const count = Math.max(1, Math.ceil(plain.length / blockBytes));
  const parts: Buffer[] = [head];
  for (let i = 0; i < count; i++) {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', keys.primary, nonce);
    cipher.setAAD(blockAad(purpose, head, i, i === count - 1));
    const body = cipher.update(plain.subarray(i * blockBytes, (i + 1) * blockBytes));
    cipher.final();
    parts.push(nonce, body, cipher.getAuthTag());
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Opens what sealBytes sealed for the same purpose; throws SealedDataError when it cannot. */
export function openBytes(sealed: Uint8Array, purpose: string, keys: AtRestKeys): Uint8Array {
  const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  if (data.length < HEADER_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SealedDataError(`not a sealed ${purpose} file (no SHOALSL1 header): written by something else, or cut short`);
  }
  const head = data.subarray(0, HEADER_BYTES);
  const keyId = head.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES);
  const blockBytes = head.readUInt32BE(MAGIC.length + KEY_ID_BYTES);
  const plainLength = head.readUInt32BE(MAGIC.length + KEY_ID_BYTES + 4) * 2 ** 32 + head.readUInt32BE(MAGIC.length + KEY_ID_BYTES + 8);
  const key = keys.all.find((k) => keyId.equals(keyIdOf(k)));
  if (key === undefined) {
    throw new SealedDataError(`the ${purpose} file was sealed with key ${keyId.toString('hex')}, which is not among this node's at-rest keys (${keys.all.map((k) => Buffer.from(keyIdOf(k)).toString('hex')).join(', ')})`);
  }
  const count = Math.max(1, Math.ceil(plainLength / blockBytes));
  const expected = HEADER_BYTES + count * (NONCE_BYTES + TAG_BYTES) + plainLength;
  if (blockBytes === 0 || data.length !== expected) {
    throw new SealedDataError(`the ${purpose} file is ${data.length} bytes where its header promises ${expected}: truncated or damaged`);
  }
  const plain = Buffer.alloc(plainLength);
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const size = Math.min(blockBytes, plainLength - i * blockBytes);
    const nonce = data.subarray(at, at + NONCE_BYTES);
    const body = data.subarray(at + NONCE_BYTES, at + NONCE_BYTES + size);
    const tag = data.subarray(at + NONCE_BYTES + size, at + NONCE_BYTES + size + TAG_BYTES);
    at += NONCE_BYTES + size + TAG_BYTES;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(blockAad(purpose, head, i, i === count - 1));
      decipher.setAuthTag(tag);
      decipher.update(body).copy(plain, i * blockBytes);
      decipher.final();
    } catch {
      throw new SealedDataError(`block ${i} of the ${purpose} file fails authentication: damaged, moved, or from another file`);
    }
  }
  return new Uint8Array(plain);
}

/**
 * Writes `plain` sealed to `path`, atomically: a temporary file beside it, fsynced, renamed over
 * the old one, so a crash leaves the old file or the new one, never half of one.
 */
export function writeSealedFile(path: string, plain: Uint8Array, purpose: string, keys: AtRestKeys): void {
  const sealed = sealBytes(plain, purpose, keys);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, sealed);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  // The rename is durable only once the directory is: without this a crash could bring back the
  // old file, sealed under a key the operator has since removed (a re-seal at start, then a
  // restart without the old key).
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Reads and opens a sealed file; null when it does not exist. Throws SealedDataError when it cannot be opened. */
export function readSealedFile(path: string, purpose: string, keys: AtRestKeys): Uint8Array | null {
  let sealed: Buffer;
  try {
    sealed = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return openBytes(sealed, purpose, keys);
  } catch (error) {
    if (error instanceof SealedDataError) throw new SealedDataError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * Reads a sealed file as readSealedFile does and, when it was sealed under a key other than the
 * primary, writes it again under the primary (writeSealedFile: atomic and durable). This is what a
 * node does with its files at start, so the rotation the docs give (the new key first and the old
 * one after it, restart, then drop the old key) leaves nothing under the old key: a file only
 * rewritten when it changed would still need it. Null when the file does not exist; else its
 * plain bytes and, when it was rewritten, the id (hex) of the key it had been sealed with.
 */
export function resealFile(path: string, purpose: string, keys: AtRestKeys): { plain: Uint8Array; resealedFrom: string | null } | null {
  const plain = readSealedFile(path, purpose, keys);
  if (plain === null) return null;
  // readSealedFile opened it, so the header is there and names one of `keys.all`.
  const sealedWith = readFileSync(path).subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES);
  if (sealedWith.equals(keyIdOf(keys.primary))) return { plain, resealedFrom: null };
  writeSealedFile(path, plain, purpose, keys);
  return { plain, resealedFrom: sealedWith.toString('hex') };
}
