import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './pageScript.js';
import { jsonForHtml } from './redact.js';

const PAGE_STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5; --bad: #cf222e; --bad-bg: #ffebe9; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; }
header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 32px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin-top: 16px; padding: 12px 16px; }
h2 { font-size: 15px; margin: 0 0 8px; }
h2 small { font-weight: normal; color: var(--muted); margin-left: 8px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 5px 8px; border-top: 1px solid #eaeef2; vertical-align: middle; }
th { font-weight: 600; color: var(--muted); font-size: 12px; border-top: 0; white-space: nowrap; }
th:first-child { width: 30%; }
td.num { white-space: nowrap; }
.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.muted { color: var(--muted); }
.reason { color: var(--muted); margin-left: 6px; }
.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eaeef2; }
.b-closed, .b-healthy, .b-recovered { color: var(--ok); background: var(--ok-bg); }
.b-half-open, .b-degraded, .b-running, .b-skipped, .b-cancelled { color: var(--warn); background: var(--warn-bg); }
.b-open, .b-critical, .b-failed, .b-escalated, .b-manual-intervention { color: var(--bad); background: var(--bad-bg); }
.bar { display: inline-block; width: 70px; height: 8px; background: #eaeef2; border-radius: 4px; overflow: hidden; vertical-align: middle; }
.fill { display: block; height: 100%; background: #8c959f; }
.fill.hot { background: var(--bad); }
#connection { font-size: 12px; padding: 1px 8px; border-radius: 10px; color: var(--warn); background: var(--warn-bg); }
body[data-connection="live"] #connection { color: var(--ok); background: var(--ok-bg); }
body[data-connection="unauthorized"] #connection { color: var(--bad); background: var(--bad-bg); }
ol { list-style: none; margin: 0; padding: 0; }
ol li { padding: 7px 0; border-top: 1px solid #eaeef2; }
ol li:first-child { border-top: 0; }
.when { display: inline-block; width: 72px; }
.detail { margin-left: 72px; color: var(--muted); }
.trace { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
details summary { cursor: pointer; }
footer { color: var(--muted); font-size: 12px; margin-top: 16px; }
`;

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The page's Content-Security-Policy: its one inline script and one inline style, by hash;
 * connections to its own origin only (the event stream); nothing else loads, and no site may
 * frame it.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(PAGE_SCRIPT)}`,
  `style-src ${hash(PAGE_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The status page: the snapshot it starts from, as inert JSON (escaped so nothing in a name can
 * end the element), and the script that renders it and follows `/api/events`.
 */
export function renderPage(snapshot: unknown): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>otel-self-heal status</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body data-connection="reconnecting">
<header>
<h1>otel-self-heal</h1>
<span id="system" data-status=""></span>
<span id="ready"></span>
<span id="connection">connecting</span>
<span id="updated" class="muted"></span>
</header>
<main>
<section>
<h2>Circuit breakers <small id="breakers-more"></small></h2>
<table><thead><tr><th>destination</th><th>state</th><th>failure rate</th><th>calls in window</th><th>ok / failed / refused</th><th></th></tr></thead>
<tbody id="breakers"></tbody></table>
</section>
<section>
<h2>Component health <small id="components-more"></small></h2>
<table><thead><tr><th>component</th><th>kind</th><th>status</th><th>error rate</th><th>p95</th><th>reason</th></tr></thead>
<tbody id="components"></tbody></table>
</section>
<section>
<h2>Recent healings</h2>
<ol id="recoveries"></ol>
</section>
<section>
<details><summary><strong>Configuration</strong> <small id="config-version" class="muted"></small></summary>
<table><tbody id="config"></tbody></table>
</details>
<p class="muted">Optimizer: <span id="optimizer"></span></p>
</section>
<footer>Live from the service's own breakers, health monitor and recovery manager; sensitive configuration values are never shown.</footer>
</main>
<script id="initial-status" type="application/json">${jsonForHtml(snapshot)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
