// Docker HEALTHCHECK: exits 0 when the node answers GET /healthz with 200, else 1. The image has no
// curl; node is there anyway. HEALTH_URL overrides the address (another --port, or a --host that
// is not reachable as 127.0.0.1). Kubernetes ignores HEALTHCHECK and probes /healthz and /readyz itself.
/* global fetch -- Node 20 has it */
const url = process.env.HEALTH_URL ?? 'http://127.0.0.1:7400/healthz';
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2500) });
  process.exitCode = response.ok ? 0 : 1;
} catch (error) {
  process.stderr.write(`healthcheck: ${url}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
