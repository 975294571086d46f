/**
 * Authenticated, encrypted node-to-node traffic: a `Transport` that wraps a node's whole transport
 * (gossip and replication alike) and seals every datagram with AES-256-GCM under the keyring's
 * primary key. It implements the Transport of src/runtime/env.ts, so the same node code runs over
 * it for real and in the simulator.
 *
 * A sealed datagram:
 *
 *   byte 0      0xE5 (sealed, version 1)
 *   byte 1      kind: 0 a node datagram, 1 a keyring admin request, 2 a keyring admin reply,
 *               3 a notice (empty: "I cannot open what you send", see below)
 *   bytes 2-9   key id of the sealing key (the first 8 bytes of its SHA-256)
 *   bytes 10-21 boot id: 12 random bytes drawn once per process (per transport)
 *   bytes 22-29 counter: per sender, +1 per datagram (u64 BE)
 *   ciphertext, then the 16-byte GCM tag
 *
 * The nonce is the boot id XOR the counter (as TLS 1.3 derives its record nonces), so it never
 * repeats under one key: the counter never repeats within a boot, and boot ids are random.
 * Authenticated data: the header, the cluster name and the sender's address. So a datagram sealed
 * by another cluster, claiming another sender, or changed in any bit fails to open.
 *
 * Replay: the receiver keeps, per sender, the boot id it last accepted and a sliding window of the
 * counters seen under it (as IPsec and WireGuard do): a counter seen before, or older than the
 * window, is rejected. A new boot id (the sender restarted) replaces the old one, which is then
 * remembered as retired and never accepted again.
 *
 * Rejections are counted by reason and logged at most once per sender and reason per
 * LOG_INTERVAL_MS. A datagram under a key this node lacks is answered, as often, with an empty
 * notice sealed under this node's primary: the sender (a member that missed a rotation, or was
 * given the wrong key) then hears a key id it lacks too, and can say so in its status, although
 * nobody sends it anything else. Cost: one cipher per datagram; the ciphertext parts go to the inner transport
 * as a gather list, which copies them once.
 */
