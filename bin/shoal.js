#!/usr/bin/env node
// The `shoal` command. Shoal ships as TypeScript and runs it through tsx's loader, so there is no
// build step between a clone and a running node, and no stale compiled copy to get wrong.
import { register } from 'tsx/esm/api';

register();
const { main, exitQuietlyOnBrokenPipe } = await import('../src/cli/main.ts');
exitQuietlyOnBrokenPipe(process.stdout);
exitQuietlyOnBrokenPipe(process.stderr);
process.exitCode = await main(process.argv.slice(2));
