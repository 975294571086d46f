/**
 * Checks src/store/trace/caffeine.ts against the real Caffeine, hit for hit, on every trace and
 * size of `npm run bench:hitratio`:
 *
 *   CAFFEINE_REPO=/path/to/ben-manes/caffeine node --import tsx bench/hitratio/caffeine-java/check.ts [--traces gli,P6] [--seed 1]
 *
 * Needs a JDK (17+), a git clone of ben-manes/caffeine (CAFFEINE_REPO: BoundedLocalCache.java is
 * taken from its tag v3.2.2) and the jars of caffeine 3.2.2, jspecify and error_prone_annotations
 * (CAFFEINE_CLASSPATH; by default found under ~/.m2/repository). Caffeine's one random call
 * (ThreadLocalRandom in `admit`) is replaced by the mulberry32 stream caffeine.ts uses, with the
 * same seed; the rest of the cache is Caffeine's own code. 3.2.2 rather than the 3.2.4 that
 * caffeine.ts cites because it is the release on Maven Central here: between the two the policy
 * code only changed names (keys to key references).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTrace } from '../../../src/cli/bench.ts';
import { CaffeineSim } from '../../../src/store/trace/caffeine.ts';
import { BENCH_TRACES, tracePath } from '../reference.ts';
import { benchArgs, namesFrom } from '../../help.ts';

const TAG = 'v3.2.2';
const SOURCE = 'caffeine/src/main/java/com/github/benmanes/caffeine/cache/BoundedLocalCache.java';
const RANDOM_CALL = '      int random = ThreadLocalRandom.current().nextInt();\n';
const ANCHOR = '  static final int ADMIT_HASHDOS_THRESHOLD = 6;\n';
/** mulberry32 as SeededRandom.mulberry32; `>>> 25 == 0` is its `int(128) === 0`. */
const MULBERRY = `  public static int mulberryState = 1;
  static int nextMulberry() {
    mulberryState += 0x6d2b79f5;
    int t = mulberryState;
    t = (t ^ (t >>> 15)) * (t | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    return t ^ (t >>> 14);
  }
`;

const flags = benchArgs('CAFFEINE_REPO=/path/to/ben-manes/caffeine node --import tsx bench/hitratio/caffeine-java/check.ts', {
  traces: { kind: 'string', value: 'gli,P6', description: 'comma-separated traces to check. Default: all of npm run bench:hitratio', check: namesFrom(BENCH_TRACES.map((b) => b.trace)) },
  seed: { kind: 'integer', value: '1', description: "seed of both sides' admission randomness", default: 1 },
});

function m2Jar(group: string, artifact: string, version?: string): string {
  const dir = join(homedir(), '.m2/repository', group.replaceAll('.', '/'), artifact);
  const v = version ?? readdirSync(dir).sort().at(-1)!;
  return join(dir, v, `${artifact}-${v}.jar`);
}

const repo = process.env.CAFFEINE_REPO;
if (repo === undefined) {
  process.stderr.write('set CAFFEINE_REPO to a git clone of ben-manes/caffeine\n');
  process.exit(2);
}
const classpath =
  process.env.CAFFEINE_CLASSPATH ??
  [m2Jar('com.github.ben-manes.caffeine', 'caffeine', '3.2.2'), m2Jar('org.jspecify', 'jspecify'), m2Jar('com.google.errorprone', 'error_prone_annotations')].join(':');
const seed = Number(flags.seed);
const only = (flags.traces as string | undefined)?.split(',');

const work = mkdtempSync(join(tmpdir(), 'caffeine-check-'));
const source = execFileSync('git', ['-C', repo, 'show', `${TAG}:${SOURCE}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
if (!source.includes(RANDOM_CALL) || !source.includes(ANCHOR)) throw new Error(`${TAG}'s BoundedLocalCache no longer has the lines to patch`);
writeFileSync(join(work, 'BoundedLocalCache.java'), source.replace(RANDOM_CALL, '      int random = (nextMulberry() >>> 25) == 0 ? 0 : 1;\n').replace(ANCHOR, ANCHOR + MULBERRY));
const classes = join(work, 'classes');
const here = dirname(fileURLToPath(import.meta.url));
execFileSync('javac', ['-nowarn', '-d', classes, '-cp', classpath, join(work, 'BoundedLocalCache.java'), join(here, 'Replay.java')], { stdio: ['ignore', 'ignore', 'inherit'] });

let mismatches = 0;
process.stdout.write('trace @ entries      caffeine.ts hits  window    Caffeine hits  window\n');
for (const t of BENCH_TRACES.filter((b) => only === undefined || only.includes(b.trace))) {
  if (!existsSync(tracePath(t))) continue;
  const trace = loadTrace(tracePath(t), t.format);
  const idsFile = join(work, `${t.trace}.ids`);
  writeFileSync(idsFile, trace.ids);
  const java = execFileSync('java', ['-Xmx2g', '-cp', `${classes}:${classpath}`, 'Replay', idsFile, String(seed), ...t.sizes.map(String)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number));
  for (const [size, javaHits, javaWindow] of java) {
    const sim = new CaffeineSim(size!, trace.uniqueKeys, seed);
    let hits = 0;
    for (let i = 0; i < trace.ids.length; i++) if (sim.access(trace.ids[i]!)) hits++;
    const same = hits === javaHits && sim.windowMaximum === javaWindow;
    if (!same) mismatches++;
    const label = `${t.trace} @ ${size}`.padEnd(20);
    process.stdout.write(`${label} ${String(hits).padStart(16)} ${String(sim.windowMaximum).padStart(7)} ${String(javaHits).padStart(16)} ${String(javaWindow).padStart(7)}${same ? '' : '  DIFFERENT'}\n`);
  }
}
process.stdout.write(mismatches === 0 ? 'caffeine.ts equals Caffeine on every row\n' : `${mismatches} row(s) differ\n`);
process.exit(mismatches === 0 ? 0 : 1);
