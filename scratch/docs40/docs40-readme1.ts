// docs40: README.md's SDK snippet as written, against `shoal dev --base-port 7600` (seeds changed only). Run: node --import tsx scratch/docs40/docs40-readme1.ts
import { connect } from 'shoal-client';

const client = await connect({ seeds: ['127.0.0.1:7600'] });
await client.set('user:42', { name: 'Ada' }, { ttlMs: 60_000 });
console.log(await client.get('user:42'));
await client.drain();
