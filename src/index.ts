/**
 * The client SDK, as this repository's tests and benchmarks import it. Users install the
 * `shoal-client` package (packages/client), built from client/index.ts (Node.js) and
 * client/platform.ts (browsers, Deno, Bun):
 *
 *   import { connect } from 'shoal-client';
 *   const client = await connect({ seeds: ['127.0.0.1:7400'] });
 *   await client.set('greeting', 'hello', { ttlMs: 60_000 });
 *
 * docs/CLIENT.md documents every option and error.
 */
export * from './client/index.ts';
