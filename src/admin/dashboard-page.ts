/**
 * The dashboard's page and style sheet, embedded so that the compiled package serves them with no
 * files to copy and no build step; the page loads nothing but /dashboard/app.css,
 * /dashboard/app.js and the /events stream of the node that serves it.
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal dashboard</title>
<link rel="stylesheet" href="/dashboard/app.css">
</head>
<body data-connection="connecting" data-updates="0">
<header>
  <h1>Shoal</h1>
  <span id="cluster-line">connecting…</span>
  <span id="connection" class="connection">connecting</span>
</header>
<main>
<section class="tiles">
  <div class="tile"><div class="label">Members alive</div><div class="value" id="tile-members">–</div></div>
  <div class="tile"><div class="label">Requests / s</div><div class="value" id="tile-ops">–</div></div>
  <div class="tile"><div class="label">Hit ratio</div><div class="value" id="tile-hit">–</div></div>
  <div class="tile"><div class="label">Latency p50</div><div class="value" id="tile-p50">–</div></div>
  <div class="tile"><div class="label">Latency p99</div><div class="value" id="tile-p99">–</div></div>
  <div class="tile"><div class="label">Memory</div><div class="value" id="tile-memory">–</div></div>
  <div class="tile"><div class="label">Hints held</div><div class="value" id="tile-hints">–</div></div>
  <div class="tile"><div class="label">Handoff</div><div class="value" id="tile-handoff">–</div></div>
</section>
<section class="charts">
  <figure><figcaption>Requests per second, by node</figcaption><svg id="chart-ops" class="chart" viewBox="0 0 420 150" role="img" aria-label="requests per second"></svg></figure>
  <figure><figcaption>Hit ratio</figcaption><svg id="chart-hit" class="chart" viewBox="0 0 420 150" role="img" aria-label="hit ratio"></svg></figure>
  <figure><figcaption>Latency p50 and p99 (ms)</figcaption><svg id="chart-latency" class="chart" viewBox="0 0 420 150" role="img" aria-label="latency"></svg></figure>
  <figure><figcaption>Memory used (store bytes)</figcaption><svg id="chart-memory" class="chart" viewBox="0 0 420 150" role="img" aria-label="memory"></svg></figure>
</section>
<section class="row">
  <div class="panel ring-panel">
    <h2>Ring <small id="ring-caption"></small></h2>
    <svg id="ring" viewBox="-110 -110 220 220" role="img" aria-label="partitions coloured by primary owner"></svg>
    <div id="ring-legend" class="legend"></div>
  </div>
  <div class="panel grow">
    <h2>Members</h2>
    <div class="scroll">
    <table id="members">
      <thead><tr><th>Node</th><th>Zone</th><th>State</th><th class="num">Req/s</th><th class="num">Hit ratio</th><th class="num">p99</th><th class="num">Memory</th><th class="num">Entries</th><th class="num">Partitions</th><th class="num">Hints</th><th>Handoff</th><th class="num">Clients</th><th class="num">Uptime</th></tr></thead>
      <tbody></tbody>
    </table>
    </div>
  </div>
</section>
<section class="row">
  <div class="panel">
    <h2>Hot keys</h2>
    <table id="hotkeys"><thead><tr><th>Key</th><th class="num" title="estimated ops/s over the last second at the key's busiest node">Ops/s</th><th>Nodes</th></tr></thead><tbody></tbody></table>
    <p id="hotkeys-empty" class="muted">No key has traffic now.</p>
  </div>
  <div class="panel grow">
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </div>
</section>
</main>
<footer id="footer" class="muted"></footer>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `:root { color-scheme: light; --bg: #f5f6f8; --panel: #fff; --ink: #1d2330; --muted: #6b7280; --line: #e3e6eb; --alive: #2e9d5b; --suspect: #e0a100; --dead: #d6453d; --left: #8a8f98; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: baseline; gap: 16px; padding: 10px 18px; background: #1d2330; color: #fff; }
header h1 { margin: 0; font-size: 18px; letter-spacing: 0.5px; }
#cluster-line { color: #c9ced8; flex: 1; }
.connection { padding: 2px 8px; border-radius: 10px; background: #555; font-size: 12px; }
body[data-connection="live"] .connection { background: var(--alive); }
body[data-connection="lost"] .connection { background: var(--dead); }
main { padding: 14px 18px; display: flex; flex-direction: column; gap: 14px; }
.tiles { display: grid; grid-template-columns: repeat(8, 1fr); gap: 10px; }
.tile, .panel, figure { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.tile { padding: 8px 12px; }
.tile .label { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: 0.4px; }
.tile .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tile .value small { font-size: 12px; font-weight: normal; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
figure { margin: 0; padding: 8px 10px 4px; }
figcaption { color: var(--muted); font-size: 12px; margin-bottom: 2px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .axis { fill: var(--muted); font-size: 10px; }
svg.chart .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
.row { display: flex; gap: 14px; align-items: flex-start; }
.panel { padding: 10px 14px; }
.panel.grow { flex: 1; min-width: 0; }
.panel h2 { margin: 0 0 8px; font-size: 14px; }
.panel h2 small { color: var(--muted); font-weight: normal; }
.ring-panel { width: 330px; }
#ring { width: 300px; height: 300px; display: block; }
#ring path.cell { stroke: #fff; stroke-width: 0.15; }
#ring path.cell.down { opacity: 0.35; }
#ring text { font-size: 9px; fill: var(--ink); text-anchor: middle; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
.num { text-align: right; }
.state { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff; font-size: 12px; }
.state-alive { background: var(--alive); }
.state-suspect { background: var(--suspect); }
.state-dead { background: var(--dead); }
.state-left, .state-unknown { background: var(--left); }
tr.unreachable td { color: var(--muted); }
/* Five members and more make the members table wider than its panel: it scrolls within the panel instead of overflowing it. */
.scroll { overflow-x: auto; }
.flag { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 9px; font-size: 12px; border: 1px solid currentColor; }
.flag-drain { color: var(--left); }
.flag-degraded { color: var(--suspect); }
#hotkeys td:first-child { max-width: 260px; overflow: hidden; text-overflow: ellipsis; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
#events { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow-y: auto; }
#events li { padding: 3px 0; border-bottom: 1px solid var(--line); }
#events time { color: var(--muted); margin-right: 8px; font-variant-numeric: tabular-nums; }
#events .kind { display: inline-block; min-width: 100px; font-size: 11px; text-transform: uppercase; color: var(--muted); }
#events li.kind-suspect .kind { color: var(--suspect); }
#events li.kind-dead .kind, #events li.kind-unreachable .kind { color: var(--dead); }
#events li.kind-join .kind, #events li.kind-alive .kind, #events li.kind-reachable .kind, #events li.kind-healthy .kind, #events li.kind-undrain .kind { color: var(--alive); }
#events li.kind-degraded .kind, #events li.kind-drain .kind { color: var(--suspect); }
#events li[class*="kind-alert"] .kind { color: var(--dead); font-weight: 600; }
.muted { color: var(--muted); }
footer { padding: 0 18px 14px; font-size: 12px; }
@media (max-width: 1100px) { .tiles { grid-template-columns: repeat(4, 1fr); } .charts { grid-template-columns: repeat(2, 1fr); } .row { flex-direction: column; } .ring-panel { width: auto; } }
`;
