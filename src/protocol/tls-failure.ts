/**
 * Why a TLS connection failed, in words, from the error Node's TLS layer (through `ws`) raised:
 * shared by the node-to-node transport and the SDK, so both say the same thing of the same
 * failure. Each caller adds what to do (which option to give), since that differs: a node's
 * `--peer-tls-ca`, the SDK's `tls.ca`.
 *
 * Only the error's `code`, `message` and, for a name mismatch, the certificate Node attaches are
 * read: no `node:` module, so the SDK can bundle it for browsers (where errors carry none of this
 * and nothing is recognised).
 */

export type TlsFailureKind =
  /** The certificate does not chain to a trusted CA (self-signed, unknown issuer, bad signature). */
  | 'untrusted'
  /** The certificate is valid but names neither the host dialed nor `servername`. */
  | 'wrong-name'
  /** Expired or not yet valid. */
  | 'expired'
  /** The other side answered the TLS handshake in plain text: its port has no TLS. */
  | 'not-tls'
  /** The other side wants a certificate from us and got none. */
  | 'certificate-required'
  /** The other side refused the certificate we showed (an alert). */
  | 'certificate-refused';

export interface TlsFailure {
  kind: TlsFailureKind;
  /** What failed, one line, without OpenSSL's file names and codes: "its certificate does not name 127.0.0.1 (names it has: DNS:x)". */
  reason: string;
}

const UNTRUSTED_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

interface NodeTlsError {
  code?: unknown;
  message?: unknown;
  host?: unknown;
  cert?: { subjectaltname?: unknown; subject?: { CN?: unknown } };
}

/**
 * OpenSSL's text ("80EC...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/...:350:\n")
 * reduced to its reason ("wrong version number"); any other message, trimmed to one line.
 */
export function openSslReason(message: string): string {
  const m = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(message);
  return (m === null ? message : m[1]!).trim().replace(/\s+/g, ' ');
}

/** The TLS failure behind `error`, or null when it is not one (a refused connection, a timeout, a reset). */
export function tlsFailure(error: unknown): TlsFailure | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as NodeTlsError;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const text = openSslReason(message);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = typeof e.host === 'string' ? e.host : 'the host dialed';
    const names = typeof e.cert?.subjectaltname === 'string' && e.cert.subjectaltname !== '' ? e.cert.subjectaltname : 'none';
    return { kind: 'wrong-name', reason: `its certificate does not name ${host} (names it has: ${names})` };
  }
  if (UNTRUSTED_CODES.has(code)) return { kind: 'untrusted', reason: `certificate verification failed: its certificate does not chain to a CA trusted here (${text})` };
  if (code === 'CERT_HAS_EXPIRED') return { kind: 'expired', reason: `its certificate has expired (${text})` };
  if (code === 'CERT_NOT_YET_VALID') return { kind: 'expired', reason: `its certificate is not valid yet (${text})` };
  // A plain HTTP (or RESP) reply read as a TLS record.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/.test(message)) {
    return { kind: 'not-tls', reason: 'it does not speak TLS: the TLS handshake got a plain answer' };
  }
  if (/alert certificate required/.test(message)) return { kind: 'certificate-required', reason: `it requires a client certificate and got none (${text})` };
  if (/alert (unknown ca|bad certificate|certificate unknown|certificate expired|certificate revoked|unsupported certificate)/.test(message)) {
    return { kind: 'certificate-refused', reason: `it refused the certificate shown to it (${text})` };
  }
  return null;
}

/**
 * The refusal behind a WebSocket upgrade answered 403 by a node that requires client certificates
 * (src/server/client-server.ts checks them itself: Node's TLS server would cut the handshake
 * without an alert, which reads as a hang-up); `ws` says only the status. Null for any other error.
 * `certificateShown`: whether this side offered one.
 */
export function upgradeCertificateRefusal(error: unknown, certificateShown: boolean): TlsFailure | null {
  if (!(error instanceof Error) || !/^Unexpected server response: 403$/.test(error.message)) return null;
  return certificateShown
    ? { kind: 'certificate-refused', reason: "it refused the client certificate (HTTP 403 to the WebSocket upgrade; the node's log says why)" }
    : { kind: 'certificate-required', reason: 'it requires a client certificate and got none (HTTP 403 to the WebSocket upgrade)' };
}
