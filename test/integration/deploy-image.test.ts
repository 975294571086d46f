/**
 * The container image without a container runtime (none runs on this machine or in CI): the
 * Dockerfile is parsed and checked (multi-stage, non-root, production dependencies only, exec-form
 * entrypoint, health check), a temporary directory is laid out as its runtime stage's COPY lines
 * say, and there the image's entrypoint runs a real node with plain `sh`: SIGTERM reaches node
 * (the script execs it), the preStop drain script makes it leave gracefully, the health check
 * script answers, and the init container's zone script reads a node's zone label from an API
 * server over TLS.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../src/daemon/ports.ts';
import { until } from './daemon-harness.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions: continuation lines joined, comments and blank lines dropped. */
function parseDockerfile(text: string): Instruction[][] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const instruction = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (instruction.op === 'FROM') stages.push([]);
    if (instruction.op === 'ARG' && stages.length === 0) continue;
    stages[stages.length - 1]!.push(instruction);
  }
  return stages;
}

const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages[stages.length - 1]!;
const all = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);
const one = (stage: Instruction[], op: string) => {
  const found = all(stage, op);
  assert.equal(found.length, 1, `exactly one ${op} in the runtime stage`);
  return found[0]!.args;
};
const workdir = all(runtime, 'WORKDIR').at(-1)!.args;
const env = Object.fromEntries(all(runtime, 'ENV').flatMap((i) => i.args.split(/\s+/).map((kv) => kv.split('=') as [string, string])));

test('Dockerfile: multi-stage on node:20-slim, non-root, production dependencies only, exec-form entrypoint, health check', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-slim$/m);
  for (const stage of stages) assert.match(stage[0]!.args, /^\$\{NODE_IMAGE\}( AS \w+)?$/);
  const build = stages[0]!.map((i) => `${i.op} ${i.args}`).join('\n');
  assert.match(build, /RUN npm ci /);
  assert.match(build, /RUN npm run build/);
  assert.match(build, /npm pack --workspace packages\/server/, 'the server package packed as it is published');
  assert.match(build, /npm install --omit=dev .*\/pkg\/shoal-\*\.tgz/, 'and installed apart with production dependencies only');
  const [user, group] = one(runtime, 'USER').split(':');
  assert.ok(Number(user) > 0 && Number(group) > 0, 'a numeric non-root user, so runAsNonRoot can check it');
  // The runtime stage compiles nothing and installs nothing: it copies, and makes the data
  // directory (DATA_DIR, which the entrypoint passes as --data-dir) the node's user's own, as a
  // volume. Without it the node cannot create its data directory and exits at once.
  assert.ok(env.DATA_DIR?.startsWith('/'), 'DATA_DIR names the data directory');
  assert.deepEqual(all(runtime, 'RUN').map((i) => i.args), [`mkdir -p ${env.DATA_DIR} && chown ${user}:${group} ${env.DATA_DIR}`]);
  assert.equal(one(runtime, 'VOLUME'), env.DATA_DIR);
  const entrypoint = JSON.parse(one(runtime, 'ENTRYPOINT')) as string[];
  assert.deepEqual(entrypoint, ['/usr/local/bin/docker-entrypoint.sh'], 'exec form: no shell between docker and the script');
  assert.match(one(runtime, 'HEALTHCHECK'), /CMD \["node", "\/usr\/local\/lib\/shoal\/healthcheck\.mjs"\]/);
  assert.deepEqual(one(runtime, 'EXPOSE').split(' '), ['7400', '7401']);
  assert.ok(env.CLI?.startsWith(`${workdir}/`), 'CLI names the command inside the app directory');
  for (const name of Object.keys(env)) assert.ok(!name.startsWith('SHOAL_'), `${name}: the daemon refuses unknown SHOAL_* variables`);
  // The build context keeps out what the image rebuilds.
  const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  for (const path of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(path), `.dockerignore: ${path}`);
  // ...and lets in everything a COPY takes from it.
  for (const stage of stages) {
    for (const { args } of all(stage, 'COPY')) {
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      if (args.includes('--from=')) continue;
      for (const source of words.slice(0, -1)) {
        assert.ok(existsSync(join(REPO, source)), `COPY ${source} exists`);
        const hit = ignored.find((pattern) => source === pattern || source.startsWith(`${pattern}/`));
        assert.equal(hit, undefined, `.dockerignore's "${hit}" keeps COPY ${source} out of the build context`);
      }
    }
  }
});

/**
 * Lays `root` out as the runtime stage's COPY lines say. Build-stage paths map to the repository
 * (`/src/X` is the repository's X, `dist` its `npm run build` output, `/prod/node_modules` its
 * node_modules, linked: it holds dev dependencies too, which the image does not).
 */
