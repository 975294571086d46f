/**
 * deploy/kubernetes: every manifest against the Kubernetes schemas, and the set as a Shoal
 * deployment (test/unit/deploy-checks.ts). Also shows that the checks catch broken manifests.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkShoalDeployment, parseManifests, validateSchemas, type K8sObject } from './deploy-checks.ts';

const DIR = fileURLToPath(new URL('../../deploy/kubernetes', import.meta.url));

function load(): K8sObject[] {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 5, `manifests in ${DIR}`);
  return files.flatMap((f) => parseManifests(readFileSync(join(DIR, f), 'utf8'), f));
}

test('deploy/kubernetes: every object passes the Kubernetes schema', async () => {
  const objects = load();
  await validateSchemas(objects, 'deploy/kubernetes');
  const kinds = objects.map((o) => o.kind).sort();
  assert.deepEqual(kinds, ['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount', 'StatefulSet']);
  for (const o of objects) if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, 'shoal', `${o.kind} ${o.metadata.name}`);
});

test('deploy/kubernetes: a Shoal deployment (discovery, probes, drain, memory, zones, the default password from a Secret)', () => {
  checkShoalDeployment(load(), { replicas: 3, zoneFromNode: true });
});

/** The manifests with one value changed (or deleted, for undefined) at `path` in the object `Kind/name`. */
function broken(object: string, path: (string | number)[], value: unknown): K8sObject[] {
  const objects = load();
  let at = objects.find((o) => `${o.kind}/${o.metadata.name}` === object) as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else if (last === 'push') (at as unknown as unknown[]).push(value);
  else at[last] = value;
  return objects;
}

test('the checks catch broken manifests', async () => {
  const pod = ['spec', 'template', 'spec'];
  const container = [...pod, 'containers', 0];
  await assert.rejects(validateSchemas(broken('StatefulSet/shoal', [...container, 'ports', 0, 'containerPort'], '7400'), 'x'), /containerPort must be integer/);
  await assert.rejects(validateSchemas(broken('StatefulSet/shoal', ['spec', 'podManagementPolicy'], 'Random'), 'x'), /podManagementPolicy must be equal to one of the allowed values/);
  await assert.rejects(validateSchemas(broken('StatefulSet/shoal', ['kind'], 'StatefullSet'), 'x'), /no Kubernetes schema/);
  const expect = { replicas: 3, zoneFromNode: true };
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...container, 'args', 'push'], '--max-memmory=1gb'), expect), /unknown option --max-memmory/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...container, 'args', 'push'], '--max-memory=900mib'), expect), /at most 0.5 of the limit/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...container, 'env', 4, 'value'], '--max-old-space-size=900'), expect), /fits in the limit/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...pod, 'terminationGracePeriodSeconds'], 30), expect), /outlasts --shutdown-timeout/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...pod, 'enableServiceLinks'], undefined), expect), /service links/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...container, 'readinessProbe', 'httpGet', 'path'], '/healthz'), expect), /readyz/);
  assert.throws(() => checkShoalDeployment(broken('Service/shoal-headless', ['spec', 'publishNotReadyAddresses'], undefined), expect), /not-ready pods must be found/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...container, 'volumeMounts', 2], undefined), expect), /--data-dir \/var\/lib\/shoal is on a volume/);
  const withoutPassword = broken('StatefulSet/shoal', [...container, 'args'], (load().find((o) => o.kind === 'StatefulSet')!.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]!.args.filter((a) => !a.startsWith('--default-password-file')));
  assert.throws(() => checkShoalDeployment(withoutPassword, expect), /--default-password-file is given/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...container, 'args', 'push'], '--insecure'), expect), /no --insecure/);
  assert.throws(() => checkShoalDeployment(broken('StatefulSet/shoal', [...pod, 'securityContext', 'fsGroup'], undefined), expect), /fsGroup/);
});
