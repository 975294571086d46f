/**
 * Checks for Kubernetes objects, shared by the plain manifests' test and the Helm chart's: each
 * object against the Kubernetes OpenAPI schema (kubernetes-models validates types, required
 * fields, enums and formats; it does not reject unknown fields), then what a Shoal deployment
 * needs of them, which no schema knows: the daemon accepts the container's arguments, the seeds
 * name the headless service, probes and preStop point where the image serves them, the grace
 * period outlasts --shutdown-timeout, the memory limit leaves room above --max-memory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/cli/start.ts';
import { DAEMON_OPTIONS } from '../../src/daemon/options.ts';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
} & Record<string, unknown>;

/**
 * The memory model of docs/DEPLOY.md ("Capacity planning"), measured with
 * deploy/capacity/measure-memory.ts: a full store's array buffers take up to 0.8 x --max-memory
 * outside V8's heap, V8's heap stays under its cap (--max-old-space-size), and the rest of the
 * process (code, native buffers) fits in 64 MiB. --max-memory itself stays at most half the limit.
 */
export const MAX_MEMORY_SHARE_OF_LIMIT = 0.5;
export const OFF_HEAP_SHARE_OF_MAX_MEMORY = 0.8;
export const NATIVE_OVERHEAD_BYTES = 64 * 1024 ** 2;

/** Every YAML document in `text`, nulls (empty documents) dropped; a YAML error fails. */
export function parseManifests(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    assert.equal(doc.errors.length, 0, `${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as K8sObject | null;
    return value === null ? [] : [value];
  });
}

/** kubernetes-models' class for an apiVersion and kind: `apps/v1` StatefulSet is kubernetes-models/apps/v1/StatefulSet. */
async function modelFor(apiVersion: string, kind: string): Promise<new (data: unknown) => { validate(): void }> {
  const path = apiVersion.includes('/') ? apiVersion : `v1`;
  const module = (await import(`kubernetes-models/${path}/${kind}`).catch(() => null)) as Record<string, unknown> | null;
  const model = module?.[kind];
  assert.ok(typeof model === 'function', `no Kubernetes schema for ${apiVersion} ${kind}: a typo, or a kind this Kubernetes version does not serve`);
  return model as new (data: unknown) => { validate(): void };
}

export async function validateSchemas(objects: K8sObject[], source: string): Promise<void> {
  for (const object of objects) {
    assert.ok(typeof object.apiVersion === 'string' && typeof object.kind === 'string', `${source}: an object without apiVersion or kind`);
    const Model = await modelFor(object.apiVersion, object.kind);
    try {
      new Model(object).validate();
    } catch (error) {
      assert.fail(`${source}: ${object.kind} ${object.metadata?.name}: ${(error as Error).message}`);
    }
  }
}

function only(objects: K8sObject[], kind: string, where = ''): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}${where}`);
  return found[0]!;
}

type Container = {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { readOnlyRootFilesystem?: boolean };
};

/** Kubernetes quantities as bytes: 1Gi, 512Mi, 1G, 1500M. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  assert.ok(m, `"${q}" is a memory quantity`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/** `--name=value` and `--name value` both, as the daemon's parser takes them. */
function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]!.startsWith(`--${name}=`)) return args[i]!.slice(name.length + 3);
  }
  return undefined;
}

/** What the deployment is expected to be, for the checks that depend on values. */
export interface Expectations {
  replicas: number;
  /** Whether the zone init container is expected. */
  zoneFromNode: boolean;
}

