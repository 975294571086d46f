/**
 * `--help` (or `-h`) for the benchmark scripts that read their flags by hand: prints the usage and
 * exits 0 before anything is measured. Without it `npm run bench:store -- --help` ran the whole
 * benchmark, for minutes. (bench/cluster and bench/metrics parse theirs with src/cli/args.ts.)
 */
export function exitOnHelp(usage: string): void {
  const argv = process.argv.slice(2);
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  process.stdout.write(`Usage: ${usage}\nbench/README.md says what each option does.\n`);
  process.exit(0);
}
