/** A bench:hitratio worker: replays (trace, size, policy) tasks on traces shared by the main thread. */
import { parentPort } from 'node:worker_threads';
import { replay } from '../../src/store/trace/replay.ts';
import type { ReplayPolicy } from '../../src/store/trace/replay.ts';
import type { Trace } from '../../src/store/trace/parse.ts';

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
  policy: ReplayPolicy;
}

const traces = new Map<string, Trace>();
parentPort!.on('message', (message: TraceMessage | TaskMessage) => {
  if (message.kind === 'trace') {
    traces.set(message.name, { ids: message.ids, uniqueKeys: message.uniqueKeys });
    return;
  }
  const started = performance.now();
  const result = replay(traces.get(message.trace)!, message.size, message.policy);
  parentPort!.postMessage({ trace: message.trace, ...result, ms: performance.now() - started });
});
