// The packages as a user gets them: `npm pack` each workspace package, install both tarballs into
// an empty directory with no dev dependencies and no network (the dependencies come from the npm
// cache that `npm ci` filled), then start a node with the installed `shoal` command and use the
// installed SDK from plain JavaScript (Node's entry with `ws`, and the `browser` entry with the
// platform's WebSocket), and from TypeScript type-checked by the repository's tsc.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../src/daemon/ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
// Bounds on hangs only: a loaded 2-core machine can be many times slower than an idle one.
const COMMAND_HANG_MS = 300_000;
const NODE_READY_HANG_MS = 120_000;

/** Folders of src/ that are server code: none of them may reach the SDK package. */
// (`store` is not among them: the SDK's near cache is the store's engine, src/store/near-cache.ts.)
const SERVER_FOLDERS = ['actors', 'cli', 'daemon', 'gossip', 'node', 'server', 'sim', 'transport'];

interface Run {
  stdout: string;
  stderr: string;
}

/**
 * The environment for npm and node children: without the npm_* variables of an enclosing
 * `npm test` (they would make the nested npm act on this repository's workspaces), but with the
 * cache and registry settings, so the install finds the cache that `npm ci` filled.
 */
function childEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.has(k.toLowerCase())));
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { cwd, env: childEnv(), timeout: COMMAND_HANG_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

interface Packed {
  name: string;
  filename: string;
  integrity: string;
  files: { path: string }[];
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  link?: boolean;
  [field: string]: unknown;
}

/** A lockfile path and the package folders enclosing it: node_modules/a/node_modules/b, node_modules/a, ''. */
function enclosing(path: string): string[] {
  const dirs = [path];
  for (let i = path.lastIndexOf('/node_modules/'); i >= 0; i = path.lastIndexOf('/node_modules/')) dirs.push((path = path.slice(0, i)));
  if (path !== '') dirs.push('');
  return dirs;
}

const modulePath = (dir: string, name: string): string => (dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`);

/**
 * The app's package-lock.json: the two tarballs, and for every package they need (at any depth)
 * the very entry of the repository's lockfile. `npm ci --offline` then fetches nothing and
 * resolves no version range (which would need registry metadata that `npm ci` never cached):
 * every tarball is in the cache, found by its integrity.
 */
function appLockfile(packed: { workspace: string; tarball: Packed }[]): { manifest: object; lock: object } {
  const repo = (JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const dependencies = Object.fromEntries(packed.map(({ tarball }) => [tarball.name, `file:../${tarball.filename}`]));
  const packages: Record<string, LockEntry> = { '': { name: 'app', dependencies } };
  const pending: { from: string; to: string }[] = [];
  for (const { workspace, tarball } of packed) {
    const { version, license, bin, engines, dependencies: deps } = repo[workspace] as LockEntry;
    packages[`node_modules/${tarball.name}`] = { version, resolved: `file:../${tarball.filename}`, integrity: tarball.integrity, license, bin, engines, dependencies: deps };
    pending.push({ from: workspace, to: `node_modules/${tarball.name}` });
  }
  while (pending.length > 0) {
    const { from, to } = pending.pop()!;
    const entry = repo[from]!;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      // Node's lookup: the package's own node_modules, then each enclosing one (the same depth in the app).
      const repoDirs = enclosing(from);
      const appDirs = enclosing(to);
      const depth = repoDirs.findIndex((dir) => repo[modulePath(dir, name)] !== undefined);
      const source = modulePath(repoDirs[Math.max(depth, 0)]!, name);
      const target = modulePath(appDirs[Math.max(depth, 0)]!, name);
      const found = repo[source];
      if (found === undefined && !entry.dependencies?.[name]) continue; // an optional dependency not for this platform
      if (found === undefined) throw new Error(`${from} needs ${name}, which the repository's lockfile does not hold`);
      if (packages[target] !== undefined) continue;
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = found;
      packages[target] = kept;
      pending.push({ from: source, to: target });
    }
  }
  return { manifest: { name: 'app', private: true, type: 'module', dependencies }, lock: { name: 'app', lockfileVersion: 3, requires: true, packages } };
}

async function pack(workspace: string, destination: string): Promise<Packed> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], join(ROOT, workspace));
  const [packed] = JSON.parse(stdout) as Packed[];
  assert.ok(packed, `npm pack printed no result for ${workspace}`);
  return packed;
}

/** Every module a JavaScript file reaches through static and dynamic imports: relative files and bare package names. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    // import ... from 'x', import 'x', import('x'), and createRequire(import.meta.url)('x').
    for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\bcreateRequire\([^)]*\)\(\s*)['"]([^'"]+)['"]/gm)) {
      const specifier = m[1]!;
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
    }
  }
  return { files, packages };
}

/** Starts `shoal start` from the installed package and resolves once it logs that it is ready. */
async function startNode(shoal: string, cwd: string, port: number, peerPort: number, children: ChildProcess[]): Promise<void> {
  const child = spawn(shoal, ['start', '--name', 'packed', '--port', String(port), '--peer-port', String(peerPort), '--resp-port', '0', '--admin-port', '0', '--log-format', 'json', '--log-level', 'info'], {
    cwd,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`the installed shoal logged no "ready" line within ${NODE_READY_HANG_MS} ms:\n${output}`)), NODE_READY_HANG_MS);
    const onData = (d: string): void => {
      output += d;
      if (/"msg":"node packed ready/.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.on('exit', (status) => {
      clearTimeout(timer);
      reject(new Error(`the installed shoal exited with ${status} before it was ready:\n${output}`));
    });
  });
}

