/**
 * Health endpoints on the client port, for orchestrators (Kubernetes probes, Docker HEALTHCHECK,
 * load balancers): plain HTTP GETs next to the WebSocket endpoint.
 *
 * - `GET /healthz`: the process is alive and its event loop answers. Always 200 while the
 *   listener is open; nothing the cluster does makes it fail, so a liveness probe never restarts a
 *   node that is merely joining or handing data off.
 * - `GET /readyz`: 200 only while the node serves: it has joined its cluster's ring (a peer
 *   confirmed it), none of its partitions is still catching up, and it is not stopping. 503 with
 *   the reason otherwise. A rolling restart waits for this before it stops the next node, so a
 *   node is never taken down while a restarted peer's replicas still miss data.
 *
 * Both answer a small JSON object, and HEAD as well as GET.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeStatus } from '../protocol/index.ts';

export const LIVENESS_PATH = '/healthz';
export const READINESS_PATH = '/readyz';

export interface Readiness {
  ready: boolean;
  /** Why, in words: what the node waits for when not ready, what it serves when ready. */
  reason: string;
}

/**
 * Readiness from the node's status answer (what `shoal status` shows) and whether the server is
 * draining. Without a status source (a server over a MemoryKv) the server is ready once listening.
 */
export function readinessOf(status: NodeStatus | null, draining: boolean): Readiness {
  if (draining) return { ready: false, reason: 'stopping: leaving the cluster, handing partitions off and draining clients' };
  if (status === null) return { ready: true, reason: 'serving' };
  if (!status.joined) return { ready: false, reason: `joining: waiting for ${status.joining?.waitingFor ?? 'the cluster'}` };
  if (status.catchingUp > 0) {
    return { ready: false, reason: `catching up: ${status.catchingUp} partition replica${status.catchingUp === 1 ? '' : 's'} still receiving data from peers` };
  }
  // A node that owns no partition (more members than partitions x replicas) still coordinates
  // requests for any key, so it is ready too: readiness means "send it clients", not "holds data".
  return { ready: true, reason: `serving: holds ${status.held} partition replica${status.held === 1 ? '' : 's'}, ring ${status.ringVersion}` };
}

/**
 * Answers one plain HTTP request on the client port. `readiness` is only called for /readyz.
 * `websocketPath` is named in the answers to other paths, so that someone pointing a browser or
 * curl at the port learns what it serves.
 */
export function answerHttpRequest(request: IncomingMessage, response: ServerResponse, readiness: () => Readiness, websocketPath: string): void {
  const path = (request.url ?? '/').split('?')[0];
  if (path === LIVENESS_PATH || path === READINESS_PATH) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(response, request, 405, { error: `${path} answers GET and HEAD only` }, { allow: 'GET, HEAD' });
      return;
    }
    if (path === LIVENESS_PATH) {
      reply(response, request, 200, { alive: true });
      return;
    }
    let answer: Readiness;
    try {
      answer = readiness();
    } catch (error) {
      answer = { ready: false, reason: `status unavailable: ${error instanceof Error ? error.message : String(error)}` };
    }
    reply(response, request, answer.ready ? 200 : 503, answer);
    return;
  }
  if (path === websocketPath) {
    reply(response, request, 426, { error: `${websocketPath} is a WebSocket endpoint: connect with the Shoal client SDK` }, { upgrade: 'websocket' });
    return;
  }
  reply(response, request, 404, { error: `not found: this port serves the WebSocket endpoint ${websocketPath}, ${LIVENESS_PATH} and ${READINESS_PATH}` });
}

function reply(response: ServerResponse, request: IncomingMessage, code: number, body: object, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(code, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    // Probes must see the state now, never a cached answer.
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(request.method === 'HEAD' ? undefined : text);
}
