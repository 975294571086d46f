/**
 * TLS for a node's listeners: reads the certificate, key and CA files a listener was configured
 * with into the options Node's `tls` takes, checks them (a key that does not match its
 * certificate, a file that is not PEM: a clear error naming the file and the option that gave
 * it), and reloads them without a restart. A reload builds the new secure context first and
 * swaps it into the running servers (`setSecureContext`): connections already open keep the one
 * they were made with, new ones get the new certificate. If the new files are bad, the old
 * context stays and the reason is logged.
 *
 * Edge code (node:fs, node:tls). Never logs key material: only paths, subjects and expiry dates.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions, type TlsOptions, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';

/** The part of runtime's Logger this file uses (declared here so security stays off runtime's import list). */
export interface TlsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Whether a listener asks clients for a certificate: not at all, optionally, or as a condition of connecting. */
export type ClientAuth = 'none' | 'request' | 'require';
export const CLIENT_AUTH_CHOICES: readonly ClientAuth[] = ['none', 'request', 'require'];

/** One listener's TLS settings, as configured: file paths, and the option that named each (for errors). */
export interface ListenerTls {
  cert: string;
  key: string;
  /** CA bundle that client certificates (and, for the peer listener, peers) must chain to; null: the system's. */
  ca: string | null;
  clientAuth: ClientAuth;
  /** The option that gave each path, e.g. `--tls-cert` or `--peer-tls-cert`. */
  origin: { cert: string; key: string; ca: string };
}

/** The PEM material of one listener, read from its files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

/** A TLS file that cannot be read or does not hold what it should. */
export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
}

function readPem(path: string, what: string, option: string, marker: RegExp): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TlsFileError(`cannot read the TLS ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (given by ${option})`);
  }
  if (!marker.test(bytes.toString('latin1'))) throw new TlsFileError(`the TLS ${what} file ${path} holds no PEM ${what} (given by ${option})`);
  return bytes;
}

const CERT_PEM = /-----BEGIN CERTIFICATE-----/;
const KEY_PEM = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * Reads and checks a listener's files: each must be readable PEM, the key must match the
 * certificate, the certificate must not have expired. Throws TlsFileError naming the file and option.
 */
export function loadTlsMaterial(settings: ListenerTls, now: Date = new Date()): TlsMaterial {
  const cert = readPem(settings.cert, 'certificate', settings.origin.cert, CERT_PEM);
  const key = readPem(settings.key, 'private key', settings.origin.key, KEY_PEM);
  const ca = settings.ca === null ? undefined : readPem(settings.ca, 'CA certificate', settings.origin.ca, CERT_PEM);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new TlsFileError(`the TLS certificate file ${settings.cert} cannot be parsed: ${(e as Error).message} (given by ${settings.origin.cert})`);
  }
  if (Date.parse(leaf.validTo) < now.getTime()) {
    throw new TlsFileError(`the TLS certificate in ${settings.cert} expired on ${leaf.validTo} (given by ${settings.origin.cert})`);
  }
  try {
    createSecureContext({ cert, key, ca });
  } catch (e) {
    const message = (e as Error).message;
    const why = /key values mismatch/i.test(message) ? `does not match the certificate in ${settings.cert}` : `cannot be used: ${message}`;
    throw new TlsFileError(`the TLS private key in ${settings.key} ${why} (given by ${settings.origin.key})`);
  }
  return { cert, key, ca };
}

/** What a log line may say about a certificate: subject, issuer, expiry. */
export function describeCertificate(pem: Buffer): { subject: string; issuer: string; validTo: string; fingerprint: string } {
  const c = new X509Certificate(pem);
  return { subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), validTo: c.validTo, fingerprint: c.fingerprint256.slice(0, 23) };
}

/** The secure context part of a listener's options (what `setSecureContext` takes). */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return material.ca === undefined ? { cert: material.cert, key: material.key } : { cert: material.cert, key: material.key, ca: material.ca };
}

/** Options for `tls.createServer` / `https.createServer`: the context plus whether clients must show certificates. */
export function serverTlsOptions(material: TlsMaterial, clientAuth: ClientAuth): TlsOptions {
  return { ...secureContextOptions(material), requestCert: clientAuth !== 'none', rejectUnauthorized: clientAuth === 'require' };
}

/**
 * Client certificates required by these listener options (`--tls-client-auth require`). Node's TLS
 * server would cut a handshake whose certificate fails verification (or that shows none) without
 * a word the client can read: its library reports a reset or a hang-up. So listeners that require
 * one take `admittingTlsOptions` instead, finish every handshake, and refuse a connection with
 * `clientCertificateRefusal`'s reason, which the client reads (an HTTP 403, a RESP error).
 */
export function requiresClientCertificate(tls: TlsOptions | null): boolean {
  return tls?.requestCert === true && tls.rejectUnauthorized !== false;
}

/** The listener's options with the handshake admitting any certificate (checked after it), when one is required. */
export function admittingTlsOptions(tls: TlsOptions): TlsOptions {
  return requiresClientCertificate(tls) ? { ...tls, rejectUnauthorized: false } : tls;
}

