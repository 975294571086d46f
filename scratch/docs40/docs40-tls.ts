// docs40: docs/CLIENT.md "TLS failures" messages, against `shoal dev --tls --base-port 7600` and a plain node on 7740.
import { readFileSync } from 'node:fs';
import { connect } from 'shoal-client';
const ca = readFileSync('.shoal/tls/ca.pem', 'utf8');
async function attempt(label: string, options: Parameters<typeof connect>[0]): Promise<void> {
  const started = Date.now();
  try {
    const client = await connect(options);
    await client.set('tls-probe', 1);
    console.log(label, '-> ok', await client.get('tls-probe'));
    await client.drain();
  } catch (e) {
    console.log(label, `-> ${(e as Error).name} after ${Date.now() - started} ms: ${(e as Error).message}`);
  }
}
await attempt('with ca', { seeds: ['wss://127.0.0.1:7600/shoal'], tls: { ca } });
await attempt('no ca', { seeds: ['wss://127.0.0.1:7600/shoal'] });
await attempt('wrong servername', { seeds: ['127.0.0.1:7600'], tls: { ca, servername: 'elsewhere.example' } });
await attempt('tls to plain node', { seeds: ['127.0.0.1:7740'], tls: { ca } });
await attempt('plain to tls node', { seeds: ['127.0.0.1:7600'], connectTimeoutMs: 3000 });
