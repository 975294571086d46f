/**
 * The cluster keyring: the 32-byte keys node-to-node traffic is sealed with (sealing-transport.ts).
 *
 * Rules as in hashicorp/memberlist's keyring: one key is the primary (it seals everything sent),
 * every installed key opens (found by its key id, `keyIdOf`); `install` adds a key, `use` makes an
 * installed key the primary (a key that is not installed cannot be used), `remove` drops a key but
 * never the primary. A rotation is install (everywhere) -> use (everywhere) -> remove (everywhere):
 * at every step each member can open what each other member sends.
 *
 * Keys never reach a log or an error message: they are named by key id (hex).
 */
import { keyIdOf } from './sealed-file.ts';

export const GOSSIP_KEY_BYTES = 32;

/** A keyring operation that breaks the rules (removing the primary, using a key not installed). */
export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** A key's id as hex: how keys are named everywhere (logs, `shoal keyring list`). */
export function keyIdHex(key: Uint8Array): string {
  return Buffer.from(keyIdOf(key)).toString('hex');
}

/** One key from text: 64 hex digits or base64 of 32 bytes. `source` names where it came from, for the error. */
export function parseGossipKey(text: string, source: string): Uint8Array {
  const word = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(word)) return new Uint8Array(Buffer.from(word, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=?$/.test(word)) return new Uint8Array(Buffer.from(word, 'base64'));
  throw new KeyringError(
    `${source}: a gossip key is 32 bytes as 64 hex digits or base64 (make one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")`,
  );
}

/** Keys from a key file's text: one per line (or comma-separated), `#` comments; the first is the primary. */
export function parseGossipKeys(text: string, source: string): Uint8Array[] {
  const words = text
    .split(/[\n,]/)
    .map((w) => w.trim())
    .filter((w) => w !== '' && !w.startsWith('#'));
  if (words.length === 0) throw new KeyringError(`${source} holds no key: expected 32 bytes as 64 hex digits or base64, one per line`);
  return words.map((w, i) => parseGossipKey(w, `${source} (key ${i + 1})`));
}

export interface KeyringEntry {
  readonly id: string;
  readonly primary: boolean;
}

export class Keyring {
  private keys: Uint8Array[] = [];
  private ids: string[] = [];
  private primaryIndex = 0;
  private readonly listeners: (() => void)[] = [];

  /** A keyring of `keys`; the first is the primary. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new KeyringError('a keyring needs at least one key');
    for (const key of keys) this.add(key);
  }

  private add(key: Uint8Array): boolean {
    if (key.length !== GOSSIP_KEY_BYTES) throw new KeyringError(`a gossip key is ${GOSSIP_KEY_BYTES} bytes, not ${key.length}`);
    const id = keyIdHex(key);
    if (this.ids.includes(id)) return false;
    this.keys.push(new Uint8Array(key));
    this.ids.push(id);
    return true;
  }

  /** Called after every change (to persist the keyring). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** The key that seals. */
  get primary(): Uint8Array {
    return this.keys[this.primaryIndex]!;
  }

  get primaryId(): string {
    return this.ids[this.primaryIndex]!;
  }

  /** The primary's key id as the 8 bytes of a sealed header (cached: read for every datagram sent). */
  get primaryIdBytes(): Uint8Array {
    const id = this.primaryId;
    if (this.cachedIdHex !== id) {
      this.cachedIdHex = id;
      this.cachedIdBytes = new Uint8Array(Buffer.from(id, 'hex'));
    }
    return this.cachedIdBytes;
  }
  private cachedIdHex = '';
  private cachedIdBytes = new Uint8Array(0);

  /** The key with this id (8 bytes, as in a sealed header), or undefined. */
  keyById(id: Uint8Array): Uint8Array | undefined {
    const hex = Buffer.from(id.buffer, id.byteOffset, id.length).toString('hex');
    const i = this.ids.indexOf(hex);
    return i < 0 ? undefined : this.keys[i];
  }

  has(idHex: string): boolean {
    return this.ids.includes(idHex);
  }

  /** Adds a key (not as primary). Installing a key already there changes nothing. Returns its id. */
  install(key: Uint8Array): string {
    if (this.add(key)) this.changed();
    return keyIdHex(key);
  }

  /** Makes an installed key the primary: by key or by id (hex). */
  use(keyOrId: Uint8Array | string): string {
    const id = typeof keyOrId === 'string' ? keyOrId.toLowerCase() : keyIdHex(keyOrId);
    const i = this.ids.indexOf(id);
    if (i < 0) throw new KeyringError(`key ${id} is not installed: install it first (shoal keyring install)`);
    if (i !== this.primaryIndex) {
      this.primaryIndex = i;
      this.changed();
    }
    return id;
  }

  /** Removes a key (by key or id); the primary cannot be removed. Removing a key not installed changes nothing. */
  remove(keyOrId: Uint8Array | string): string {
    const id = typeof keyOrId === 'string' ? keyOrId.toLowerCase() : keyIdHex(keyOrId);
    const i = this.ids.indexOf(id);
    if (i < 0) return id;
    if (i === this.primaryIndex) throw new KeyringError(`key ${id} is the primary key and cannot be removed: use another key first (shoal keyring use)`);
    this.keys.splice(i, 1);
    this.ids.splice(i, 1);
    if (i < this.primaryIndex) this.primaryIndex--;
    this.changed();
    return id;
  }

  list(): KeyringEntry[] {
    return this.ids.map((id, i) => ({ id, primary: i === this.primaryIndex }));
  }

  /** The keyring as text for its sealed file: primary first, one base64 key per line. */
  serialize(): string {
    const order = [this.primaryIndex, ...this.keys.map((_, i) => i).filter((i) => i !== this.primaryIndex)];
    return order.map((i) => Buffer.from(this.keys[i]!).toString('base64')).join('\n') + '\n';
  }

  static deserialize(text: string, source: string): Keyring {
    return new Keyring(parseGossipKeys(text, source));
  }
}