const JS_CLIENT = `
import { connect, stringCodec } from 'shoal-client';
const [node, key, value] = process.argv.slice(2);
const client = await connect({ seeds: [node], codec: stringCodec, connectTimeoutMs: 60000, commandTimeoutMs: 60000 });
await client.set(key, value);
const got = await client.get(key);
await client.close();
console.log(JSON.stringify({ entry: import.meta.resolve('shoal-client'), got }));
`;

const TS_CLIENT = `
import { connect, stringCodec, type ShoalClient } from 'shoal-client';

const [node, key, value] = process.argv.slice(2) as [string, string, string];
const client: ShoalClient<string> = await connect({ seeds: [node], codec: stringCodec, connectTimeoutMs: 60_000, commandTimeoutMs: 60_000 });
await client.set(key, value, { ttlMs: 600_000 });
const got: string | null = await client.get(key);
await client.close();
console.log(JSON.stringify({ got }));

// Never called: with the SDK untyped (its types not found) this would compile, and the
// directive above an error-free line would itself be an error.
function misuse(c: ShoalClient<string>): void {
  // @ts-expect-error a number is not a key
  void c.get(42);
}
void misuse;
`;

test('packed shoal and shoal-client install without dev dependencies and work from JavaScript and TypeScript', { timeout: 15 * 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-pack-'));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const client = await pack('packages/client', dir);
  const server = await pack('packages/server', dir);

  // What each tarball holds: compiled JavaScript, no sources, and no server code in the SDK.
  const clientFiles = client.files.map((f) => f.path);
  for (const needed of ['package.json', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/client/platform.js']) assert.ok(clientFiles.includes(needed), `shoal-client lacks ${needed}`);
  const serverCode = clientFiles.filter((f) => SERVER_FOLDERS.some((folder) => f.startsWith(`dist/${folder}/`)) || f.startsWith('dist/runtime/real'));
  assert.deepEqual(serverCode, [], 'the SDK tarball holds server code');
  const serverFiles = server.files.map((f) => f.path);
  for (const needed of ['package.json', 'bin/shoal.js', 'dist/cli/main.js', 'dist/daemon/daemon.js']) assert.ok(serverFiles.includes(needed), `shoal lacks ${needed}`);
  assert.deepEqual([...clientFiles, ...serverFiles].filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')), [], 'TypeScript sources in a tarball');

  const app = join(dir, 'app');
  mkdirSync(app);
  const { manifest, lock } = appLockfile([
    { workspace: 'packages/client', tarball: client },
    { workspace: 'packages/server', tarball: server },
  ]);
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await run('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  const modules = join(app, 'node_modules');
  for (const devOnly of ['tsx', 'typescript', 'esbuild', 'eslint']) assert.ok(!existsSync(join(modules, devOnly)), `${devOnly} was installed`);

  // The SDK reaches only its own dependencies; its platform entry never loads ws.
  const sdk = join(modules, 'shoal-client/dist/client');
  const nodeEntry = importGraph(join(sdk, 'index.js'));
  assert.deepEqual([...nodeEntry.packages].sort(), ['@msgpack/msgpack', 'ws']);
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(join(modules, 'shoal-client/package.json'), 'utf8')) as { dependencies: object }).dependencies).sort(), ['@msgpack/msgpack', 'ws']);
  assert.ok(!importGraph(join(sdk, 'platform.js')).packages.has('ws'), 'the platform entry imports ws');

  const [port, peerPort] = await freePorts(2);
  const node = `127.0.0.1:${port}`;
  await startNode(join(modules, '.bin/shoal'), app, port!, peerPort!, children);
  const status = await run(join(modules, '.bin/shoal'), ['status', '--node', node, '--json'], app);
  assert.equal((JSON.parse(status.stdout) as { node: string }).node, 'packed');

  writeFileSync(join(app, 'use.mjs'), JS_CLIENT);
  const fromJs = JSON.parse((await run(process.execPath, ['use.mjs', node, 'from-js', 'plain javascript'], app)).stdout) as { entry: string; got: string };
  assert.equal(fromJs.got, 'plain javascript');
  assert.match(fromJs.entry, /node_modules\/shoal-client\/dist\/client\/index\.js$/);

  // The browser entry, dialing with the platform's WHATWG WebSocket (Node 20 has one behind a flag).
  const flags = process.allowedNodeEnvironmentFlags.has('--experimental-websocket') && typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined' ? ['--experimental-websocket'] : [];
  const fromBrowserEntry = JSON.parse((await run(process.execPath, [...flags, '--conditions=browser', 'use.mjs', node, 'from-platform', 'platform websocket'], app)).stdout) as { entry: string; got: string };
  assert.equal(fromBrowserEntry.got, 'platform websocket');
  assert.match(fromBrowserEntry.entry, /node_modules\/shoal-client\/dist\/client\/platform\.js$/);

  // TypeScript as a Node.js user writes it: strict, NodeNext resolution, @types/node (the
  // repository's: the app installed no dev dependencies), and the SDK's declarations checked too.
  writeFileSync(join(app, 'use.ts'), TS_CLIENT);
  const compilerOptions = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')], outDir: 'out', skipLibCheck: false };
  const tsconfig = { compilerOptions, files: ['use.ts'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
  const fromTs = JSON.parse((await run(process.execPath, ['out/use.js', node, 'from-ts', 'typescript'], app)).stdout) as { got: string };
  assert.equal(fromTs.got, 'typescript');

  // Each client's key is there for the others: one cluster served all three.
  const get = await run(join(modules, '.bin/shoal'), ['get', 'from-ts', '--node', node], app);
  assert.equal(get.stdout.trim(), 'typescript');
});
