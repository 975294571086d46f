/**
 * The live dashboard on the admin port: `/` is a page (HTML, CSS and script embedded in this
 * package, so there is nothing to build and nothing fetched from the internet; the charts and the
 * ring are SVG drawn by the page's own script), `/events` streams one cluster snapshot a second as
 * server-sent events, `/dashboard/cluster` is the same snapshot as JSON, and `/dashboard/node` is
 * this node's own numbers (what it answers when another member's dashboard asks it, over the
 * node-to-node channel: src/daemon/member-ask.ts).
 *
 * Access is the admin port's: the page and the stream ask for the same HTTP Basic credentials as
 * /status once the default user has a password (the browser asks once and sends them with the
 * stream too); the other members are asked over the node-to-node channel, with no credential.
 */
import { DashboardCollector, type DashboardSources, type NodeSample } from './dashboard-data.ts';
import { DASHBOARD_APP_JS } from './dashboard-app.ts';
import { DASHBOARD_CSS, DASHBOARD_HTML } from './dashboard-page.ts';
import { send, sendJson, type AdminRoute } from './server.ts';

export type { DashboardAlert, DashboardSources } from './dashboard-data.ts';

/** The dashboard's routes, sharing one collector; `close` stops its sampling (the daemon's stop). */
export function dashboardRoutes(sources: DashboardSources): AdminRoute[] & { close(): void; sample(): NodeSample } {
  const collector = new DashboardCollector(sources);
  const routes: AdminRoute[] = [
    { path: '/', description: 'the live dashboard of the whole cluster (open it in a browser)', handle: ({ response }) => send(response, 200, DASHBOARD_HTML, 'text/html; charset=utf-8') },
    { path: '/dashboard/app.js', description: "the dashboard's script", handle: ({ response }) => send(response, 200, DASHBOARD_APP_JS, 'text/javascript; charset=utf-8') },
    // Browsers ask for it with every page: answer it (no content) rather than log a 404 in the console.
    { path: '/favicon.ico', description: 'no icon (204), so browsers do not report a missing one', handle: ({ response }) => send(response, 204, '', 'image/x-icon') },
    { path: '/dashboard/app.css', description: "the dashboard's style sheet", handle: ({ response }) => send(response, 200, DASHBOARD_CSS, 'text/css; charset=utf-8') },
    { path: '/dashboard/node', description: "this node's numbers for the dashboard (counters, memory, hints, handoff, hot keys, its view of the members)", handle: ({ response }) => sendJson(response, 200, collector.sample()) },
    {
      path: '/dashboard/cluster',
      description: 'the dashboard snapshot of the whole cluster as JSON (what /events streams), with its history',
      handle: async ({ response }) => {
        sendJson(response, 200, await collector.snapshot());
      },
    },
    {
      path: '/events',
      description: 'server-sent events: one dashboard snapshot of the whole cluster a second',
      handle: ({ request, response }) => {
        response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        if (request.method === 'HEAD') return void response.end();
        response.write('retry: 2000\n\n');
        const unsubscribe = collector.subscribe((message) => response.write(`data: ${JSON.stringify(message)}\n\n`));
        const done = (): void => unsubscribe();
        request.on('close', done);
        response.on('close', done);
      },
    },
  ];
  return Object.assign(routes, { close: () => collector.close(), sample: () => collector.sample() });
}
