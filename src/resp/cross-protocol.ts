/**
 * Cross-protocol scripting: a web page can make a browser send an HTTP request to any address it
 * names, loopback included, and on the RESP port each line of that request reads as an inline
 * command: `POST / HTTP/1.1`, `Host: ...`, the headers, then the body, which the page chose (a
 * `SET`, a `FLUSHALL`). redis-server (since 3.2.7) closes a connection at once when a command is
 * named `POST` or `Host:`; so does Shoal (RespConnection.process), the request line or its Host
 * header always coming before the body. Redis sends nothing, and drops the replies it had not sent;
 * Shoal answers what came before and then this error, as for any protocol error, so a person or a
 * tool that dialed the wrong port (`shoal keyring --peer` at the RESP port) learns what it reached.
 * Logged at most once a minute per address, as the RESP port's other refusals.
 */
import type { Logger } from '../runtime/env.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';

export const HTTP_REQUEST_ERROR = "ERR Protocol error: an HTTP request (a command named POST or Host:) on Shoal's Redis (RESP) port; closing the connection";

/** Whether a command's name is `POST` or `Host:`, in any case (Redis's processCommand test). */
export function isHttpRequestLine(args: Uint8Array[]): boolean {
  const name = args[0];
  if (name === undefined || name.length > 5) return false;
  const text = String.fromCharCode(...name).toLowerCase();
  return text === 'post' || text === 'host:';
}

/** The warning for connections closed as above, rate-limited per remote address. */
export class CrossProtocolLog {
  private readonly limiter = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);

  note(log: Logger | undefined, remote: string, nowMs: number): void {
    const suppressed = this.limiter.pass(remote, nowMs);
    if (suppressed === null) return;
    log?.warn(
      { remote, ...suppressedField(suppressed) },
      `possible cross-protocol attack on the RESP port from ${remote}: it sent an HTTP request (a command named POST or Host:), as a web page can make a browser do (or an HTTP client, such as a shoal command, was pointed at this Redis port by mistake); closed the connection without running the rest`,
    );
  }
}
