/**
 * Throwaway certificates for trying TLS (`shoal dev --tls`) and for tests: a CA, and certificates
 * it signs for 127.0.0.1 / ::1 / localhost, usable both as server and as client certificates (a
 * node shows the same one to clients and, when dialing, to its peers). ECDSA P-256 keys, made with
 * node's webcrypto and @peculiar/x509: no openssl binary at run time. Not for production: the CA
 * key sits next to the certificates.
 */
import { webcrypto, randomBytes } from 'node:crypto';

type Crypto = webcrypto.Crypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

/** Loaded on first use: only `shoal dev --tls` and tests need them (@peculiar/x509 needs the Reflect metadata polyfill first). */
let x509Module: typeof X509 | undefined;
async function loadX509(): Promise<typeof X509> {
  if (x509Module === undefined) {
    await import('reflect-metadata');
    x509Module = await import('@peculiar/x509');
  }
  return x509Module;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const crypto: Crypto = webcrypto;

export interface IssuedPem {
  cert: string;
  key: string;
}

export interface DevCa extends IssuedPem {
  /** Signs a certificate for these names (DNS names and IP addresses). */
  issue(commonName: string, names?: readonly string[], days?: number): Promise<IssuedPem>;
}

const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'] as const;
const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]*)$/;

async function keyPem(key: CryptoKey): Promise<string> {
  const x509 = await loadX509();
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

const serial = (): string => '01' + randomBytes(15).toString('hex');
const daysFromNow = (days: number): Date => new Date(Date.now() + days * 86_400_000);

/** A new CA (`commonName`), valid `days` days. */
export async function createDevCa(commonName = 'Shoal dev CA', days = 30): Promise<DevCa> {
  const x509 = await loadX509();
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=${commonName}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: daysFromNow(days),
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const issue = async (cn: string, names: readonly string[] = DEFAULT_NAMES, leafDays = days): Promise<IssuedPem> => {
    const leafKeys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: `CN=${cn}`,
        issuer: caCert.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: daysFromNow(leafDays),
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGNING,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
          new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: IP.test(n) ? 'ip' : 'dns', value: n }) as const)),
          await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
        ],
      },
      crypto,
    );
    return { cert: cert.toString('pem') + '\n', key: await keyPem(leafKeys.privateKey) + '\n' };
  };
  return { cert: caCert.toString('pem') + '\n', key: await keyPem(keys.privateKey) + '\n', issue };
}

/** Paths of the files `writeDevCertificates` wrote. */
export interface DevCertificatePaths {
  ca: string;
  /** By node name. */
  nodes: Record<string, { cert: string; key: string }>;
}

/**
 * Writes a new CA (ca.pem, ca-key.pem) and one certificate per node (NAME.pem, NAME-key.pem) into
 * `dir`, keys readable by the owner only.
 */
export async function writeDevCertificates(dir: string, nodeNames: readonly string[]): Promise<DevCertificatePaths> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createDevCa();
  const paths: DevCertificatePaths = { ca: join(dir, 'ca.pem'), nodes: {} };
  writeFileSync(paths.ca, ca.cert);
  writeFileSync(join(dir, 'ca-key.pem'), ca.key, { mode: 0o600 });
  for (const name of nodeNames) {
    const issued = await ca.issue(name);
    const cert = join(dir, `${name}.pem`);
    const key = join(dir, `${name}-key.pem`);
    writeFileSync(cert, issued.cert);
    writeFileSync(key, issued.key, { mode: 0o600 });
    paths.nodes[name] = { cert, key };
  }
  return paths;
}
