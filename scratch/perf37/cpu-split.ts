/** perf37 scratch: user vs system CPU of the three nodes per request, one redis-benchmark run per test. */
import { readFileSync } from 'node:fs';
import { startShoal } from '../../bench/resp/processes.ts';
import { runRedisBenchmark } from '../../bench/resp/redis-benchmark.ts';
const [tests = 'set,get', pipeline = '1', requests = '10000', bin] = process.argv.slice(2);
const servers = await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, firstPort: 42000, ...(bin ? { bin } : {}) });
const split = (): [number, number] => servers.pids.reduce(([u, s], pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [u + Number(f[11]) * 10, s + Number(f[12]) * 10];
}, [0, 0]);
for (const test of tests.split(',')) {
  const [u0, s0] = split();
  await runRedisBenchmark(servers.resp[0]!, { tests: [test], clients: 50, pipeline: Number(pipeline), requests: Number(requests), valueBytes: 100, keyspace: 100_000, cluster: true });
  const [u1, s1] = split();
  console.log(`${test} P${pipeline}: user ${((u1 - u0) * 1000 / Number(requests)).toFixed(1)} us, system ${((s1 - s0) * 1000 / Number(requests)).toFixed(1)} us per request`);
}
await servers.stop();
