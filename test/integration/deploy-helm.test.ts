/**
 * The Helm chart (deploy/helm/shoal) rendered with each values file in its ci/ folder, by
 * test/helm-render: Go's text/template with sprig and Helm's extra functions, the engine `helm
 * template` uses (no helm binary comes from npm or Debian). Every rendered object is validated
 * against the Kubernetes schemas and checked as a Shoal deployment (test/unit/deploy-checks.ts);
 * the chart's own refusals (fail, required) are shown to fire.
 *
 * Needs Go and sprig: `apt-get install golang-go golang-github-masterminds-sprig-dev` (.ci/run
 * installs them). Without them the test is skipped locally with that message, and fails in CI.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkShoalDeployment, parseManifests, validateSchemas, type K8sObject } from '../unit/deploy-checks.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(REPO, 'deploy/helm/shoal');
const GOPATH = '/usr/share/gocode';
const SPRIG = join(GOPATH, 'src/github.com/Masterminds/sprig');
const INSTALL = 'apt-get install golang-go golang-github-masterminds-sprig-dev';

let renderer: string | null = null;

/** Builds test/helm-render once; null (and the test skipped) where Go or sprig is missing outside CI. */
function buildRenderer(t: TestContext): string | null {
  if (renderer) return renderer;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const missing = go.status !== 0 ? 'go is not installed' : !existsSync(SPRIG) ? `sprig is not in ${SPRIG}` : null;
  if (missing) {
    assert.ok(!process.env.CI, `${missing}: CI must install them (${INSTALL}); see .ci/run`);
    t.skip(`${missing}: ${INSTALL} to render the Helm chart`);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'shoal-helm-render-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'helm-render');
  execFileSync('go', ['build', '-o', out, join(REPO, 'test/helm-render/main.go')], {
    // A fixed cache directory: later runs reuse sprig's compiled packages (and CI may have no HOME).
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(tmpdir(), 'shoal-helm-render-gocache') },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  renderer = out;
  return out;
}

function render(bin: string, valuesFiles: string[], namespace = 'cache'): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, [CHART, 'shoal', namespace, ...valuesFiles], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const valuesFiles = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();

test('helm chart: every value in values.yaml has a row in README.md\'s table, and every row a value', () => {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const leaves: string[] = [];
  const walk = (node: unknown, path: string): void => {
    const isMap = typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node).length > 0;
    if (isMap && !['resources.requests', 'resources.limits'].includes(path)) for (const [k, v] of Object.entries(node)) walk(v, path === '' ? k : `${path}.${k}`);
    else leaves.push(path);
  };
  walk(values, '');
  const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
  const documented = new Set([...readme.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([\w.]+)`/g)].map((k) => k[1]!)));
  for (const leaf of leaves) assert.ok(documented.has(leaf), `values.yaml ${leaf} is in README.md's table`);
  for (const key of documented) assert.ok(leaves.includes(key), `README.md's ${key} is a value in values.yaml`);
});

test('the chart has values files to render in ci/', () => {
  assert.deepEqual(valuesFiles, ['default-values.yaml', 'fixed-zone-values.yaml', 'large-values.yaml']);
});

for (const file of valuesFiles) {
  test(`helm chart with ci/${file}: renders, passes the Kubernetes schemas, is a Shoal deployment`, async (t) => {
    const bin = buildRenderer(t);
    if (!bin) return;
    const path = join(CHART, 'ci', file);
    const rendered = render(bin, [path]);
    assert.equal(rendered.status, 0, rendered.stderr);
    const objects = parseManifests(rendered.stdout, file);
    await validateSchemas(objects, file);
    const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { replicaCount: number; zone: { fromNodeLabel: boolean } };
    const values = (parse(readFileSync(path, 'utf8')) ?? {}) as Partial<typeof defaults> & Record<string, unknown>;
    const sts = checkShoalDeployment(objects, {
      replicas: values.replicaCount ?? defaults.replicaCount,
      zoneFromNode: values.zone?.fromNodeLabel ?? defaults.zone.fromNodeLabel,
    });
    for (const o of objects) if (!o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, 'cache', `${o.kind} in the release namespace`);
    const pod = (sts.spec as { template: { spec: { containers: { image: string; args: string[] }[]; volumes: { name: string; secret?: { secretName: string; items: { key: string; path: string }[] } }[] } } }).template.spec;
    const args = pod.containers[0]!.args;
    // The default user's password: a file from a Secret, the chart's own or the operator's.
    assert.ok(args.includes('--default-password-file=/etc/shoal/secret/password'));
    const passwordVolume = pod.volumes.find((v) => v.secret !== undefined)!.secret!;
    const secrets = objects.filter((o) => o.kind === 'Secret');
    if (file === 'fixed-zone-values.yaml') {
      assert.deepEqual(passwordVolume, { secretName: 'cache-eu-password', items: [{ key: 'pw', path: 'password' }], defaultMode: 288 });
      assert.deepEqual(secrets, [], 'auth.existingSecret given: the chart makes no Secret');
    } else {
      assert.deepEqual(passwordVolume, { secretName: 'shoal-default-password', items: [{ key: 'password', path: 'password' }], defaultMode: 288 });
      assert.equal(secrets.length, 1);
      assert.equal(secrets[0]!.metadata.name, 'shoal-default-password');
      const password = Buffer.from((secrets[0]!.data as { password: string }).password, 'base64').toString('utf8');
      assert.match(password, /^[A-Za-z0-9]{32}$/, 'a random password made by the chart');
    }
    if (file === 'large-values.yaml') {
      assert.equal(pod.containers[0]!.image, 'registry.example.com/shoal:0.2.0');
      assert.ok(args.includes('--replica-timeout=1s') && args.includes('--port=9400'));
    }
    if (file === 'fixed-zone-values.yaml') {
      assert.ok(args.includes('--zone=dc1') && args.includes('--partitions=4096') && args.includes('--cluster=cache-eu'));
      assert.ok(args.some((a) => a.endsWith('.svc.corp.internal:7401')));
      assert.deepEqual(objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)), [], 'no RBAC asked for, none made');
      assert.equal((objects.find((o) => o.kind === 'Service' && o.metadata.name === 'shoal')!.spec as { type: string }).type, 'LoadBalancer');
    }
    if (file === 'default-values.yaml') {
      // The chart's defaults and the plain manifests describe the same deployment.
      const plain = readdirSync(join(REPO, 'deploy/kubernetes')).flatMap((f) => parseManifests(readFileSync(join(REPO, 'deploy/kubernetes', f), 'utf8'), f));
      const podOf = (objs: K8sObject[]) => (objs.find((o) => o.kind === 'StatefulSet')!.spec as { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } }).template.spec;
      const [a, b] = [podOf(objects), podOf(plain)];
      for (const key of ['enableServiceLinks', 'terminationGracePeriodSeconds', 'securityContext']) assert.deepEqual(a[key], b[key], key);
      for (const key of ['readinessProbe', 'livenessProbe', 'lifecycle', 'resources', 'ports']) assert.deepEqual(a.containers[0]![key], b.containers[0]![key], key);
      const plainArgs = b.containers[0]!.args as string[];
      for (const arg of plainArgs) assert.ok(args.includes(arg), `the chart passes ${arg} as the manifests do`);
    }
  });
}

test('helm chart: refuses values that would break a node, with the reason', (t) => {
  const bin = buildRenderer(t);
  if (!bin) return;
  const dir = mkdtempSync(join(tmpdir(), 'shoal-helm-values-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string, RegExp][] = [
    ['shutdownTimeoutSeconds: 60\nterminationGracePeriodSeconds: 30\n', /terminationGracePeriodSeconds \(30\) must exceed shutdownTimeoutSeconds \(60\) by at least 10/],
    ['antiAffinity: sometimes\n', /antiAffinity must be hard or soft, not "sometimes"/],
    ['maxMemory: null\n', /maxMemory is required/],
    ['replicaCount: 0\n', /replicaCount must be at least 1/],
    ['auth:\n  existingSecret: mine\n  existingSecretKey: ""\n', /auth.existingSecretKey is required with auth.existingSecret/],
  ];
  for (const [values, message] of cases) {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, values);
    const r = render(bin, [file]);
    assert.equal(r.status, 1, `${values}: ${r.stdout}`);
    assert.match(r.stderr, message);
  }
});
