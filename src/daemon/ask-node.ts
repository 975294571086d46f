/**
 * One operator request (`status`, `hotkeys`) to one node's client port over a connection of its own,
 * answered by that node about itself: what `shoal status`, `shoal hotkeys` and `/hotkeys` ask each
 * member. Not the SDK: these requests are about one node, so they must not go through key routing.
 */
import { createRequire } from 'node:module';
import type WsWebSocket from 'ws';
import { CLIENT_ENDPOINT_PATH, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, decodeServerFrame, encodeClientFrame, type AdminRequest, type Credentials, type ErrorCode, type ReplyResult } from '../protocol/index.ts';

const WebSocket = createRequire(import.meta.url)('ws') as typeof WsWebSocket;

/** An admin request without its id: the connection carries only this one (id 1). */
export type OneAdminRequest = AdminRequest extends infer R ? (R extends AdminRequest ? Omit<R, 'id'> : never) : never;

export interface AskNodeOptions {
  timeoutMs: number;
  /** TLS options for `ws` (wss), or null for plain ws. */
  tls: object | null;
  credentials: Credentials | null;
  /** The name the hello gives (shows in the node's connection log). */
  client: string;
  /** The error for no answer: the connection failed, closed or timed out (`cause` says which). */
  unreachable?: (cause: Error) => Error;
  /** The error for a login the node refused. */
  loginRefused?: (reason: string) => Error;
}

/** The node answered the request with an error: `code` says which (`forbidden`: the user may not). */
export class NodeRefusedError extends Error {
  override readonly name = 'NodeRefusedError';
  constructor(
    readonly address: string,
    readonly op: string,
    readonly code: ErrorCode,
    readonly reason: string,
  ) {
    super(`${address} refused ${op}: ${reason} (${code})`);
  }
}

/** Sends `request` to `address` and resolves with its result, which must be of kind `kind`. */
export function askNode<K extends ReplyResult['kind']>(address: string, request: OneAdminRequest, kind: K, options: AskNodeOptions): Promise<Extract<ReplyResult, { kind: K }>> {
  const unreachable = options.unreachable ?? ((cause: Error) => new Error(`${address}: ${cause.message}`));
  const loginRefused = options.loginRefused ?? ((reason: string) => new Error(`${address} refused the login: ${reason}`));
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${options.tls === null ? 'ws' : 'wss'}://${address}${CLIENT_ENDPOINT_PATH}`, { handshakeTimeout: options.timeoutMs, perMessageDeflate: false, ...(options.tls ?? {}) });
    let settled = false;
    const finish = (error: Error | null, result?: Extract<ReplyResult, { kind: K }>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      if (error) reject(error);
      else resolve(result!);
    };
    const timer = setTimeout(() => finish(unreachable(new Error(`no answer within ${options.timeoutMs} ms`))), options.timeoutMs);
    socket.on('open', () => {
      socket.send(encodeClientFrame({ type: 'hello', minVersion: MIN_PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, client: options.client, credentials: options.credentials }));
    });
    socket.on('message', (data: Buffer) => {
      let frame;
      try {
        frame = decodeServerFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (error) {
        return finish(error as Error);
      }
      if (frame.type === 'welcome') {
        socket.send(encodeClientFrame({ type: 'requests', requests: [{ ...request, id: 1 } as AdminRequest] }));
      } else if (frame.type === 'replies') {
        const reply = frame.replies.find((r) => r.id === 1);
        if (reply === undefined) return;
        if (!reply.ok) return finish(new NodeRefusedError(address, request.op, reply.error.code, reply.error.message));
        if (reply.result.kind !== kind) return finish(new Error(`${address} answered ${request.op} with a ${reply.result.kind} reply`));
        finish(null, reply.result as Extract<ReplyResult, { kind: K }>);
      } else if (frame.type === 'error') {
        finish(frame.code === 'unauthenticated' ? loginRefused(frame.message) : new Error(`${address} closed the connection: ${frame.message} (${frame.code})`));
      }
    });
    socket.on('error', (error) => finish(unreachable(error)));
    socket.on('close', () => finish(unreachable(new Error('connection closed before a reply'))));
  });
}
