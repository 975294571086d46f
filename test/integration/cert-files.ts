/**
 * Certificates for the TLS integration tests, written where a daemon's --tls-cert / --tls-key (and
 * a client's options) can read them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedPem } from '../../src/security/dev-certs.ts';

/** Writes `pem` as DIR/NAME.pem and DIR/NAME-key.pem (the key readable by its owner only, as a node expects of a key file) and returns their paths. */
export function writeCertFiles(dir: string, name: string, pem: IssuedPem): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  writeFileSync(cert, pem.cert);
  writeFileSync(key, pem.key, { mode: 0o600 });
  return { cert, key };
}
