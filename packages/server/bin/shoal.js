#!/usr/bin/env node
// The `shoal` command of the installed package: the compiled JavaScript in ../dist, run by plain
// node (no TypeScript loader at run time). The repository's bin/shoal.js runs src/ instead.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('shoal: the compiled command is missing (dist/cli/main.js); in a clone of the repository run `npm run build` (npm install does it)\n');
  process.exit(2);
}
cli.exitQuietlyOnBrokenPipe(process.stdout);
cli.exitQuietlyOnBrokenPipe(process.stderr);
process.exitCode = await cli.main(process.argv.slice(2));