/** The checks a Shoal deployment must pass beyond the schema; returns the StatefulSet for callers' own checks. */
export function checkShoalDeployment(objects: K8sObject[], expect: Expectations): K8sObject {
  const sts = only(objects, 'StatefulSet');
  const spec = sts.spec as {
    serviceName: string;
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    updateStrategy?: { type: string };
    template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { containers: Container[]; initContainers?: Container[] } };
  };
  const pod = spec.template.spec;
  assert.equal(spec.replicas, expect.replicas);
  assert.equal(spec.updateStrategy?.type ?? 'RollingUpdate', 'RollingUpdate');
  for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[k], v, `the selector matches the pod label ${k}`);
  const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => spec.template.metadata.labels[k] === v);

  // Discovery: a headless service that publishes pods before they are ready (they join through it).
  const services = objects.filter((o) => o.kind === 'Service');
  const headless = services.find((s) => s.metadata.name === spec.serviceName);
  assert.ok(headless, `the StatefulSet's serviceName ${spec.serviceName} is one of the services`);
  const hs = headless.spec as { clusterIP?: string; publishNotReadyAddresses?: boolean; selector: Record<string, string>; ports: { name: string; port: number }[] };
  assert.equal(hs.clusterIP, 'None');
  assert.equal(hs.publishNotReadyAddresses, true, 'not-ready pods must be found: they become ready only after joining');
  assert.ok(selects(hs.selector));
  const clientService = services.find((s) => s !== headless);
  assert.ok(clientService, 'a client service besides the headless one');
  assert.ok(selects((clientService.spec as { selector: Record<string, string> }).selector));

  const pdb = only(objects, 'PodDisruptionBudget');
  const pdbSpec = pdb.spec as { maxUnavailable?: number; selector: { matchLabels: Record<string, string> } };
  assert.equal(pdbSpec.maxUnavailable, 1);
  assert.ok(selects(pdbSpec.selector.matchLabels));

  assert.equal(pod.enableServiceLinks, false, 'service links would set SHOAL_* variables the daemon refuses');
  const container = pod.containers.find((c) => c.name === 'shoal');
  assert.ok(container, 'a container named shoal');
  for (const e of container.env ?? []) {
    assert.ok(!e.name.startsWith('SHOAL_') || Object.keys(DAEMON_OPTIONS).some((o) => `SHOAL_${o.toUpperCase().replace(/-/g, '_')}` === e.name), `${e.name}: unknown SHOAL_* variables stop the daemon`);
  }

  // The daemon accepts the arguments (pending flags aside), with the pod's variables filled in.
  const args = container.args ?? [];
  assert.equal(args[0], 'start');
  const sample: Record<string, string> = { POD_NAME: 'shoal-0', POD_NAMESPACE: 'ns', POD_IP: '10.1.2.3' };
  const declared = new Set((container.env ?? []).map((e) => e.name));
  const filled = args.slice(1).map((a) =>
    a.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => {
      assert.ok(declared.has(name), `$(${name}) in the arguments is a container variable`);
      return sample[name] ?? 'x';
    }),
  );
  // The daemon reads --default-password-file as it parses: a stand-in file where the pod's would be.
  const standIn = mkdtempSync(join(tmpdir(), 'shoal-deploy-check-'));
  let config: ReturnType<typeof loadConfig>;
  try {
    writeFileSync(join(standIn, 'password'), 'stand-in\n');
    config = loadConfig(filled.map((a) => (a.startsWith('--default-password-file=') ? `--default-password-file=${join(standIn, 'password')}` : a)), {});
  } finally {
    rmSync(standIn, { recursive: true, force: true });
  }

  const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
  assert.equal(ports.client, config.port, 'the client port is the one the node listens on');
  assert.equal(ports.peer, config.peerPort, 'the peer port is the one the node listens on');
  assert.equal(config.host, '0.0.0.0', 'listen on every interface: probes come to the pod IP');
  assert.equal(flagValue(args, 'advertise-host'), '$(POD_IP)');
  assert.equal(flagValue(args, 'name'), '$(POD_NAME)', 'stable member names: the pod names');
  const peerPortOfHeadless = hs.ports.find((p) => p.name === 'peer')?.port;
  assert.equal(config.seeds.length, 1);
  assert.match(config.seeds[0]!, new RegExp(`^${spec.serviceName}\\.ns\\.svc\\.[a-z0-9.-]+:${peerPortOfHeadless}$`), 'the seed is the headless service in the pod\'s namespace, at the peer port');

  // The node creates its data directory at start; on a read-only root it must be on a volume
  // (the default, .shoal/data under the image's working directory, is not: the node would exit).
  const dataDir = flagValue(args, 'data-dir');
  if (container.securityContext?.readOnlyRootFilesystem === true) {
    assert.ok(dataDir, '--data-dir is given: the default is on the read-only root file system');
    assert.ok((container.volumeMounts ?? []).some((m) => dataDir === m.mountPath || dataDir.startsWith(`${m.mountPath}/`)), `--data-dir ${dataDir} is on a volume the container mounts`);
  }

  // A node on 0.0.0.0 refuses to start while the default user has no password (exit 2, a crash
  // loop): the password comes from a Secret mounted as a file, never --insecure, never a value.
  assert.equal(config.insecure, false, 'no --insecure: anyone who reaches a pod could do anything');
  const passwordFile = flagValue(args, 'default-password-file');
  assert.ok(passwordFile, '--default-password-file is given: a node on 0.0.0.0 without a password for the default user exits at start');
  assert.ok(config.defaultPassword !== null);
  const secretMount = (container.volumeMounts ?? []).find((m) => passwordFile.startsWith(`${m.mountPath}/`));
  assert.ok(secretMount, `--default-password-file ${passwordFile} is on a volume the container mounts`);
  assert.equal(secretMount.readOnly, true, 'the password volume is mounted read-only');
  const volumes = (pod.volumes ?? []) as { name: string; secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number } }[];
  const secret = volumes.find((v) => v.name === secretMount.name)?.secret;
  assert.ok(secret?.secretName, `the volume ${secretMount.name} is a Secret`);
  const fileName = passwordFile.slice(secretMount.mountPath.length + 1);
  assert.ok(secret.items === undefined || secret.items.some((i) => i.path === fileName), `the Secret puts a key at ${fileName}`);
  // Secret files are root's: the node's user reads them through the pod's fsGroup and the mode's group bits.
  const podSecurity = pod.securityContext as { runAsGroup?: number; fsGroup?: number } | undefined;
  assert.equal(podSecurity?.fsGroup, podSecurity?.runAsGroup, 'fsGroup is the node\'s group, so it can read the Secret\'s file');
  assert.ok(((secret.defaultMode ?? 0o644) & 0o040) !== 0, 'the Secret\'s file mode lets its group read it');

  assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'client' });
  assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'client' });
  assert.deepEqual(container.lifecycle?.preStop?.exec?.command, ['/usr/local/bin/drain.sh']);
  const grace = pod.terminationGracePeriodSeconds as number;
  assert.ok(grace * 1000 >= config.shutdownTimeoutMs + 10_000, `terminationGracePeriodSeconds ${grace} outlasts --shutdown-timeout ${config.shutdownTimeoutMs} ms by 10 s or more`);

  const limit = container.resources?.limits?.memory;
  assert.ok(limit, 'a memory limit');
  assert.equal(container.resources?.requests?.memory, limit, 'memory requested = limit: a cache evicted by the kernel loses its data');
  assert.ok(config.maxMemory <= MAX_MEMORY_SHARE_OF_LIMIT * quantityBytes(limit), `--max-memory ${config.maxMemory} is at most ${MAX_MEMORY_SHARE_OF_LIMIT} of the limit ${limit}`);
  const nodeOptions = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  const heapCap = /--max-old-space-size=(\d+)/.exec(nodeOptions);
  assert.ok(heapCap, 'NODE_OPTIONS caps V8\'s heap (--max-old-space-size): uncapped, garbage outgrows the limit');
  const need = Number(heapCap[1]) * 1024 ** 2 + OFF_HEAP_SHARE_OF_MAX_MEMORY * config.maxMemory + NATIVE_OVERHEAD_BYTES;
  assert.ok(need <= quantityBytes(limit), `heap cap ${heapCap[1]} MiB + ${OFF_HEAP_SHARE_OF_MAX_MEMORY} x --max-memory + 64 MiB fits in the limit ${limit}`);

  // Zones: from the node's label through the init container, never a fixed --zone in a spread set.
  const init = (pod.initContainers ?? []).find((c) => c.name === 'zone');
  if (expect.zoneFromNode) {
    assert.ok(init, 'the zone init container');
    assert.equal(flagValue(args, 'zone'), undefined, 'no fixed --zone: it comes from the node');
    const zoneFile = (c: Container) => c.env?.find((e) => e.name === 'ZONE_FILE')?.value;
    assert.ok(zoneFile(container) && zoneFile(container) === zoneFile(init), 'both containers name the same zone file');
    const mount = (c: Container) => c.volumeMounts?.find((m) => zoneFile(container)!.startsWith(`${m.mountPath}/`))?.name;
    assert.ok(mount(container) && mount(container) === mount(init), 'the zone file is on a volume both containers mount');
    const account = pod.serviceAccountName as string;
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding');
    assert.ok(binding, 'a ClusterRoleBinding lets the service account get nodes');
    const subjects = (binding as unknown as { subjects: { kind: string; name: string }[] }).subjects;
    assert.ok(subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account));
    const role = only(objects, 'ClusterRole');
    assert.deepEqual((role as unknown as { rules: unknown[] }).rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]);
  } else {
    assert.equal(init, undefined);
  }
  const spread = pod.topologySpreadConstraints as { topologyKey: string }[] | undefined;
  assert.ok(spread?.some((c) => c.topologyKey === 'topology.kubernetes.io/zone'), 'pods spread over zones');
  return sts;
}
