/**
 * A bounded memory of logins that passed scrypt, so that a client logging in again with the same
 * password (redis-benchmark's 50 connections, a pool reconnecting) costs one HMAC instead of one
 * scrypt (~50 ms of CPU each; a login storm of a few hundred connections would hold a 2-core node
 * for seconds).
 *
 * Each entry is keyed by the user and the stored hash record the password matched, and holds
 * HMAC-SHA256 under a random per-process secret of (user, password, record): never the password.
 * A login is accepted from memory only when its own HMAC equals the remembered one
 * (timingSafeEqual); anything else goes to scrypt as before. Logins that arrive together (a client
 * opening its pool: all of them before the first scrypt ends) with the same HMAC wait for the one
 * scrypt already running instead of each starting their own. Because the record is part of the
 * key, a changed or removed password can never be accepted from memory; `forget(user)` also drops a
 * user's entries as soon as their record changes, so digests of passwords no longer in use do not
 * stay. What it trades (docs/SECURITY.md): for the process's lifetime, memory holds keyed digests of
 * recently used passwords; without the secret, which never leaves the process, they are useless to
 * whoever reads them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Entries kept at most: one per (user, password record) in use; the least recently used goes first. */
export const VERIFIED_LOGINS_MAX = 1024;

export class VerifiedLogins {
  /** `user \0 record` -> HMAC of the login; Map order is the use order (oldest first). */
  private readonly entries = new Map<string, Buffer>();
  /** `user \0 record` -> the scrypt running for a login (its HMAC, its outcome). */
  private readonly running = new Map<string, { digest: Buffer; outcome: Promise<boolean> }>();

  constructor(
    private readonly max = VERIFIED_LOGINS_MAX,
    private readonly secret: Buffer = randomBytes(32),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether `password` of `user` was verified against `record` before (and the record is unchanged since). */
  has(user: string, password: Uint8Array | string, record: string): boolean {
    const slot = slotOf(user, record);
    const known = this.entries.get(slot);
    if (known === undefined || !timingSafeEqual(known, this.digest(user, password, record))) return false;
    this.entries.delete(slot);
    this.entries.set(slot, known);
    return true;
  }

  /**
   * Whether `password` of `user` matches `record`: from memory, or by joining the same login's
   * running check, or else by `slow` (scrypt), whose success is remembered unless the user changed
   * (`forget`) while it ran.
   */
  async verify(user: string, password: Uint8Array | string, record: string, slow: () => Promise<boolean>): Promise<boolean> {
    if (this.has(user, password, record)) return true;
    const slot = slotOf(user, record);
    const digest = this.digest(user, password, record);
    const running = this.running.get(slot);
    if (running !== undefined && timingSafeEqual(running.digest, digest)) return running.outcome;
    const check = { digest, outcome: slow() };
    this.running.set(slot, check);
    const ok = await check.outcome;
    if (this.running.get(slot) === check) {
      this.running.delete(slot);
      if (ok) this.remember(slot, digest);
    }
    return ok;
  }

  /** Drops every entry of `user` (their record changed, or they were deleted), running checks included. */
  forget(user: string): void {
    const prefix = `${user}\0`;
    for (const slot of this.entries.keys()) if (slot.startsWith(prefix)) this.entries.delete(slot);
    for (const slot of this.running.keys()) if (slot.startsWith(prefix)) this.running.delete(slot);
  }

  private remember(slot: string, digest: Buffer): void {
    this.entries.delete(slot);
    this.entries.set(slot, digest);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  private digest(user: string, password: Uint8Array | string, record: string): Buffer {
    // Lengths first, so that no two (user, password, record) triples feed the same bytes.
    const u = Buffer.from(user, 'utf8');
    const p = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
    const r = Buffer.from(record, 'utf8');
    const lengths = Buffer.alloc(12);
    lengths.writeUInt32BE(u.length, 0);
    lengths.writeUInt32BE(p.length, 4);
    lengths.writeUInt32BE(r.length, 8);
    return createHmac('sha256', this.secret).update(lengths).update(u).update(p).update(r).digest();
  }
}

/** The record (hex digits and `$`) holds no NUL, so the last NUL splits a slot back into its parts. */
function slotOf(user: string, record: string): string {
  return `${user}\0${record}`;
}
