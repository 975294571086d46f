/**
 * Password hashes for ACL users. A password given in clear (`>pass`) is stored as a salted scrypt
 * hash; a Redis-style `#<sha256 hex>` (an ACL file brought from Redis) is kept as that digest.
 * Comparisons use timingSafeEqual. Clear passwords are never kept, logged or echoed.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/** scrypt's cost: 2^14 (the common interactive setting), 16-byte salt, 32-byte key. */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_BYTES = 32;

/** The stored text of one password: `scrypt$<salt hex>$<hash hex>` or a 64-hex SHA-256 digest. */
export type PasswordHash = string;

export function hashPassword(password: Uint8Array | string): PasswordHash {
  const salt = randomBytes(16);
  return formatHash(salt, scryptSync(toBuffer(password), salt, KEY_BYTES, SCRYPT));
}

/** As hashPassword, with scrypt on the thread pool: what a server answering other clients uses. */
export function hashPasswordAsync(password: Uint8Array | string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) => {
    scrypt(toBuffer(password), salt, KEY_BYTES, SCRYPT, (error, key) => (error === null ? resolve(formatHash(salt, key)) : reject(error)));
  });
}

function formatHash(salt: Buffer, key: Buffer): PasswordHash {
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** Whether `text` is a hash rule's argument Shoal accepts (`#...`): Redis's 64 lower-case hex, or ours. */
export function isPasswordHash(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text) || /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/.test(text);
}

/** Whether `hash` is a salted scrypt hash (worth remembering a login against; a SHA-256 costs less than that). */
export function isSlowHash(hash: PasswordHash): boolean {
  return hash.startsWith('scrypt$');
}

/** Whether `password` matches `hash`, in constant time for the comparison. */
export function verifyPasswordSync(password: Uint8Array | string, hash: PasswordHash): boolean {
  const parsed = parse(hash);
  if (parsed === null) return false;
  if (parsed.kind === 'sha256') return timingSafeEqual(createHash('sha256').update(toBuffer(password)).digest(), parsed.digest);
  return timingSafeEqual(scryptSync(toBuffer(password), parsed.salt, KEY_BYTES, SCRYPT), parsed.digest);
}

/** As verifyPasswordSync without blocking the event loop during scrypt. */
export function verifyPassword(password: Uint8Array | string, hash: PasswordHash): Promise<boolean> {
  const parsed = parse(hash);
  if (parsed === null) return Promise.resolve(false);
  if (parsed.kind === 'sha256') return Promise.resolve(verifyPasswordSync(password, hash));
  return new Promise((resolve) => {
    scrypt(toBuffer(password), parsed.salt, KEY_BYTES, SCRYPT, (error, key) => {
      resolve(error === null && timingSafeEqual(key, parsed.digest));
    });
  });
}

function parse(hash: PasswordHash): { kind: 'sha256'; digest: Buffer } | { kind: 'scrypt'; salt: Buffer; digest: Buffer } | null {
  if (/^[0-9a-f]{64}$/.test(hash)) return { kind: 'sha256', digest: Buffer.from(hash, 'hex') };
  const m = /^scrypt\$([0-9a-f]{32})\$([0-9a-f]{64})$/.exec(hash);
  if (m === null) return null;
  return { kind: 'scrypt', salt: Buffer.from(m[1]!, 'hex'), digest: Buffer.from(m[2]!, 'hex') };
}

function toBuffer(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
