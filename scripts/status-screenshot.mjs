// Regenerates docs/status-page.png: the live status page of a small service whose `inventory`
// downstream fails (its breaker open) and whose cache connection was lost and healed by a
// restart (the healing in the timeline, its trace linked into Jaeger).
//   npm run build && node scripts/status-screenshot.mjs [out.png]
// Needs Chromium at /usr/bin/chromium (CHROMIUM_PATH to change it).
import http from 'node:http';
import { fileURLToPath } from 'node:url';

for (const signal of ['TRACES', 'METRICS', 'LOGS']) process.env[`OTEL_${signal}_EXPORTER`] = 'none';
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { withSelfHealing, getSelfHealing } = await import('../dist/index.js');
const { chromium } = await import('playwright-core');

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/status-page.png', import.meta.url));

const sdk = new NodeSDK(
  withSelfHealing(
    { serviceName: 'checkout' },
    {
      // A long open interval, so the picture catches the breaker open.
      breaker: { minimumRequests: 10, windowSize: 20, resetTimeout: 60_000, maxResetTimeout: 60_000 },
      statusServer: { port: 0, jaegerUrl: 'http://localhost:16686' },
    },
  ),
);
sdk.start();
const plugin = getSelfHealing();
const url = await plugin.statusServer.ready;

/** A local downstream answering `code`. */
async function downstream(code) {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(code).end(code === 200 ? '{"ok":true}' : 'unavailable');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}
const inventory = await downstream(503);
const pricing = await downstream(200);
const payments = await downstream(200);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1180, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.waitForSelector('body[data-connection="live"]');

  // Traffic through the guarded fetch: pricing and payments answer, inventory fails until its breaker opens.
  for (let i = 0; i < 40; i++) {
    await Promise.all([inventory, pricing, payments].map((d) => fetch(d.url).then((r) => r.arrayBuffer(), () => undefined)));
    await new Promise((r) => setTimeout(r, 25));
  }

  // The cache connection is lost; health sees it, recovery restarts it.
  const cache = { connected: false };
  const check = async () => (cache.connected ? { kind: 'healthy' } : { kind: 'failed', reason: 'cache connection lost' });
  plugin.recovery.register({
    name: 'cache',
    restart: async () => {
      await new Promise((r) => setTimeout(r, 40)); // reconnecting
      cache.connected = true;
    },
    checkHealth: check,
  });
  plugin.health.addCheck('cache', check, { intervalMs: 100 });

  await page.waitForSelector('#breakers tr[data-state="open"]', { timeout: 20_000 });
  await page.waitForSelector('#recoveries li[data-outcome="recovered"] a.trace', { timeout: 20_000 });
  await page.waitForSelector('#components tr[data-component="cache"][data-status="healthy"]', { timeout: 20_000 });
  // The service itself: degraded by the open breaker, ready (the roll-up follows within a snapshot).
  await page.waitForSelector('#system[data-status="degraded"]', { timeout: 20_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out} from ${url}`);
} finally {
  await browser.close();
  for (const d of [inventory, pricing, payments]) d.server.close();
  await sdk.shutdown();
}
