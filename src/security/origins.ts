/**
 * Which web pages may use the client (SDK) port: cross-site WebSocket hijacking. A browser sends
 * the page's origin (`Origin: https://evil.example`) with every WebSocket upgrade, and lets any
 * page dial any address, loopback included; Node, Deno, Bun and the SDK outside browsers send no
 * Origin. On a node whose default user needs no password, an upgrade from any page would let any
 * site the developer visits read, write and flush the cache. Browsers are a supported SDK
 * platform, so the port cannot refuse every Origin as the peer port does (ws-transport.ts):
 *
 * - `--allowed-origins` given: only the origins listed (or any, for `*`; none, for `none`), whatever
 *   the node's auth;
 * - else, while anyone may connect as `default`: only pages served from this machine (a loopback
 *   host) or from the node's own --host / --advertise-host. A DNS-rebinding page still has its own
 *   name as its origin, so it is refused;
 * - else (a password is needed): any origin; the page must still authenticate.
 *
 * The admin port applies the same "own host" and list to the Host header (src/admin/host-check.ts).
 */

/** An allowed-origins list that admits every origin. */
export const ANY_ORIGIN = '*';
/**
 * An allowed-origins list that admits no page, written alone. An empty list is refused instead: it
 * is more often a variable left empty (`--allowed-origins "$ORIGINS"`) than a wish to refuse every
 * browser, and an empty SHOAL_ALLOWED_ORIGINS already means "not given".
 */
export const NO_ORIGIN = 'none';

/** Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = bareHost(host);
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Whether `host` is this machine or a name the node was told it has (its --host, --advertise-host):
 * what a DNS-rebinding page, whose host is its own name, can never be.
 */
export function isOwnHost(host: string, ownHosts: readonly string[]): boolean {
  const h = bareHost(host);
  return isLoopbackHost(h) || ownHosts.some((own) => bareHost(own) === h);
}

/** A host without IPv6 brackets, lower case: `[::1]` is `::1`. */
function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** `scheme://host[:port]` and nothing else: no path, query, fragment or user. */
const ORIGIN_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]+$/i;

/**
 * An origin as browsers send it, normalised (lower case, default port dropped:
 * `HTTPS://App.Example:443` is `https://app.example`), or null when `text` is not one.
 */
export function normalOrigin(text: string): string | null {
  if (!ORIGIN_SHAPE.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  // Only http(s) pages have a scheme://host origin; URL gives others the origin "null".
  return url.origin === 'null' ? null : url.origin;
}

/**
 * The --allowed-origins entries, normalised; throws with what is wrong with the first malformed
 * one, or with an empty list. `*` stands for any origin, `none` alone for none.
 */
export function parseAllowedOrigins(entries: readonly string[]): string[] {
  if (entries.length === 0) throw new Error(`an empty list refuses every browser's page; give the pages to allow (http://localhost:5173), or ${NO_ORIGIN} to refuse every page`);
  if (entries.includes(NO_ORIGIN)) {
    if (entries.length > 1) throw new Error(`${NO_ORIGIN} refuses every page, so it stands alone: give it or the pages to allow, not both`);
    return [];
  }
  return entries.map((entry) => {
    if (entry === ANY_ORIGIN) return entry;
    const origin = normalOrigin(entry);
    if (origin === null) throw new Error(`"${entry}" is not an origin: write it as a browser sends it, scheme://host[:port] (https://app.example, http://localhost:3000), no path; or * for any, ${NO_ORIGIN} for none`);
    return origin;
  });
}

/** Whether a normalised origin (null: not one) is in an --allowed-origins list, or the list is `*`. */
export function isListedOrigin(origin: string | null, allowed: readonly string[]): boolean {
  return allowed.includes(ANY_ORIGIN) || (origin !== null && allowed.includes(origin));
}

export interface OriginPolicy {
  /** --allowed-origins, normalised (parseAllowedOrigins; empty for `none`); null when not given. */
  readonly allowed: readonly string[] | null;
  /** The node's own --host and --advertise-host: pages served from them count as local. */
  readonly ownHosts: readonly string[];
}

/**
 * Why an upgrade carrying `origin` is refused, or null when it is accepted. `open`: whether the
 * default user may connect without a password now (the ACL can change while the node runs).
 */
export function originRefusal(origin: string, policy: OriginPolicy, open: boolean): string | null {
  const normal = normalOrigin(origin);
  if (policy.allowed !== null) {
    if (isListedOrigin(normal, policy.allowed)) return null;
    if (policy.allowed.length === 0) return `the page's origin ${origin} is refused: this node takes no page (--allowed-origins ${NO_ORIGIN}); list the pages to allow instead (--allowed-origins ${normal ?? 'https://app.example'})`;
    return `the page's origin ${origin} is not in --allowed-origins; add it to let browsers on that page use this node (--allowed-origins ${normal ?? 'https://app.example'})`;
  }
  if (!open) return null;
  if (normal !== null && isOwnHost(new URL(normal).hostname, policy.ownHosts)) return null;
  return (
    `the page's origin ${origin} is not local and this node needs no password (any web page could use it through the visitor's browser); ` +
    `to let browsers on that page use it, start the node with --allowed-origins ${normal ?? 'https://app.example'}, or give the default user a password (--default-password-file)`
  );
}
