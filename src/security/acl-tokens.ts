/**
 * Bearer tokens for ACL users. A token is `shoal_` and 43 base64url characters (32 random bytes);
 * it is stored as one of the user's passwords in Redis's `#<sha256 hex>` form, so it is
 * replicated, persisted and removed like any password (`ACL SETUSER NAME #HASH` / `!HASH`), and
 * `AUTH NAME TOKEN` works as for a password. A fast hash is enough for 256 random bits: nobody can
 * guess a token from its hash, unlike a password chosen by a person (those get scrypt). The token
 * itself is made where it is asked for (`shoal acl token add`) and shown once; nodes only ever
 * see its hash, and a bearer token alone (no user name: the SDK's `token`, the admin port's
 * `Authorization: Bearer`) names its user by that hash.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'shoal_';
const TOKEN_PATTERN = /^shoal_[A-Za-z0-9_-]{43}$/;

/** Whether `text` has the shape of a token (a wrong token of the right shape is still refused). */
export function isToken(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

/** The stored form of a token: its SHA-256 as 64 lower-case hex digits (Redis's `#` hash). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new token and its hash. `random` is for tests; the default is the platform's CSPRNG. */
export function newToken(random: (bytes: number) => Uint8Array = randomBytes): { token: string; hash: string } {
  const token = TOKEN_PREFIX + Buffer.from(random(32)).toString('base64url');
  return { token, hash: tokenHash(token) };
}
