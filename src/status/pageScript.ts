// The status page's script, inlined into the page (its CSP allows exactly this text by hash).
// Plain ES2017 for any current browser, no framework. Every name reaches the DOM as text
// (textContent), never as markup: breaker names come from user traffic.
export const PAGE_SCRIPT = `
'use strict';
var state = JSON.parse(document.getElementById('initial-status').textContent);
var ORDER = { open: 0, 'half-open': 1, closed: 2, failed: 0, critical: 1, degraded: 2, healthy: 3 };
var lastMessage = Date.now();
var source = null;
var backoff = 1000;
var reconnectTimer = null;

function $(id) { return document.getElementById(id); }
function el(tag, attrs, children) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
  (children || []).forEach(function (c) {
    if (c === null || c === undefined) return;
    e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  });
  return e;
}
function badge(value) { return el('span', { class: 'badge b-' + value }, [value]); }
function pct(x) { return x === undefined || x === null ? '' : (x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0) + '%'; }
function ms(x) { return x === undefined || x === null ? '' : x < 1000 ? Math.round(x) + ' ms' : (x / 1000).toFixed(1) + ' s'; }
function clock(t) { return new Date(t).toTimeString().slice(0, 8); }
function byName(a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; }
function replaceRows(tbody, rows, empty, cols) {
  tbody.replaceChildren.apply(tbody, rows.length ? rows : [el('tr', {}, [el('td', { colspan: cols, class: 'empty' }, [empty])])]);
}
function retryText(b) {
  if (b.state !== 'open') return '';
  if (b.retryAt === null) return 'held open';
  var s = (b.retryAt - Date.now()) / 1000;
  return s > 0 ? 'probes in ' + s.toFixed(1) + ' s' : 'probes at next call';
}
function bar(rate) {
  var fill = el('span', { class: 'fill' + (rate >= 0.5 ? ' hot' : '') });
  fill.style.width = Math.min(100, Math.round(rate * 100)) + '%';
  return el('span', { class: 'bar' }, [fill]);
}

function renderSystem() {
  var s = state.system;
  $('system').replaceChildren(el('span', { class: 'muted' }, ['service ']), badge(s.status), s.reason ? el('span', { class: 'reason' }, [s.reason]) : '');
  $('ready').textContent = s.ready ? 'ready' : 'not ready';
  $('ready').setAttribute('class', 'badge ' + (s.ready ? 'b-healthy' : 'b-failed'));
  $('system').setAttribute('data-status', s.status);
  $('updated').textContent = 'updated ' + clock(state.timestamp);
}
function renderBreakers() {
  var rows = state.breakers.map(function (b) {
    return el('tr', { 'data-breaker': b.name, 'data-state': b.state }, [
      el('td', { class: 'name' }, [b.name]),
      el('td', {}, [badge(b.state)]),
      el('td', { class: 'num' }, [bar(b.failureRate), ' ', el('span', { class: 'rate' }, [pct(b.failureRate)])]),
      el('td', { class: 'num' }, [b.calls]),
      el('td', { class: 'num muted' }, [b.successes + ' / ' + b.failures + ' / ' + b.rejections]),
      el('td', { class: 'retry muted' }, [retryText(b)]),
    ]);
  });
  replaceRows($('breakers'), rows, 'No breaker yet: one appears with the first guarded call to a destination.', 6);
  $('breakers-more').textContent = state.breakersTotal > state.breakers.length ? 'showing ' + state.breakers.length + ' of ' + state.breakersTotal + ', open first' : '';
}
function renderComponents() {
  var rows = state.components.map(function (c) {
    return el('tr', { 'data-component': c.name, 'data-status': c.status }, [
      el('td', { class: 'name' }, [c.name]),
      el('td', { class: 'muted' }, [c.kind]),
      el('td', {}, [badge(c.status)]),
      el('td', { class: 'num' }, [pct(c.errorRate)]),
      el('td', { class: 'num' }, [ms(c.responseTime)]),
      el('td', { class: 'reason' }, [c.reason || '']),
    ]);
  });
  replaceRows($('components'), rows, 'No component judged yet.', 6);
  $('components-more').textContent = state.componentsTotal > state.components.length ? 'showing ' + state.components.length + ' of ' + state.componentsTotal + ', worst first' : '';
}
function traceCell(r) {
  if (!r.traceId || !/^[0-9a-f]{32}$/.test(r.traceId)) return el('span', { class: 'muted' }, ['no trace']);
  if (state.jaegerUrl && r.sampled) return el('a', { class: 'trace', href: state.jaegerUrl + '/trace/' + r.traceId, target: '_blank', rel: 'noopener noreferrer' }, [r.traceId]);
  return el('code', { class: 'trace', title: r.sampled ? '' : 'not sampled' }, [r.traceId]);
}
function renderRecoveries() {
  var items = state.recoveries.map(function (r) {
    var steps = r.attempts.map(function (a) { return a.strategy + (a.success ? ' \\u2713' : a.rolledBack ? ' (rolled back)' : ' \\u2717'); }).join(', ');
    return el('li', { 'data-recovery': r.id, 'data-outcome': r.outcome }, [
      el('span', { class: 'when muted' }, [clock(r.startedAt)]),
      el('span', { class: 'name' }, [r.component]), ' ',
      badge(r.outcome),
      el('div', { class: 'detail' }, [r.cause, steps ? ' \\u2192 ' + steps : '', r.durationMs !== undefined ? ' in ' + ms(r.durationMs) : '', r.detail ? ' (' + r.detail + ')' : '']),
      el('div', { class: 'detail' }, ['trace ', traceCell(r)]),
    ]);
  });
  $('recoveries').replaceChildren.apply($('recoveries'), items.length ? items : [el('li', { class: 'empty' }, ['No recovery yet.'])]);
}
function renderConfig() {
  var c = state.config;
  $('config-version').textContent = 'version ' + c.version + ' (' + c.source + ')';
  replaceRows($('config'), Object.keys(c.parameters).map(function (k) { return el('tr', {}, [el('td', { class: 'name' }, [k]), el('td', {}, [String(c.parameters[k])])]); }), 'No parameter.', 2);
  $('optimizer').textContent = state.optimizer.running ? 'running' : 'not running';
}
function renderAll() { renderSystem(); renderBreakers(); renderComponents(); renderRecoveries(); renderConfig(); }

function upsert(list, item, key, order) {
  var i = list.findIndex(function (x) { return x[key] === item[key]; });
  if (i >= 0) list[i] = item; else list.push(item);
  if (order) list.sort(order);
}
var handlers = {
  snapshot: function (d) { state = d; renderAll(); },
  breaker: function (d) {
    if (d.breaker) upsert(state.breakers, d.breaker, 'name', function (a, b) { return ORDER[a.state] - ORDER[b.state] || byName(a, b); });
    renderBreakers();
  },
  health: function (d) {
    if (d.component) upsert(state.components, d.component, 'name', function (a, b) { return ORDER[a.status] - ORDER[b.status] || byName(a, b); });
    if (d.system) state.system = d.system;
    renderComponents(); renderSystem();
  },
  recovery: function (d) {
    var i = state.recoveries.findIndex(function (r) { return r.id === d.id; });
    if (i >= 0) state.recoveries[i] = d; else state.recoveries.unshift(d);
    renderRecoveries();
  },
  config: function (d) { state.config = d; renderConfig(); },
};

var CONNECTION_TEXT = { live: 'live', reconnecting: 'reconnecting\\u2026', unauthorized: 'not authorized: open this page with ?token=<token>' };
function setConnection(state) {
  document.body.setAttribute('data-connection', state);
  $('connection').textContent = CONNECTION_TEXT[state];
}
function connect() {
  reconnectTimer = null;
  if (source) source.close();
  source = new EventSource('api/events');
  source.onopen = function () { backoff = 1000; lastMessage = Date.now(); setConnection('live'); };
  source.onerror = function () {
    if (document.body.getAttribute('data-connection') !== 'unauthorized') setConnection('reconnecting');
    if (source.readyState !== 2) return; // the browser retries by itself
    // CLOSED: the server answered with an error (restarted with another token?); try again ourselves.
    later();
    fetch('api/status', { cache: 'no-store' }).then(function (r) { if (r.status === 401) setConnection('unauthorized'); }, function () {});
  };
  Object.keys(handlers).forEach(function (name) {
    source.addEventListener(name, function (e) {
      lastMessage = Date.now();
      try { handlers[name](JSON.parse(e.data)); } catch (err) { console.error(err); }
    });
  });
}
function later() {
  if (source) source.close();
  if (reconnectTimer) return;
  reconnectTimer = setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 15000);
}
setInterval(function () {
  // Snapshots come every 2 s: a silent stream is a dead one (a dropped connection nobody closed).
  if (Date.now() - lastMessage > 7000 && !reconnectTimer) { setConnection('reconnecting'); later(); }
  var cells = document.querySelectorAll('#breakers tr[data-state="open"] td.retry');
  cells.forEach(function (td) {
    var b = state.breakers.find(function (x) { return x.name === td.parentNode.getAttribute('data-breaker'); });
    if (b) td.textContent = retryText(b);
  });
}, 1000);

renderAll();
setConnection('reconnecting');
connect();
`;
