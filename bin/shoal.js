#!/usr/bin/env node
// The `shoal` command run from the repository's TypeScript sources through tsx (a dev
// dependency): what the tests and benchmarks start, so they always run the current src/ with no
// build in between. Users run the compiled command of the `shoal` package instead
// (packages/server/bin/shoal.js, plain node; `npx shoal` and `npm start` in the repository).
import { register } from 'tsx/esm/api';

register();
const { main, exitQuietlyOnBrokenPipe } = await import('../src/cli/main.ts');
exitQuietlyOnBrokenPipe(process.stdout);
exitQuietlyOnBrokenPipe(process.stderr);
process.exitCode = await main(process.argv.slice(2));
