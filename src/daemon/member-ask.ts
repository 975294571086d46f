/**
 * Asking every member: how the admin port's cluster-wide views (`/hotkeys`, `/stats` and the
 * dashboard's cluster snapshot) read the other members. One question per live member, one answer
 * each, over the node-to-node channel (the `ask` message family of src/node/wire.ts); members that
 * do not answer within the timeout are listed as unreachable, with why.
 *
 * Why the node-to-node channel rather than each member's admin or client port: members already
 * trust each other there. It is the transport replication runs on, so it is sealed with the gossip
 * keyring (--gossip-key-file) and runs over the peer port's mutual TLS when the cluster has them,
 * and a question or answer that does not open is dropped like any other message. Asking a member's
 * admin or client port instead would need a credential the node does not hold once the cluster has
 * a password (the ACL keeps only password hashes; passing a watcher's password on spreads it to
 * every member) and the client port's TLS settings (a listener that requires client certificates
 * would refuse the node). Access control stays where the question comes in: the admin port checks
 * the watcher's credentials before anything is asked. Without keyring and peer TLS, the peer port
 * is open to whoever reaches it, which already exposes every value through replication; the
 * answers here add nothing to that.
 *
 * Messages are JSON (they are small and once a second at most): `{t:'q', id, kind, count}` and
 * `{t:'a', id, body}` or `{t:'a', id, error}`. The channel may lose or duplicate a message (see
 * Transport): a lost one is a timeout, a duplicate answer finds no question waiting and is dropped,
 * and an answer counts only from the address it was asked of.
 */
import type { NodeAddress, Transport } from '../runtime/env.ts';

/** What a member may be asked. */
export type AskKind = 'hotkeys' | 'stats' | 'dashboard';
const KINDS: readonly string[] = ['hotkeys', 'stats', 'dashboard'] satisfies AskKind[];

/** How long a member may take to answer; the dashboard samples once a second, so well under that. */
export const MEMBER_ASK_TIMEOUT_MS = 800;

export interface AskedMember {
  name: string;
  /** Its node-to-node address. */
  address: NodeAddress;
}

export interface MemberAnswers<T> {
  answers: { name: string; body: T }[];
  unreachable: { name: string; address: NodeAddress; error: string }[];
}

export interface MemberAskOptions {
  /** This node's `ask` channel (MessageFamily.ask). */
  channel: Transport;
  /** The members to ask: the live ones (alive or suspect), this node left out. */
  members(): readonly AskedMember[];
  /** This node's answer to a question from another member; throwing answers with the error's message. */
  answer(kind: AskKind, count: number): unknown;
  timeoutMs?: number;
}

type Message = { t: 'q'; id: number; kind: AskKind; count: number } | { t: 'a'; id: number; body?: unknown; error?: string };

interface Waiting {
  address: NodeAddress;
  settle(error: Error | null, body?: unknown): void;
}

export class MemberAsk {
  /** Messages dropped as undecodable or of an unknown shape. */
  junk = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(private readonly options: MemberAskOptions) {
    options.channel.onReceive((from, bytes) => this.receive(from, bytes));
  }

  /** Asks every live member at once; resolves when each has answered or timed out. */
  async askAll<T>(kind: AskKind, count = 0): Promise<MemberAnswers<T>> {
    const members = this.options.members();
    const settled = await Promise.allSettled(members.map((m) => this.ask(m.address, kind, count)));
    const result: MemberAnswers<T> = { answers: [], unreachable: [] };
    settled.forEach((s, i) => {
      const { name, address } = members[i]!;
      if (s.status === 'fulfilled') result.answers.push({ name, body: s.value as T });
      else result.unreachable.push({ name, address, error: (s.reason as Error).message });
    });
    return result;
  }

  /** Fails every question still waiting (the daemon's stop). */
  close(): void {
    for (const w of [...this.waiting.values()]) w.settle(new Error('the node is stopping'));
  }

  private ask(address: NodeAddress, kind: AskKind, count: number): Promise<unknown> {
    const id = this.nextId++;
    const timeoutMs = this.options.timeoutMs ?? MEMBER_ASK_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const settle = (error: Error | null, body?: unknown): void => {
        if (!this.waiting.delete(id)) return;
        clearTimeout(timer);
        if (error !== null) reject(error);
        else resolve(body);
      };
      this.waiting.set(id, { address, settle });
      this.send(address, { t: 'q', id, kind, count });
    });
  }

  private send(to: NodeAddress, message: Message): void {
    this.options.channel.send(to, this.encoder.encode(JSON.stringify(message)), 'bulk');
  }

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    let message: Message;
    try {
      message = JSON.parse(this.decoder.decode(bytes)) as Message;
    } catch {
      this.junk++;
      return;
    }
    if (typeof message !== 'object' || message === null || !Number.isSafeInteger(message.id)) {
      this.junk++;
      return;
    }
    if (message.t === 'q' && KINDS.includes(message.kind) && Number.isSafeInteger(message.count)) {
      let reply: Message;
      try {
        reply = { t: 'a', id: message.id, body: this.options.answer(message.kind, message.count) };
      } catch (error) {
        reply = { t: 'a', id: message.id, error: (error as Error).message };
      }
      this.send(from, reply);
    } else if (message.t === 'a') {
      const w = this.waiting.get(message.id);
      if (w === undefined || w.address !== from) return; // late, duplicated, or not from whom it was asked of
      w.settle(typeof message.error === 'string' ? new Error(message.error) : null, message.body);
    } else {
      this.junk++;
    }
  }
}
