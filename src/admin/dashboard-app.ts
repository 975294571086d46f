/**
 * The dashboard's script (served at /dashboard/app.js), embedded as a string so the compiled
 * package needs no asset files. Plain browser JavaScript with no library: it listens to /events
 * (EventSource, which reconnects by itself), keeps the last five minutes of points, and draws the
 * charts and the ring as SVG. Everything a user or a key name contributes goes into the page as
 * text (textContent), never as markup.
 */
export const DASHBOARD_APP_JS = String.raw`'use strict';
(function () {
  var SVG = 'http://www.w3.org/2000/svg';
  var WINDOW_MS = 5 * 60 * 1000;
  // Points come a second apart while sampled; further apart than this, nobody watched in between.
  var GAP_MS = 5000;
  var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#e15759', '#bab0ac'];
  var history = [];
  var updates = 0;
  var ringKey = null;
  var colors = {};

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  function fmtNum(n) {
    if (n === null || n === undefined || !isFinite(n)) return '–';
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    if (a >= 100) return Math.round(n).toString();
    if (a >= 10) return n.toFixed(1);
    return n.toFixed(a === 0 ? 0 : 2);
  }
  // Counts (entries, hints, keys) are whole: 23, not the 23.0 a rate gets; large ones shorten alike.
  function fmtCount(n) {
    if (n === null || n === undefined || !isFinite(n)) return '–';
    return Math.abs(n) >= 1e4 ? fmtNum(n) : Math.round(n).toString();
  }
  function fmtBytes(n) {
    if (n === null || n === undefined || !isFinite(n)) return '–';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(Math.round(n)) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  }
  function fmtPct(r) { return r === null || r === undefined ? '–' : (r * 100).toFixed(r >= 0.999 || r === 0 ? 0 : 1) + '%'; }
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1) return (ms * 1000).toFixed(0) + ' µs';
    if (ms < 100) return ms.toFixed(ms < 10 ? 2 : 1) + ' ms';
    return fmtNum(ms) + ' ms';
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    var s = Math.floor(ms / 1000);
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.floor(s / 60) + ' min';
    if (s < 172800) return Math.floor(s / 3600) + ' h';
    return Math.floor(s / 86400) + ' d';
  }
  function fmtTime(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }

  function colorOf(name) {
    if (!(name in colors)) colors[name] = PALETTE[Object.keys(colors).length % PALETTE.length];
    return colors[name];
  }

  /** A line chart of points over the last five minutes; series: [{name, color, value(point)}]. */
  function drawChart(node, series, options) {
    var W = 420, H = 150, L = 46, R = 8, T = 16, B = 18;
    clear(node);
    var now = history.length ? history[history.length - 1].atMs : Date.now();
    // The last five minutes, or since the first point when there is less (at least half a minute).
    var span = history.length ? Math.min(WINDOW_MS, Math.max(30000, now - history[0].atMs)) : WINDOW_MS;
    var from = now - span;
    var max = options.max || 0;
    if (!options.max) {
      history.forEach(function (p) {
        series.forEach(function (s) { var v = s.value(p); if (v !== null && v !== undefined && v > max) max = v; });
      });
      max = niceCeil(max);
    }
    var x = function (t) { return L + (W - L - R) * (t - from) / span; };
    var y = function (v) { return T + (H - T - B) * (1 - v / max); };
    for (var g = 0; g <= 2; g++) {
      var v = max * g / 2;
      node.appendChild(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      node.appendChild(svg('text', { class: 'axis', x: L - 4, y: y(v) + 3, 'text-anchor': 'end' }, options.format(v)));
    }
    node.appendChild(svg('text', { class: 'axis', x: L, y: H - 4 }, span >= WINDOW_MS ? '-5 min' : '-' + Math.round(span / 1000) + ' s'));
    node.appendChild(svg('text', { class: 'axis', x: W - R, y: H - 4, 'text-anchor': 'end' }, 'now'));
    var drawn = 0;
    series.forEach(function (s, i) {
      var d = '';
      var pen = 'M';
      var last = null;
      history.forEach(function (p) {
        if (p.atMs < from) return;
        // Points are sampled only while a page is open: a gap in time is a gap in the line, not a straight segment across it.
        if (last !== null && p.atMs - last > GAP_MS) pen = 'M';
        last = p.atMs;
        var v = s.value(p);
        if (v === null || v === undefined || !isFinite(v)) { pen = 'M'; return; }
        d += pen + x(p.atMs).toFixed(1) + ',' + y(Math.min(v, max)).toFixed(1) + ' ';
        pen = 'L';
        drawn++;
      });
      if (d) node.appendChild(svg('path', { class: 'series', d: d, stroke: s.color, 'data-series': s.name }));
      node.appendChild(svg('text', { class: 'axis', x: W - R - 70 * (series.length - 1 - i), y: 10, 'text-anchor': 'end', fill: s.color }, s.name));
    });
    node.setAttribute('data-points', String(drawn));
  }
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (v <= steps[i] * p) return steps[i] * p;
    return 10 * p;
  }

  /** The ring: one annulus sector per partition, coloured by its primary owner; built once per ring version. */
  function drawRing(snapshot) {
    var ring = snapshot.ring;
    var node = $('ring');
    var key = ring.version + '/' + ring.partitions;
    var states = {};
    snapshot.members.forEach(function (m) { states[m.name] = m.state; });
    if (key !== ringKey) {
      ringKey = key;
      clear(node);
      var n = ring.partitions;
      var R1 = 100, R0 = 64;
      for (var p = 0; p < n; p++) {
        var a0 = (p / n) * 2 * Math.PI - Math.PI / 2, a1 = ((p + 1) / n) * 2 * Math.PI - Math.PI / 2;
        var d = 'M' + (R1 * Math.cos(a0)).toFixed(2) + ',' + (R1 * Math.sin(a0)).toFixed(2) +
          ' A' + R1 + ',' + R1 + ' 0 0 1 ' + (R1 * Math.cos(a1)).toFixed(2) + ',' + (R1 * Math.sin(a1)).toFixed(2) +
          ' L' + (R0 * Math.cos(a1)).toFixed(2) + ',' + (R0 * Math.sin(a1)).toFixed(2) +
          ' A' + R0 + ',' + R0 + ' 0 0 0 ' + (R0 * Math.cos(a0)).toFixed(2) + ',' + (R0 * Math.sin(a0)).toFixed(2) + ' Z';
        var owner = ring.primaries[p] >= 0 ? ring.nodes[ring.primaries[p]] : '';
        var cell = svg('path', { class: 'cell', d: d, 'data-partition': p, 'data-owner': owner, fill: owner ? colorOf(owner) : '#ccc' });
        cell.appendChild(svg('title', null, 'partition ' + p + ': primary ' + (owner || 'none')));
        node.appendChild(cell);
      }
      node.appendChild(svg('text', { id: 'ring-count', y: -4 }, n + ' partitions'));
      node.appendChild(svg('text', { y: 9 }, ring.replicas + ' replicas each'));
      node.appendChild(svg('text', { y: 22, class: 'muted' }, 'ring ' + ring.version.slice(0, 10)));
    }
    var cells = node.querySelectorAll('path.cell');
    for (var i = 0; i < cells.length; i++) {
      var owner = cells[i].getAttribute('data-owner');
      var down = owner && states[owner] !== 'alive';
      if (cells[i].classList.contains('down') !== Boolean(down)) cells[i].classList.toggle('down');
    }
    var legend = $('ring-legend');
    clear(legend);
    var share = {};
    ring.primaries.forEach(function (i) { if (i >= 0) share[ring.nodes[i]] = (share[ring.nodes[i]] || 0) + 1; });
    ring.nodes.forEach(function (name) {
      var item = el('span', { 'data-node': name });
      var sw = el('span', { class: 'swatch' });
      sw.style.background = colorOf(name);
      item.appendChild(sw);
      var m = snapshot.members.filter(function (x) { return x.name === name; })[0];
      var moving = m && m.handoff ? m.handoff.partitionsCatchingUp + m.handoff.partitionsToHandOff : 0;
      item.appendChild(document.createTextNode(name + ' ' + (share[name] || 0) + (moving ? ' (' + moving + ' in transfer)' : '') + (states[name] && states[name] !== 'alive' ? ' – ' + states[name] : '')));
      legend.appendChild(item);
    });
    $('ring-caption').textContent = 'coloured by primary owner; faded: owner not alive';
  }

  function drawMembers(snapshot) {
    var body = $('members').tBodies[0];
    clear(body);
    snapshot.members.forEach(function (m) {
      var tr = el('tr', { 'data-node': m.name, 'data-state': m.state, 'data-reachable': String(m.reachable), 'data-drain': m.drain, 'data-degraded': String(m.degraded) });
      if (!m.reachable) tr.className = 'unreachable';
      var name = el('td');
      var sw = el('span', { class: 'swatch' });
      sw.style.background = colorOf(m.name);
      name.appendChild(sw);
      name.appendChild(document.createTextNode(m.name + (m.name === snapshot.self ? ' (this node)' : '')));
      tr.appendChild(name);
      tr.appendChild(el('td', null, m.zone || '–'));
      var st = el('td');
      st.appendChild(el('span', { class: 'state state-' + (['alive', 'suspect', 'dead', 'left'].indexOf(m.state) >= 0 ? m.state : 'unknown') }, m.state + (m.leaving ? ', leaving' : '')));
      // Drained members hold no data and degraded ones are avoided by health routing: say so beside the state.
      if (m.drain && m.drain !== 'serving') st.appendChild(el('span', { class: 'flag flag-drain' }, m.drain));
      if (m.degraded) st.appendChild(el('span', { class: 'flag flag-degraded', title: 'health score ' + (m.healthScore === null ? '?' : m.healthScore.toFixed(2)) }, 'degraded'));
      if (!m.reachable && m.state !== 'left') st.appendChild(el('span', { class: 'muted', title: m.error || '' }, ' no answer'));
      tr.appendChild(st);
      tr.appendChild(el('td', { class: 'num' }, fmtNum(m.ops)));
      tr.appendChild(el('td', { class: 'num' }, fmtPct(m.hitRatio)));
      tr.appendChild(el('td', { class: 'num' }, fmtMs(m.p99Ms)));
      tr.appendChild(el('td', { class: 'num' }, m.memory ? fmtBytes(m.memory.bytes) + ' / ' + fmtBytes(m.memory.maxMemory) : '–'));
      tr.appendChild(el('td', { class: 'num' }, m.memory ? fmtCount(m.memory.entries) : '–'));
      tr.appendChild(el('td', { class: 'num' }, m.partitionsOwned + ' (' + m.primaries + ' primary)'));
      tr.appendChild(el('td', { class: 'num' }, m.hints ? fmtCount(m.hints.held) : '–'));
      var h = m.handoff;
      tr.appendChild(el('td', null, h ? (h.partitionsCatchingUp || h.partitionsToHandOff ? h.partitionsCatchingUp + ' catching up, ' + h.partitionsToHandOff + ' to hand off' : 'idle') + (h.keysHandedOff ? ' (' + fmtCount(h.keysHandedOff) + ' keys handed off)' : '') : '–'));
      tr.appendChild(el('td', { class: 'num' }, m.clientConnections === null ? '–' : m.clientConnections));
      tr.appendChild(el('td', { class: 'num' }, fmtDuration(m.uptimeMs)));
      body.appendChild(tr);
    });
  }

  function drawHotKeys(snapshot) {
    var body = $('hotkeys').tBodies[0];
    clear(body);
    snapshot.hotKeys.forEach(function (k) {
      var tr = el('tr');
      tr.appendChild(el('td', { title: k.key }, k.key));
      tr.appendChild(el('td', { class: 'num' }, fmtNum(k.rate)));
      tr.appendChild(el('td', null, k.nodes.join(', ')));
      body.appendChild(tr);
    });
    $('hotkeys-empty').style.display = snapshot.hotKeys.length ? 'none' : '';
  }

  function drawEvents(snapshot) {
    var list = $('events');
    clear(list);
    snapshot.events.forEach(function (e) {
      var li = el('li', { class: 'kind-' + e.kind.replace(/[^a-z-]/g, '-'), 'data-kind': e.kind });
      li.appendChild(el('time', null, fmtTime(e.atMs)));
      li.appendChild(el('span', { class: 'kind' }, e.kind));
      li.appendChild(document.createTextNode(e.message));
      list.appendChild(li);
    });
  }

  function render(snapshot) {
    var c = snapshot.cluster;
    var p = snapshot.point;
    $('cluster-line').textContent = 'served by ' + snapshot.self + ' · ' + c.members + ' members · ring ' + snapshot.ring.version.slice(0, 10) + ' · ' + snapshot.ring.partitions + ' partitions × ' + snapshot.ring.replicas;
    $('tile-members').textContent = c.alive + ' / ' + c.members;
    $('tile-ops').textContent = fmtNum(p.ops);
    $('tile-hit').textContent = fmtPct(p.hitRatio);
    $('tile-p50').textContent = snapshot.latencyMeasured ? fmtMs(p.p50Ms) : 'n/a';
    $('tile-p99').textContent = snapshot.latencyMeasured ? fmtMs(p.p99Ms) : 'n/a';
    $('tile-memory').textContent = fmtBytes(c.memory.bytes);
    $('tile-memory').appendChild(el('small', null, ' of ' + fmtBytes(c.memory.maxMemory)));
    $('tile-hints').textContent = fmtCount(c.hints.held);
    var h = c.handoff;
    $('tile-handoff').textContent = h.partitionsCatchingUp || h.partitionsToHandOff ? (h.partitionsCatchingUp + h.partitionsToHandOff) + ' parts' : 'idle';
    document.body.setAttribute('data-ops', String(p.ops));
    document.body.setAttribute('data-alive', String(c.alive));

    var names = snapshot.ring.nodes.slice();
    snapshot.members.forEach(function (m) { if (names.indexOf(m.name) < 0) names.push(m.name); });
    names.forEach(colorOf);
    drawChart($('chart-ops'), [{ name: 'total', color: '#1d2330', value: function (q) { return q.ops; } }].concat(names.map(function (n) {
      return { name: n, color: colorOf(n), value: function (q) { return q.nodeOps[n] === undefined ? null : q.nodeOps[n]; } };
    })), { format: fmtNum });
    drawChart($('chart-hit'), [{ name: 'hit ratio', color: '#2e9d5b', value: function (q) { return q.hitRatio; } }], { max: 1, format: fmtPct });
    drawChart($('chart-latency'), [
      { name: 'p50', color: '#4e79a7', value: function (q) { return q.p50Ms; } },
      { name: 'p99', color: '#e15759', value: function (q) { return q.p99Ms; } },
    ], { format: function (v) { return v.toFixed(v < 1 ? 2 : v < 10 ? 1 : 0); } });
    drawChart($('chart-memory'), [{ name: 'bytes', color: '#b07aa1', value: function (q) { return q.memoryBytes; } }], { format: fmtBytes });
    drawRing(snapshot);
    drawMembers(snapshot);
    drawHotKeys(snapshot);
    drawEvents(snapshot);
    $('footer').textContent = 'Updated ' + fmtTime(snapshot.atMs) + ' from ' + snapshot.self + (snapshot.latencyMeasured ? '' : ' · latency is not measured on this node') + ' · no data leaves this page: it reads only /events of this node.';
    updates++;
    document.body.setAttribute('data-updates', String(updates));
  }

  function connect() {
    var source = new EventSource('/events');
    source.onopen = function () {
      document.body.setAttribute('data-connection', 'live');
      $('connection').textContent = 'live';
    };
    source.onerror = function () {
      document.body.setAttribute('data-connection', 'lost');
      $('connection').textContent = 'reconnecting';
    };
    source.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.history) history = message.history;
      else history.push(message.point);
      var cut = message.point.atMs - WINDOW_MS;
      while (history.length && history[0].atMs < cut) history.shift();
      render(message);
    };
  }
  connect();
})();
`;
