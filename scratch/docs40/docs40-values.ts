// docs40: docs/CLIENT.md "Values" claims (text through msgpackCodec, null, undefined, stringCodec), against `shoal dev --base-port 7600`.
import { connect, stringCodec } from 'shoal-client';
const seeds = ['127.0.0.1:7600'];
const client = await connect({ seeds });
try { console.log(await client.get('greeting')); } catch (e) { console.log('greeting:', (e as Error).name, (e as Error).message); }
console.log('v ->', await client.get('one'), '; 1 ->', await client.get('digit'));
await client.set('nul', null);
console.log('null:', await client.get('nul'), (await client.get('nul', { detail: true })).miss, (await client.get('nope', { detail: true })).miss);
try { await client.set('u', undefined); } catch (e) { console.log('undefined:', (e as Error).name, (e as Error).message); }
try { await client.set('m', () => 1); } catch (e) { console.log('fn:', (e as Error).name, (e as Error).message); }
await client.drain();
const s = await connect({ seeds, codec: stringCodec });
console.log('string:', await s.get('greeting'));
try { await s.set('x', 5 as unknown as string); } catch (e) { console.log('stringCodec number:', (e as Error).name, (e as Error).message); }
await s.drain();
