/** perf37 scratch: `perf record` of the three nodes (CPU samples, not wall time) during one redis-benchmark run. */
import { spawn } from 'node:child_process';
import { startShoal } from '../../bench/resp/processes.ts';
import { runRedisBenchmark } from '../../bench/resp/redis-benchmark.ts';
const [test = 'set', pipeline = '1', requests = '20000', out = '/tmp/perf37.data'] = process.argv.slice(2);
process.env.PERF37_SHOAL_BIN ??= new URL('../../packages/server/bin/shoal.js', import.meta.url).pathname;
const servers = await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, firstPort: 42000, bin: new URL('./perf-shoal.mjs', import.meta.url).pathname });
// Warm-up (JIT), then the measured run.
await runRedisBenchmark(servers.resp[0]!, { tests: [test], clients: 50, pipeline: Number(pipeline), requests: 20000, valueBytes: 100, keyspace: 100_000, cluster: true });
const perf = spawn('perf', ['record', '-F', '499', '-g', '-o', out, '-p', servers.pids.join(',')], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
console.log(JSON.stringify(await runRedisBenchmark(servers.resp[0]!, { tests: [test], clients: 50, pipeline: Number(pipeline), requests: Number(requests), valueBytes: 100, keyspace: 100_000, cluster: true })));
perf.kill('SIGINT');
await new Promise((r) => perf.once('exit', r));
await servers.stop();