import { createCipheriv, createDecipheriv, randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { Datagram, Lane, Logger, NodeAddress, ReceiveHandler, Transport } from '../runtime/env.ts';
import type { Keyring } from './keyring.ts';

const SEALED_MAGIC = 0xe5;
export const KIND = { node: 0, adminRequest: 1, adminReply: 2, notice: 3 } as const;
const KEY_ID_BYTES = 8;
const BOOT_BYTES = 12;
const COUNTER_BYTES = 8;
export const SEALED_HEADER_BYTES = 2 + KEY_ID_BYTES + BOOT_BYTES + COUNTER_BYTES;

/**
 * The public part of a sealed datagram's header, its kind and the id (hex) of the key it is
 * sealed under, or null when `bytes` is not a sealed datagram. Not secret: `shoal keyring` reads
 * it to tell an answer sealed under a key its file lacks from no answer.
 */
export function sealedHeader(bytes: Uint8Array): { kind: number; keyId: string } | null {
  if (bytes.length < SEALED_HEADER_BYTES || bytes[0] !== SEALED_MAGIC) return null;
  return { kind: bytes[1]!, keyId: Buffer.from(bytes.buffer, bytes.byteOffset + 2, KEY_ID_BYTES).toString('hex') };
}
const TAG_BYTES = 16;
/** Bytes a sealed datagram adds to its payload (46). */
export const SEALED_OVERHEAD_BYTES = SEALED_HEADER_BYTES + TAG_BYTES;
/** Counters accepted out of order behind the newest seen from a sender. */
export const REPLAY_WINDOW = 1024;
/** Retired boot ids remembered per sender. */
const RETIRED_BOOTS = 8;
/** Senders whose replay state is kept; past it, the oldest is forgotten. */
const MAX_SENDERS = 4096;
/**
 * How long a sender under a key this node lacks stays listed after its last such message (10 min):
 * a member that missed a rotation keeps gossiping and stays listed, one that was stopped or
 * fixed leaves the list (shoal status's "refused") by itself.
 */
export const UNKNOWN_KEY_SENDER_TTL_MS = 10 * 60_000;
/** At most one log line per sender and reason per this long (10 s). */
export const LOG_INTERVAL_MS = 10_000;
/** And at most this many rejection lines (and notices) in all per LOG_INTERVAL_MS, however many senders. */
export const MAX_LOG_LINES_PER_INTERVAL = 50;

export type RejectReason = 'not-sealed' | 'unknown-key' | 'unauthentic' | 'replay' | 'retired-boot';

const REASON_TEXT: Record<RejectReason, string> = {
  'not-sealed': 'not sealed: the sender runs without gossip encryption (no --gossip-key-file), or is not a Shoal node',
  'unknown-key': 'sealed under a key this node does not have: its keyring and the sender\'s differ (a rotation this node or the sender missed?)',
  unauthentic: 'fails authentication: sealed for another --cluster name, claiming another sender, or damaged',
  replay: 'a replay: its counter was seen before or is too old',
  'retired-boot': 'a replay from an earlier run of the sender',
};

/** Someone sending under a key this node lacks: what `shoal status` shows. */
export interface UnknownKeySender {
  readonly address: NodeAddress;
  readonly keyId: string;
  readonly count: number;
}

/** A node sending its gossip unsealed (it runs without a gossip key): what `shoal status` shows. */
export interface PlainSender {
  readonly address: NodeAddress;
  readonly count: number;
}

export interface SealingStats {
  readonly sealed: number;
  readonly opened: number;
  readonly rejected: Readonly<Record<RejectReason, number>>;
  readonly primaryKeyId: string;
  readonly unknownKeySenders: readonly UnknownKeySender[];
  /** Nodes heard sending plain gossip within UNKNOWN_KEY_SENDER_TTL_MS (see SealingOptions.plainNodeTraffic). */
  readonly plainSenders: readonly PlainSender[];
}

export interface SealingOptions {
  /** The cluster name (--cluster): bound into every datagram. */
  readonly cluster: string;
  /** This node's address on the node-to-node network, as the inner transport's receivers see it. */
  readonly address: NodeAddress;
  readonly keyring: Keyring;
  readonly log: Logger;
  /** Monotonic ms, for rate-limited logging. */
  readonly nowMs: () => number;
  /** Random bytes for the boot id: node:crypto's by default; the simulator passes its seeded stream. */
  readonly randomBytes?: (n: number) => Uint8Array;
  /**
   * Whether unsealed bytes are a Shoal node's own traffic (its gossip, by the message family byte
   * the node's mux puts first): such a sender is a node started without a gossip key. It is listed
   * (stats().plainSenders, shown as refused) and answered, as rarely as rejections are logged,
   * with an empty notice sealed under this node's primary, so it can say why nobody answers it
   * (plainNodeHint). Anything else unsealed (junk, a scanner) is only counted. Absent: nothing is.
   */
  readonly plainNodeTraffic?: (bytes: Uint8Array) => boolean;
}

/** Per sender: the boot accepted and the counters seen under it. */
class ReplayWindow {
  top = -1;
  readonly bits = new Uint32Array(REPLAY_WINDOW / 32);
  readonly retired: string[] = [];
  constructor(public boot: string) {}

  private test(c: number): boolean {
    const i = c % REPLAY_WINDOW;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
  private set(c: number, on: boolean): void {
    const i = c % REPLAY_WINDOW;
    if (on) this.bits[i >>> 5]! |= 1 << (i & 31);
    else this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }

  /** Whether `counter` may be accepted (not seen, not too old). Does not record it. */
  fresh(counter: number): boolean {
    if (counter > this.top) return true;
    if (this.top - counter >= REPLAY_WINDOW) return false;
    return !this.test(counter);
  }

  /** Records an accepted counter. */
  accept(counter: number): void {
    if (counter > this.top) {
      if (counter - this.top >= REPLAY_WINDOW) this.bits.fill(0);
      else for (let c = this.top + 1; c < counter; c++) this.set(c, false);
      this.top = counter;
    }
    this.set(counter, true);
  }
}

function counterBytes(target: Uint8Array, offset: number, counter: number): void {
  const view = new DataView(target.buffer, target.byteOffset + offset, 8);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
}

export class SealingTransport implements Transport {
  private readonly boot: Uint8Array;
  private readonly bootHex: string;
  private counter = 0;
  private readonly sendContext: Buffer;
  private handler: ReceiveHandler = () => {};
  private adminHandler: ((from: NodeAddress, kind: number, bytes: Uint8Array) => void) | null = null;
  private readonly windows = new Map<NodeAddress, ReplayWindow>();
  private readonly lastLog = new Map<string, number>();
  private budgetStart = -Infinity;
  private budgetUsed = 0;
  private readonly unknownKeys = new Map<NodeAddress, { keyId: string; count: number; lastMs: number }>();
  private readonly plainNodes = new Map<NodeAddress, { count: number; lastMs: number }>();
  private sealedCount = 0;
  private openedCount = 0;
  private readonly rejected: Record<RejectReason, number> = { 'not-sealed': 0, 'unknown-key': 0, unauthentic: 0, replay: 0, 'retired-boot': 0 };

  constructor(
    private readonly inner: Transport,
    private readonly options: SealingOptions,
  ) {
    this.boot = new Uint8Array((options.randomBytes ?? cryptoRandomBytes)(BOOT_BYTES));
    this.bootHex = Buffer.from(this.boot).toString('hex');
    this.sendContext = context(options.cluster, options.address);
    inner.onReceive((from, bytes) => this.receive(from, bytes));
  }

  get keyring(): Keyring {
    return this.options.keyring;
  }

  send(to: NodeAddress, datagram: Datagram, lane?: Lane): void {
    this.inner.send(to, this.seal(KIND.node, datagram), lane);
  }

  /** Sends a keyring admin message (kind 1 or 2), sealed like every other datagram. */
  sendAdmin(to: NodeAddress, kind: number, bytes: Uint8Array): void {
    this.inner.send(to, this.seal(kind, bytes), 'control');
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** The handler of keyring admin messages (keyring-admin.ts); without one they are dropped. */
  onAdmin(handler: (from: NodeAddress, kind: number, bytes: Uint8Array) => void): void {
    this.adminHandler = handler;
  }

  /** Seals one datagram under the primary key: the header, the ciphertext parts and the tag. */
  seal(kind: number, datagram: Datagram): Uint8Array[] {
    const key = this.options.keyring.primary;
    const header = Buffer.allocUnsafe(SEALED_HEADER_BYTES);
    header[0] = SEALED_MAGIC;
    header[1] = kind;
    header.set(this.options.keyring.primaryIdBytes, 2);
    header.set(this.boot, 2 + KEY_ID_BYTES);
    const counter = this.counter++;
    counterBytes(header, 2 + KEY_ID_BYTES + BOOT_BYTES, counter);
    const cipher = createCipheriv('aes-256-gcm', key, nonceOf(this.boot, header));
    cipher.setAAD(Buffer.concat([header, this.sendContext]));
    const parts: Uint8Array[] = [header];
    const push = (b: Buffer) => {
      if (b.length > 0) parts.push(b);
    };
    if (datagram instanceof Uint8Array) push(cipher.update(datagram));
    else for (const part of datagram) push(cipher.update(part));
    push(cipher.final());
    parts.push(cipher.getAuthTag());
    this.sealedCount++;
    return parts;
  }

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    if (bytes.length < SEALED_OVERHEAD_BYTES || bytes[0] !== SEALED_MAGIC) {
      const plainNode = this.options.plainNodeTraffic?.(bytes) === true;
      if (plainNode) {
        const seen = this.plainNodes.get(from);
        if (seen === undefined && this.plainNodes.size >= MAX_SENDERS) this.plainNodes.clear();
        this.plainNodes.set(from, { count: (seen?.count ?? 0) + 1, lastMs: this.options.nowMs() });
      }
      return this.reject(from, 'not-sealed', {}, plainNode);
    }
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const header = data.subarray(0, SEALED_HEADER_BYTES);
    const kind = header[1]!;
    const keyId = header.subarray(2, 2 + KEY_ID_BYTES);
    const key = this.options.keyring.keyById(keyId);
    if (key === undefined) {
      const hex = keyId.toString('hex');
      // Only a node's own traffic (gossip, or the notice a member answers it with) makes its sender
      // a member under a key this node lacks: an admin request comes from `shoal keyring`'s
      // throwaway listener, which would otherwise be listed as a refused member.
      if (kind === KIND.node || kind === KIND.notice) {
        const seen = this.unknownKeys.get(from);
        if (seen === undefined && this.unknownKeys.size >= MAX_SENDERS) this.unknownKeys.clear();
        this.unknownKeys.set(from, { keyId: hex, count: (seen?.keyId === hex ? seen.count : 0) + 1, lastMs: this.options.nowMs() });
      }
      return this.reject(from, 'unknown-key', { keyId: hex }, kind !== KIND.notice);
    }
    const boot = header.subarray(2 + KEY_ID_BYTES, 2 + KEY_ID_BYTES + BOOT_BYTES).toString('hex');
    const counter = header.readUInt32BE(2 + KEY_ID_BYTES + BOOT_BYTES) * 2 ** 32 + header.readUInt32BE(2 + KEY_ID_BYTES + BOOT_BYTES + 4);
    const window = this.windows.get(from);
    if (window !== undefined) {
      if (window.retired.includes(boot)) return this.reject(from, 'retired-boot');
      if (window.boot === boot && !window.fresh(counter)) return this.reject(from, 'replay');
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(header.subarray(2 + KEY_ID_BYTES, 2 + KEY_ID_BYTES + BOOT_BYTES), header));
      decipher.setAAD(Buffer.concat([header, context(this.options.cluster, from)]));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const body = decipher.update(data.subarray(SEALED_HEADER_BYTES, data.length - TAG_BYTES));
      decipher.final();
      plain = body;
    } catch {
      return this.reject(from, 'unauthentic');
    }
    // Authentic: only now may it change the sender's replay state.
    if (window === undefined) {
      if (this.windows.size >= MAX_SENDERS) this.windows.delete(this.windows.keys().next().value!);
      const fresh = new ReplayWindow(boot);
      fresh.accept(counter);
      this.windows.set(from, fresh);
    } else if (window.boot !== boot) {
      window.retired.push(window.boot);
      if (window.retired.length > RETIRED_BOOTS) window.retired.shift();
      window.boot = boot;
      window.top = -1;
      window.bits.fill(0);
      window.accept(counter);
    } else {
      window.accept(counter);
    }
    if (this.unknownKeys.has(from)) this.unknownKeys.delete(from);
    if (this.plainNodes.has(from)) this.plainNodes.delete(from);
    this.openedCount++;
    const plainBytes = new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
    if (kind === KIND.node) this.handler(from, plainBytes);
    else if (kind !== KIND.notice) this.adminHandler?.(from, kind, plainBytes);
  }

  private reject(from: NodeAddress, reason: RejectReason, extra: Record<string, unknown> = {}, notify = false): void {
    this.rejected[reason]++;
    const tag = `${reason} ${from}`;
    const now = this.options.nowMs();
    const last = this.lastLog.get(tag);
    if (last !== undefined && now - last < LOG_INTERVAL_MS) return;
    if (now - this.budgetStart >= LOG_INTERVAL_MS) {
      this.budgetStart = now;
      this.budgetUsed = 0;
    }
    if (this.budgetUsed >= MAX_LOG_LINES_PER_INTERVAL) return;
    this.budgetUsed++;
    if (this.lastLog.size >= MAX_SENDERS) this.lastLog.clear();
    this.lastLog.set(tag, now);
    if (notify) this.inner.send(from, this.seal(KIND.notice, new Uint8Array(0)), 'control');
    this.options.log.warn({ peer: from, reason, rejected: this.rejected[reason], ...extra }, `rejected a node-to-node message from ${from}: ${REASON_TEXT[reason]}`);
  }

  stats(): SealingStats {
    return {
      sealed: this.sealedCount,
      opened: this.openedCount,
      rejected: { ...this.rejected },
      primaryKeyId: this.options.keyring.primaryId,
      unknownKeySenders: this.recentUnknownKeySenders(),
      plainSenders: this.recentPlainSenders(),
    };
  }

  /** The nodes heard sending plain gossip within UNKNOWN_KEY_SENDER_TTL_MS; older ones are forgotten. */
  private recentPlainSenders(): PlainSender[] {
    const since = this.options.nowMs() - UNKNOWN_KEY_SENDER_TTL_MS;
    const out: PlainSender[] = [];
    for (const [address, s] of this.plainNodes) {
      if (s.lastMs < since) this.plainNodes.delete(address);
      else out.push({ address, count: s.count });
    }
    return out;
  }

  /** The senders under keys this node lacks heard within UNKNOWN_KEY_SENDER_TTL_MS; older ones are forgotten. */
  private recentUnknownKeySenders(): UnknownKeySender[] {
    const since = this.options.nowMs() - UNKNOWN_KEY_SENDER_TTL_MS;
    const out: UnknownKeySender[] = [];
    for (const [address, s] of this.unknownKeys) {
      if (s.lastMs < since) this.unknownKeys.delete(address);
      else out.push({ address, keyId: s.keyId, count: s.count });
    }
    return out;
  }

  /** This transport's boot id (hex), for tests and logs. */
  get bootId(): string {
    return this.bootHex;
  }
}

function context(cluster: string, address: NodeAddress): Buffer {
  return Buffer.from(`\0${cluster}\0${address}`, 'utf8');
}

/** The GCM nonce: the boot id with the counter (header bytes 22-29) XORed into its last 8 bytes. */
function nonceOf(boot: Uint8Array, header: Uint8Array): Buffer {
  const nonce = Buffer.from(boot);
  const at = 2 + KEY_ID_BYTES + BOOT_BYTES;
  for (let i = 0; i < COUNTER_BYTES; i++) nonce[BOOT_BYTES - COUNTER_BYTES + i]! ^= header[at + i]!;
  return nonce;
}

/**
 * The other side, on a node without a gossip key: sealed datagrams are from keyed members (the
 * notices they answer its plain gossip with), which it cannot open and which no part of it
 * understands. This Transport passes everything else on and keeps, for UNKNOWN_KEY_SENDER_TTL_MS,
 * who sent sealed bytes and under which key id, so the node can say why nobody answers it
 * (hint()) instead of only "no answer from seeds".
 */
export class PlainTransport implements Transport {
  private handler: ReceiveHandler = () => {};
  private readonly sealedFrom = new Map<NodeAddress, { keyId: string; lastMs: number }>();

  constructor(
    private readonly inner: Transport,
    private readonly nowMs: () => number,
  ) {
    inner.onReceive((from, bytes) => {
      const header = sealedHeader(bytes);
      if (header === null) return this.handler(from, bytes);
      if (!this.sealedFrom.has(from) && this.sealedFrom.size >= MAX_SENDERS) this.sealedFrom.clear();
      this.sealedFrom.set(from, { keyId: header.keyId, lastMs: this.nowMs() });
    });
  }

  send(to: NodeAddress, datagram: Datagram, lane?: Lane): void {
    this.inner.send(to, datagram, lane);
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** Why peers do not answer, in words, while some sent sealed bytes recently; else null. */
  hint(): string | null {
    const since = this.nowMs() - UNKNOWN_KEY_SENDER_TTL_MS;
    const senders: string[] = [];
    const keys = new Set<string>();
    for (const [address, s] of this.sealedFrom) {
      if (s.lastMs < since) this.sealedFrom.delete(address);
      else {
        senders.push(address);
        keys.add(s.keyId);
      }
    }
    if (senders.length === 0) return null;
    return (
      `peers (${senders.join(', ')}) encrypt node-to-node traffic (key id ${[...keys].join(', ')}) and reject this node's, which is not encrypted: ` +
      'start it with --gossip-key-file holding the cluster\'s gossip key (docs/SECURITY.md, "Gossip and replication encryption")'
    );
  }
}
