// Runs the compiled daemon under the V8 profiler (perf37 scratch): node flags cannot go through
// NODE_OPTIONS (--cpu-prof is refused there), and processes.ts profiles only the first node.
// SIGUSR2 starts the profiler and a second one writes the profile to $PERF37_PROF_DIR (so
// startup and shutdown stay out).
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
let started = false;
process.on('SIGUSR2', () => {
  if (!started) {
    started = true;
    session.post('Profiler.start');
    return;
  }
  session.post('Profiler.stop', (error, result) => {
    if (!error) writeFileSync(`${process.env.PERF37_PROF_DIR}/node-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
  });
});
await import(process.env.PERF37_SHOAL_BIN);
