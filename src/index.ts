/**
 * The `shoal` package root: the client SDK.
 *
 *   import { connect } from 'shoal';
 *   const client = await connect({ seeds: ['127.0.0.1:7400'] });
 *   await client.set('greeting', 'hello', { ttlMs: 60_000 });
 *
 * docs/CLIENT.md documents every option and error.
 */
export * from './client/index.ts';
