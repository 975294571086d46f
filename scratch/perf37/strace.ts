/** perf37 scratch: syscall counts of each node (strace -c) during one redis-benchmark run. */
import { spawn } from 'node:child_process';
import { startShoal } from '../../bench/resp/processes.ts';
import { runRedisBenchmark } from '../../bench/resp/redis-benchmark.ts';
const [test = 'set', pipeline = '1', requests = '10000', bin] = process.argv.slice(2);
const servers = await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, firstPort: 42000, ...(bin ? { bin } : {}) });
const traces = servers.pids.map((pid) => spawn('strace', ['-c', '-f', '-p', String(pid), '-o', `/tmp/perf37-strace-${pid}.txt`], { stdio: 'ignore' }));
await new Promise((r) => setTimeout(r, 1000));
console.log(JSON.stringify(await runRedisBenchmark(servers.resp[0]!, { tests: [test], clients: 50, pipeline: Number(pipeline), requests: Number(requests), valueBytes: 100, keyspace: 100_000, cluster: true })));
for (const t of traces) t.kill('SIGINT');
await new Promise((r) => setTimeout(r, 1000));
await servers.stop();
console.log(servers.pids.map((p) => `/tmp/perf37-strace-${p}.txt`).join(' '));
