// Kubernetes init container: writes the zone of the node this pod was scheduled on to a file that
// docker-entrypoint.sh turns into `--zone`. The downward API can read the pod's own labels and
// spec.nodeName but not the node's labels, so this asks the API server for the node object with
// the pod's service account token (which needs `get` on `nodes`: the ClusterRole in
// deploy/kubernetes/rbac.yaml).
//
// Environment:
//   NODE_NAME   the node's name (downward API: spec.nodeName); required
//   ZONE_FILE   where to write the zone (default /run/shoal/zone)
//   ZONE_LABEL  the node label to read (default topology.kubernetes.io/zone)
//   KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT  the API server (Kubernetes sets them)
//   SERVICE_ACCOUNT_DIR  token and ca.crt (default /var/run/secrets/kubernetes.io/serviceaccount)
//
// A node without the label (a one-zone or local cluster) gets an empty file: the node then runs in
// zone "default", and the log says so. Any other failure exits 1, so the pod does not start
// with a wrong zone.
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';

const nodeName = process.env.NODE_NAME;
const zoneFile = process.env.ZONE_FILE ?? '/run/shoal/zone';
const label = process.env.ZONE_LABEL ?? 'topology.kubernetes.io/zone';
const accountDir = process.env.SERVICE_ACCOUNT_DIR ?? '/var/run/secrets/kubernetes.io/serviceaccount';
const apiHost = process.env.KUBERNETES_SERVICE_HOST ?? 'kubernetes.default.svc';
const apiPort = process.env.KUBERNETES_SERVICE_PORT ?? '443';

function fail(message) {
  process.stderr.write(`zone-from-node: ${message}\n`);
  process.exit(1);
}

if (!nodeName) fail('NODE_NAME is not set: give the init container env NODE_NAME from fieldRef spec.nodeName');

let token;
let ca;
try {
  token = readFileSync(`${accountDir}/token`, 'utf8').trim();
  ca = readFileSync(`${accountDir}/ca.crt`);
} catch (error) {
  fail(`cannot read the service account from ${accountDir} (${error.message}); is automountServiceAccountToken off?`);
}

const body = await new Promise((resolve) => {
  const req = request(
    {
      host: apiHost,
      port: Number(apiPort),
      path: `/api/v1/nodes/${encodeURIComponent(nodeName)}`,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      ca,
      timeout: 10_000,
    },
    (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d));
      res.on('end', () => {
        if (res.statusCode !== 200) fail(`GET node ${nodeName}: HTTP ${res.statusCode} ${text.slice(0, 300)} (the service account needs get on nodes)`);
        resolve(text);
      });
    },
  );
  req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
  req.on('error', (error) => fail(`GET node ${nodeName} from ${apiHost}:${apiPort}: ${error.message}`));
  req.end();
});

const zone = JSON.parse(body)?.metadata?.labels?.[label] ?? '';
writeFileSync(zoneFile, zone);
process.stdout.write(zone === '' ? `zone-from-node: node ${nodeName} has no label ${label}; the node runs in zone "default"\n` : `zone-from-node: node ${nodeName} is in zone ${zone}\n`);
