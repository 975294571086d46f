// perf37 scratch: the compiled daemon with V8 writing /tmp/perf-PID.map, so `perf report` names JIT-compiled JS.
import v8 from 'node:v8';
v8.setFlagsFromString('--perf-basic-prof');
v8.setFlagsFromString('--interpreted-frames-native-stack');
await import(process.env.PERF37_SHOAL_BIN);
