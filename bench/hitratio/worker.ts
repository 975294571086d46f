/**
 * A bench:hitratio worker: replays (trace, size, policy) tasks on traces shared by the main thread;
 * the policy NODE_COLUMN is the default through the real Store sized by bytes, as a node sizes it.
 */
import { parentPort } from 'node:worker_threads';
import { replay } from '../../src/store/trace/replay.ts';
import { storeReplay } from '../../src/store/trace/store-replay.ts';
import type { Trace } from '../../src/store/trace/parse.ts';
import { NODE_COLUMN } from './summary.ts';
import type { HitRatioCell } from './summary.ts';

export interface TraceMessage {
  kind: 'trace';
  name: string;
  ids: Int32Array;
  uniqueKeys: number;
}
export interface TaskMessage {
  kind: 'task';
  trace: string;
  size: number;
  policy: HitRatioCell['policy'];
}

const traces = new Map<string, Trace>();
parentPort!.on('message', (message: TraceMessage | TaskMessage) => {
  if (message.kind === 'trace') {
    traces.set(message.name, { ids: message.ids, uniqueKeys: message.uniqueKeys });
    return;
  }
  const started = performance.now();
  const trace = traces.get(message.trace)!;
  const result = message.policy === NODE_COLUMN ? { ...storeReplay(trace, message.size, 'bytes'), policy: NODE_COLUMN } : replay(trace, message.size, message.policy);
  parentPort!.postMessage({ trace: message.trace, ...result, ms: performance.now() - started });
});