/** Why a connection to a listener requiring client certificates is refused, or null when its certificate verified. */
export function clientCertificateRefusal(socket: TLSSocket): string | null {
  if (socket.authorized) return null;
  const shown = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  return shown ? `client certificate refused (${String(socket.authorizationError ?? 'not verified')})` : 'no client certificate: this port requires one';
}

/** Options for dialing a peer: our certificate as the client certificate, and the peer must chain to the CA. */
export function clientTlsOptions(material: TlsMaterial): ConnectionOptions {
  return { ...secureContextOptions(material), rejectUnauthorized: true };
}

/** A server whose secure context can be swapped (tls.Server, https.Server). */
export interface SecureContextHolder {
  setSecureContext(options: SecureContextOptions): void;
}

/** How long file changes are gathered before a reload (a cert and key are often written one after the other). */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 500;

interface Entry {
  name: string;
  settings: ListenerTls;
  material: TlsMaterial;
  servers: SecureContextHolder[];
}

/**
 * The TLS material of every listener of a node, loaded at start and reloaded on demand (`reload`,
 * which the daemon calls on SIGHUP) and when a file changes (`watch`). Each listener is reloaded
 * on its own: one listener's bad files keep that listener's old context, not the others'.
 */
export class TlsReloader {
  private readonly entries = new Map<string, Entry>();
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;

  /** Loads every listener's files; throws TlsFileError for the first bad one. */
  constructor(
    listeners: Record<string, ListenerTls | null>,
    private readonly log: TlsLogger,
  ) {
    for (const [name, settings] of Object.entries(listeners)) {
      if (settings === null) continue;
      this.entries.set(name, { name, settings, material: loadTlsMaterial(settings), servers: [] });
    }
  }

  /** Whether this listener has TLS. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The listener's current material (after the last successful reload). */
  material(name: string): TlsMaterial {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new Error(`no TLS settings for the ${name} listener`);
    return entry.material;
  }

  settings(name: string): ListenerTls {
    return this.entries.get(name)!.settings;
  }

  /** Registers a running server of this listener, whose context a reload swaps. */
  attach(name: string, server: SecureContextHolder): void {
    this.entries.get(name)?.servers.push(server);
  }

  /** What the start log says about each listener's certificate. */
  describe(): Record<string, ReturnType<typeof describeCertificate> & { clientAuth: ClientAuth }> {
    const out: Record<string, ReturnType<typeof describeCertificate> & { clientAuth: ClientAuth }> = {};
    for (const e of this.entries.values()) out[e.name] = { ...describeCertificate(e.material.cert), clientAuth: e.settings.clientAuth };
    return out;
  }

  /**
   * Reads every listener's files again; a listener whose files are good gets the new context, one
   * whose files are bad keeps its old one (logged). Returns the names reloaded and those kept.
   */
  reload(reason: string): { reloaded: string[]; kept: string[] } {
    const reloaded: string[] = [];
    const kept: string[] = [];
    for (const entry of this.entries.values()) {
      let material: TlsMaterial;
      try {
        material = loadTlsMaterial(entry.settings);
      } catch (e) {
        kept.push(entry.name);
        this.log.warn({ listener: entry.name, reason, err: (e as Error).message }, `TLS reload failed for the ${entry.name} listener; it keeps its current certificate`);
        continue;
      }
      const options = secureContextOptions(material);
      for (const server of entry.servers) server.setSecureContext(options);
      entry.material = material;
      reloaded.push(entry.name);
    }
    if (reloaded.length > 0) {
      const certificates = Object.fromEntries(reloaded.map((n) => [n, describeCertificate(this.entries.get(n)!.material.cert)]));
      this.log.info({ reason, certificates }, `TLS certificates reloaded (${reloaded.join(', ')})`);
    }
    return { reloaded, kept };
  }

  /**
   * Watches the directories of every configured file and reloads `debounceMs` after the last
   * change to one of them. Directories, not the files: tools that replace a file by renaming
   * (certbot, kubelet's secret volumes, editors) would leave a watch on the old file blind.
   */
  watch(debounceMs: number = DEFAULT_RELOAD_DEBOUNCE_MS): void {
    const byDir = new Map<string, Set<string>>();
    for (const { settings } of this.entries.values()) {
      for (const path of [settings.cert, settings.key, settings.ca]) {
        if (path === null) continue;
        const full = resolve(path);
        const dir = dirname(full);
        if (!byDir.has(dir)) byDir.set(dir, new Set());
        byDir.get(dir)!.add(basename(full));
      }
    }
    for (const [dir, names] of byDir) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, filename) => {
          // Kubernetes swaps a `..data` symlink: any change in the directory may be ours when no name is given.
          if (filename !== null && !names.has(filename.toString()) && !filename.toString().startsWith('..')) return;
          this.scheduleReload();
        });
        watcher.on('error', (e) => this.log.warn({ dir, err: e.message }, 'stopped watching a TLS directory; reload with SIGHUP'));
        this.watchers.push(watcher);
      } catch (e) {
        this.log.warn({ dir, err: (e as Error).message }, 'cannot watch a TLS directory for changes; reload with SIGHUP');
      }
    }
    this.debounceMs = debounceMs;
  }

  private debounceMs = DEFAULT_RELOAD_DEBOUNCE_MS;

  private scheduleReload(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.reload('files changed');
    }, this.debounceMs);
    this.debounce.unref();
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
