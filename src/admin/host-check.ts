/**
 * DNS rebinding on the admin port. A web page can re-point its own name at 127.0.0.1 (or any
 * address the visitor's browser reaches); the browser then thinks requests to that name are
 * same-origin and lets the page read the answers: /status, /hotkeys (key names), /metrics of a node
 * that needs no password. The page cannot change the Host header, which names the page's host.
 * So while the port serves anyone without credentials, a request must name the node: no Host
 * (HTTP/1.0 tools; browsers always send one), an IP address (a rebinding page has a name), a
 * loopback name or the node's --host / --advertise-host (the client port's "own host",
 * src/security/origins.ts), or the host of an origin in --allowed-origins (the pages the operator
 * lets use the node). Once a password is needed the check is moot: the browser has no credentials
 * for the page's name. Jupyter and many development servers refuse unknown Hosts the same way.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from '../runtime/env.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';
import { isListedOrigin, isOwnHost, normalOrigin, type OriginPolicy } from '../security/origins.ts';

/** Longest Host quoted back in an answer or a log line (a header may be kilobytes). */
const QUOTED_HOST_CHARS = 200;

/** Why a request with Host `host` (undefined: none) is not served without credentials, or null when it is. `scheme`: the port's. */
export function hostRefusal(host: string | undefined, policy: OriginPolicy, scheme: 'http' | 'https'): string | null {
  if (host === undefined) return null;
  // As the page's origin, the way --allowed-origins lists it (normalised: case, default port).
  const origin = normalOrigin(`${scheme}://${host}`);
  if (origin !== null) {
    const name = new URL(origin).hostname;
    if (isIP(name.replace(/^\[|\]$/g, '')) !== 0 || isOwnHost(name, policy.ownHosts)) return null;
    if (policy.allowed !== null && isListedOrigin(origin, policy.allowed)) return null;
  }
  const example = origin !== null && origin.length <= QUOTED_HOST_CHARS ? origin : `${scheme}://NAME:PORT`;
  return (
    `Host ${host.slice(0, QUOTED_HOST_CHARS)} is neither an address nor a name of this node, and the node needs no password: a web page under another name (DNS rebinding) could read it through its visitor's browser. ` +
    `Reach the node by IP address, localhost or its --host / --advertise-host; or allow this name with --allowed-origins ${example}; or give the default user a password (--default-password-file)`
  );
}

/**
 * `hostRefusal` for the requests of one port, each refusal logged as a warning once a minute per
 * remote address and Host (a page can retry in a loop).
 */
export function hostGuard(policy: OriginPolicy, scheme: 'http' | 'https', log: Logger): (request: IncomingMessage) => string | null {
  const refusalLog = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  return (request) => {
    const reason = hostRefusal(request.headers.host, policy, scheme);
    if (reason === null) return null;
    const remote = request.socket.remoteAddress ?? '?';
    const host = request.headers.host!.slice(0, QUOTED_HOST_CHARS);
    const suppressed = refusalLog.pass(`${remote} ${host}`, performance.now());
    if (suppressed !== null) log.warn({ remote, host, ...suppressedField(suppressed) }, `refused an admin request from ${remote}: ${reason}`);
    return reason;
  };
}
