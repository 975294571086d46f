/**
 * The admin port's connections, counted under --admin-max-clients (default 256) and
 * --max-clients-per-address as the SDK and RESP ports count theirs under --max-clients (each
 * listener has its own count; ConnectionLimiter). Before, any number of idle connections was held,
 * from one address as from many; then up to --max-clients (10,000: some 90 MB of idle sockets for
 * a port that probes, Prometheus and a few browsers use).
 *
 * The gate sits in front of the HTTP server's own connection handling, so a refused connection
 * never reaches the HTTP parser: on plain HTTP it is answered a 503 with the limit's text at once,
 * before it sends anything (curl, Prometheus and browsers read it as the answer to their request),
 * and closed. On HTTPS a 503 would cost a TLS handshake for each refused connection, the work a
 * flood of them should not get; its ClientHello is answered a TLS alert instead, internal_error,
 * which says the server refused (curl: `tlsv1 alert internal error`; closed unanswered, it read as
 * a network failure: `SSL_ERROR_SYSCALL`, ECONNRESET) though not why. Either way it is logged
 * once a minute per address, with the limit.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../runtime/env.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';
import { ConnectionLimiter, remoteAddressKey, type ConnectionLimitsConfig } from '../security/limits.ts';

/**
 * How long a refused connection is kept at most after its answer, reading and dropping what it
 * sends: a socket closed with unread input is reset, and a reset can reach the client before it
 * has read the answer. Short, so a flood of refused dials cannot hold many.
 */
const REFUSED_CONNECTION_LINGER_MS = 1000;

/**
 * A fatal internal_error alert as a TLS server sends it before any handshake keys, in place of its
 * ServerHello: a plaintext record of type 21 (alert), version 3.3, length 2; level 2 (fatal),
 * description 80 (internal_error). No alert says "too many connections"; this one blames the server.
 */
const TLS_INTERNAL_ERROR_ALERT = Buffer.from([21, 3, 3, 0, 2, 2, 80]);

/**
 * Admits `server`'s connections under `limits` from now on (call before it listens). Returns what
 * closes the refused connections still lingering (the server's close() waits for every socket).
 */
export function gateConnections(server: Server, limits: ConnectionLimitsConfig, tls: boolean, log: Logger): () => void {
  const admission = new ConnectionLimiter(limits);
  const refusalLog = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  const lingering = new Set<Socket>();
  // The listeners Node installed (HTTP parsing, or the TLS handshake before it) run for admitted connections only.
  const serve = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = remoteAddressKey(socket.remoteAddress);
    const admitted = admission.admit(address);
    if (admitted.ok) {
      socket.once('close', admitted.release);
      for (const listener of serve) listener.call(server, socket);
      return;
    }
    // ConnectionLimiter's node-wide text is Redis's, which names no option.
    const message = admitted.reason === 'node' ? `${admitted.message} (${limits.maxConnections}, --admin-max-clients)` : admitted.message;
    const suppressed = refusalLog.pass(address, performance.now());
    if (suppressed !== null) log.warn({ remote: address, ...suppressedField(suppressed) }, `refused an admin connection from ${address}: ${message}`);
    socket.on('error', () => socket.destroy());
    answerRefusal(socket, tls ? TLS_INTERNAL_ERROR_ALERT : http503(message), tls, lingering);
  });
  return () => {
    for (const socket of lingering) socket.destroy();
  };
}

function http503(message: string): string {
  const body = `${message} on the admin port\n`;
  return `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * Sends a refused connection `answer`, at once or (`afterHello`: a TLS alert answers the
 * ClientHello) once it sends something, and closes it; it stays in `lingering` until closed, for
 * REFUSED_CONNECTION_LINGER_MS at most.
 */
function answerRefusal(socket: Socket, answer: string | Buffer, afterHello: boolean, lingering: Set<Socket>): void {
  lingering.add(socket);
  const linger = setTimeout(() => socket.destroy(), REFUSED_CONNECTION_LINGER_MS);
  socket.once('close', () => {
    clearTimeout(linger);
    lingering.delete(socket);
  });
  socket.resume();
  if (afterHello) socket.once('data', () => socket.end(answer));
  else socket.end(answer);
}
