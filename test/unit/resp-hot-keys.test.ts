// SHOAL.HOTKEYS (src/resp/hot-keys-command.ts): rates as whole ops/s, as `shoal hotkeys`, /metrics
// and the alerts show them, not the 17 significant digits Redis's double formatting gives an
// estimate such as 7904.9 ("7904.8999999999996"; probe-cli F9g).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandContext, RespServerContext } from '../../src/resp/command.ts';
import { hotKeyCommands } from '../../src/resp/hot-keys-command.ts';
import { ReplySink, RespReplyWriter } from '../../src/resp/writer.ts';

function run(protocol: 2 | 3, rates: number[]): string {
  const sink = new ReplySink(64);
  const server = { hotKeys: () => ({ keys: rates.map((rate, i) => ({ key: `k${i}`, rate })) }) } as unknown as RespServerContext;
  let finished = false;
  hotKeyCommands[0]!.run({ server } as unknown as CommandContext, [Buffer.from('SHOAL.HOTKEYS')], new RespReplyWriter(sink, { protocol }), () => (finished = true));
  assert.ok(finished);
  return Buffer.concat(sink.take()).toString('latin1');
}

test('SHOAL.HOTKEYS replies each rate rounded to whole ops/s, in RESP2 and RESP3', () => {
  assert.equal(run(2, [7904.9, 88.3]), '*2\r\n*2\r\n$2\r\nk0\r\n$4\r\n7905\r\n*2\r\n$2\r\nk1\r\n$2\r\n88\r\n');
  assert.equal(run(3, [7904.9, 88.3]), '*2\r\n*2\r\n$2\r\nk0\r\n,7905\r\n*2\r\n$2\r\nk1\r\n,88\r\n');
});
