/**
 * AES-256-GCM for the disk tier's blocks (src/store/disk/sealer.ts), with the keys of every other
 * file at rest (sealed-file.ts): the primary key seals, every configured key opens. A key rotation
 * does not rewrite the disk (that would be the whole tier's size in writes at a start): blocks under
 * the old key age out as regions are reused, and until then they need the old key; recovery says
 * at start how many regions each key sealed (`keys`), docs/SECURITY.md says what to do.
 *
 * A sealed block: key id (8) | nonce (12, random) | ciphertext | tag (16). The nonce is random
 * rather than derived from the block's place, because a region's place and generation can repeat
 * after a crash lost the newest generation number; a random 96-bit nonce does not repeat in the
 * number of blocks one key seals in a disk's life.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { keyIdOf, type AtRestKeys } from './sealed-file.ts';

const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The store's BlockSealer (src/store/disk/sealer.ts), by shape: security does not import the store. */
export interface AesBlockSealer {
  readonly overhead: number;
  seal(aad: Uint8Array, plain: Uint8Array): Uint8Array;
  open(aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
  readonly keys: { readonly primary: string; readonly all: readonly string[]; sealedWith(sealed: Uint8Array): string | null };
}

export function aesBlockSealer(keys: AtRestKeys): AesBlockSealer {
  const primaryId = keyIdOf(keys.primary);
  const byId = new Map(keys.all.map((key) => [Buffer.from(keyIdOf(key)).toString('hex'), key]));
  return {
    overhead: KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES,
    keys: {
      primary: Buffer.from(primaryId).toString('hex'),
      all: [...byId.keys()],
      sealedWith: (sealed) => (sealed.length < KEY_ID_BYTES ? null : Buffer.from(sealed.subarray(0, KEY_ID_BYTES)).toString('hex')),
    },
    seal(aad, plain) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keys.primary, nonce);
      cipher.setAAD(aad);
      const body = cipher.update(plain);
      cipher.final();
      return Buffer.concat([primaryId, nonce, body, cipher.getAuthTag()]);
    },
    open(aad, sealed) {
      if (sealed.length < KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES) return null;
      const key = byId.get(Buffer.from(sealed.subarray(0, KEY_ID_BYTES)).toString('hex'));
      if (key === undefined) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(KEY_ID_BYTES, KEY_ID_BYTES + NONCE_BYTES));
        decipher.setAAD(aad);
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = decipher.update(sealed.subarray(KEY_ID_BYTES + NONCE_BYTES, sealed.length - TAG_BYTES));
        decipher.final();
        return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
      } catch {
        return null;
      }
    },
  };
}