function layOut(root: string): void {
  for (const { args } of all(runtime, 'COPY')) {
    const words = args.split(/\s+/).filter((w) => !w.startsWith('--chmod='));
    const fromBuild = words[0] === '--from=build';
    const paths = fromBuild ? words.slice(1) : words;
    const target = paths.pop()!;
    const into = target.startsWith('/') ? join(root, target) : join(root, workdir, target);
    for (const source of paths) {
      const local = fromBuild ? join(REPO, source.replace(/^\/(src|prod)\//, '')) : join(REPO, source);
      assert.ok(existsSync(local), `COPY source ${source} exists (${local})`);
      const destination = target.endsWith('/') ? join(into, source.split('/').at(-1)!) : into;
      mkdirSync(dirname(destination), { recursive: true });
      if (source.endsWith('node_modules')) symlinkSync(local, destination);
      else cpSync(local, destination, { recursive: true });
    }
  }
}

function ensureBuilt(): void {
  // CI's `npm test` builds before it tests; a developer's tree may not have dist/ yet.
  if (!existsSync(join(REPO, 'dist'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
}

/**
 * Resolves once `child` has exited and all it wrote is read ('close': at 'exit' its last lines may
 * still be in the pipe). Call it right after spawning, before the event can pass.
 */
function closeOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
}

function run(command: string, args: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const child = spawn(command, args, { env: { PATH: process.env.PATH, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  return closeOf(child).then(({ code }) => ({ code, out }));
}

test('image layout: the image\'s CMD with a password file starts on 0.0.0.0; the entrypoint execs node, which serves, takes its zone from the init container, and leaves gracefully on the preStop drain', async (t) => {
  ensureBuilt();
  const root = mkdtempSync(join(tmpdir(), 'shoal-image-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  layOut(root);
  const entrypoint = join(root, 'usr/local/bin/docker-entrypoint.sh');
  assert.ok(statSync(entrypoint).mode & 0o111, 'the entrypoint is executable in the repository, as COPY keeps it');

  const zoneFile = join(root, 'zone');
  writeFileSync(zoneFile, 'eu-west-1b');
  const [port, peerPort] = await freePorts(2);
  const dataDir = join(root, env.DATA_DIR!);
  mkdirSync(dataDir, { recursive: true });
  const imageEnv = { CLI: join(root, env.CLI!), ZONE_FILE: zoneFile, DATA_DIR: dataDir, NODE_ENV: env.NODE_ENV };
  // The secret a deployment mounts (docs/DEPLOY.md: docker run -e SHOAL_DEFAULT_PASSWORD_FILE=...).
  const passwordFile = join(root, 'run/secrets/shoal-default-password');
  mkdirSync(dirname(passwordFile), { recursive: true });
  writeFileSync(passwordFile, 'image-secret\n', { mode: 0o600 });
  // The image's CMD as `docker run shoal` runs it (listening on every interface, so only with a
  // password), plus this test's ports (free high ones; the node is stopped at the end).
  const cmd = JSON.parse(one(runtime, 'CMD')) as string[];
  assert.equal(cmd[0], 'start');
  const node = spawn('sh', [entrypoint, ...cmd, '--name', 'img1', '--port', String(port), '--peer-port', String(peerPort), '--resp-port', '0', '--admin-port', '0', '--log-format', 'json', '--gossip-profile', 'local'], {
    env: { PATH: process.env.PATH, ...imageEnv, SHOAL_DEFAULT_PASSWORD_FILE: passwordFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const nodeClosed = closeOf(node);
  t.after(() => node.kill('SIGKILL'));
  let logs = '';
  node.stdout.setEncoding('utf8').on('data', (d: string) => (logs += d));
  node.stderr.setEncoding('utf8').on('data', (d: string) => (logs += d));

  const health = { ...imageEnv, HEALTH_URL: `http://127.0.0.1:${port}/healthz` };
  await until('the node in the image layout to answer /healthz', async () => ((await run('node', [join(root, 'usr/local/lib/shoal/healthcheck.mjs')], health)).code === 0 ? true : undefined), 120_000, 200);
  // exec: the process the runtime started is node itself, not a shell waiting on it.
  const cmdline = readFileSync(`/proc/${node.pid}/cmdline`, 'utf8').split('\0');
  assert.equal(cmdline[0], 'node', `PID ${node.pid} runs ${cmdline.join(' ')}`);
  assert.equal(cmdline[1], imageEnv.CLI);
  assert.equal(cmdline[2], 'start');
  assert.equal(cmdline[cmdline.indexOf('--data-dir') + 1], dataDir, 'the entrypoint passed DATA_DIR as --data-dir');
  assert.equal(cmdline[cmdline.indexOf('--host') + 1], '0.0.0.0');
  const containerAddress = execFileSync('hostname', ['-i'], { encoding: 'utf8' }).trim().split(' ')[0];
  assert.equal(cmdline[cmdline.indexOf('--advertise-host') + 1], containerAddress, 'the entrypoint advertised the container\'s address');
  assert.match(logs, /the default user's password is now the one in .*shoal-default-password/);
  // The default user has the file's password: commands must log in (the probes above stay open).
  const anonymous = await run('node', [imageEnv.CLI, 'status', '--node', `127.0.0.1:${port}`, '--json'], {});
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.out, /requires credentials/);
  const status = await run('node', [imageEnv.CLI, 'status', '--node', `127.0.0.1:${port}`, '--json'], { SHOAL_PASSWORD: 'image-secret' });
  assert.equal(status.code, 0, status.out);
  assert.equal((JSON.parse(status.out) as { zone: string }).zone, 'eu-west-1b', 'the zone file became --zone');

  // The preStop hook: SIGTERM to the node, then wait for it to be gone.
  const drained = await run('sh', [join(root, 'usr/local/bin/drain.sh'), String(node.pid)], {});
  assert.equal(drained.code, 0, drained.out);
  assert.deepEqual(await nodeClosed, { code: 0, signal: null }, logs);
  assert.match(logs, /"msg":"signal received"/);
  assert.match(logs, /"msg":"stopped"/);
  assert.equal((await run('node', [join(root, 'usr/local/lib/shoal/healthcheck.mjs')], health)).code, 1, 'the health check fails once the node is gone');
  // Other commands pass through: `docker run shoal start --help`.
  const help = await run('sh', [entrypoint, 'start', '--help'], imageEnv);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: shoal start/);
});

test('zone init container: reads the node\'s topology label from the API server with the service account', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-zone-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.crt')], { stdio: 'ignore' });
  } catch {
    assert.ok(!process.env.CI, 'openssl is not installed: CI must install it (.ci/run does)');
    t.skip('openssl is not installed: cannot make the API server certificate (apt-get install openssl)');
    return;
  }
  writeFileSync(join(dir, 'token'), 'test-token\n');
  const nodes: Record<string, object> = {
    'worker-a': { metadata: { name: 'worker-a', labels: { 'topology.kubernetes.io/zone': 'us-east-1a' } } },
    'worker-plain': { metadata: { name: 'worker-plain', labels: {} } },
  };
  const seen: string[] = [];
  const api = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.crt')) }, (req, res) => {
    seen.push(`${req.headers.authorization} ${req.url}`);
    const node = nodes[decodeURIComponent((req.url ?? '').replace('/api/v1/nodes/', ''))];
    if (req.headers.authorization !== 'Bearer test-token') res.writeHead(401).end('{"reason":"Unauthorized"}');
    else if (node === undefined) res.writeHead(403).end('{"reason":"Forbidden"}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(node));
  });
  await new Promise<void>((resolve) => api.listen({ host: '127.0.0.1', port: 0 }, resolve));
  t.after(() => api.close());
  const script = join(REPO, 'deploy/docker/zone-from-node.mjs');
  const zoneEnv = (nodeName: string) => ({
    NODE_NAME: nodeName,
    ZONE_FILE: join(dir, 'zone'),
    SERVICE_ACCOUNT_DIR: dir,
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String((api.address() as AddressInfo).port),
  });

  const labelled = await run('node', [script], zoneEnv('worker-a'));
  assert.equal(labelled.code, 0, labelled.out);
  assert.equal(readFileSync(join(dir, 'zone'), 'utf8'), 'us-east-1a');
  assert.deepEqual(seen, ['Bearer test-token /api/v1/nodes/worker-a']);

  const unlabelled = await run('node', [script], zoneEnv('worker-plain'));
  assert.equal(unlabelled.code, 0, unlabelled.out);
  assert.equal(readFileSync(join(dir, 'zone'), 'utf8'), '', 'no label: an empty file, and the node runs in zone "default"');
  assert.match(unlabelled.out, /has no label topology\.kubernetes\.io\/zone/);

  const forbidden = await run('node', [script], zoneEnv('worker-unknown'));
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.out, /HTTP 403 .*needs get on nodes/);
  const unnamed = await run('node', [script], { ...zoneEnv('x'), NODE_NAME: '' });
  assert.equal(unnamed.code, 1);
  assert.match(unnamed.out, /NODE_NAME is not set/);
});
