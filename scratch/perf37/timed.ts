/** perf37 scratch: runs SET P1 against nodes started through timed-shoal.mjs, signalling before and after. */
import { startShoal } from '../../bench/resp/processes.ts';
import { runRedisBenchmark } from '../../bench/resp/redis-benchmark.ts';
process.env.PERF37_SHOAL_BIN = new URL('../../packages/server/bin/shoal.js', import.meta.url).pathname;
const servers = await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, firstPort: 42000, bin: new URL('./timed-shoal.mjs', import.meta.url).pathname });
for (const pid of servers.pids) process.kill(pid, 'SIGUSR2');
const t = Date.now();
await runRedisBenchmark(servers.resp[0]!, { tests: ['set'], clients: 50, pipeline: 1, requests: 10000, valueBytes: 100, keyspace: 100_000, cluster: true });
console.log('wall ms', Date.now() - t);
for (const pid of servers.pids) process.kill(pid, 'SIGUSR2');
await new Promise((r) => setTimeout(r, 500));
await servers.stop();
