import http from 'node:http';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SelfHealing } from '../../src/SelfHealing.js';
import { cleanup, startDownstream, startPlugin, status, type Downstream } from '../integration/downstream.js';

// The status page in a real headless Chromium, against a real plugin whose guarded node:http
// calls (in this process) go to a real local downstream that fails and recovers. Every change
// must reach the page through its event stream: the page is never reloaded.
const TOKEN = 'e2e-status-token-0123456789abcdef';
const JAEGER = 'http://jaeger.example:16686';
const BREAKER = { resetTimeout: 1_000, backoffMultiplier: 1, jitter: 0 };

let browser: Browser;
const teardown: Array<() => unknown> = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(() => browser?.close());
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t();
  await cleanup();
});

/** Calls `d` through the guarded node:http every 50 ms until the test ends. */
function traffic(d: Downstream): void {
  let on = true;
  const once = () =>
    new Promise<void>((resolve) => {
      http
        .get(d.url, (res) => res.resume().on('end', resolve))
        .on('error', () => resolve())
        .setTimeout(2_000, function (this: http.ClientRequest) {
          this.destroy();
        });
    });
  void (async () => {
    while (on) {
      await once();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  teardown.push(() => void (on = false));
}

async function start(port = 0): Promise<{ plugin: SelfHealing; url: string; spans: InMemorySpanExporter }> {
  const plugin = startPlugin({ breaker: BREAKER, statusServer: { port, token: TOKEN, jaegerUrl: JAEGER } });
  const spans = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  for (const i of plugin.instrumentations) i.setTracerProvider(provider);
  teardown.push(() => provider.shutdown());
  const url = await plugin.statusServer!.ready;
  expect(url).toBeDefined();
  return { plugin, url: url!, spans };
}

/** Script errors and CSP refusals the page met: its inline script and style must pass its own policy. */
const problems = new WeakMap<Page, string[]>();

async function open(url: string): Promise<Page> {
  const context = await browser.newContext();
  teardown.push(() => context.close());
  const page = await context.newPage();
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('pageerror', (e) => seen.push(e.message));
  page.on('console', (m) => /Content.Security.Policy|Refused to/i.test(m.text()) && seen.push(m.text()));
  await page.goto(`${url}?token=${TOKEN}`, { waitUntil: 'domcontentloaded', timeout: 30_000 });
  // The token traded for a cookie, and out of the address bar.
  expect(page.url()).toBe(url);
  await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
  await page.waitForSelector('body[data-connection="live"]', { timeout: 15_000 });
  return page;
}

const row = (origin: string, state: string) => `#breakers tr[data-breaker="${origin}"][data-state="${state}"]`;
const stillSamePage = (page: Page) => page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce === true);

describe('status page in Chromium', { timeout: 60_000 }, () => {
  it('shows a failing downstream trip its breaker open and close again, and a healing with its trace, without a reload', async () => {
    const down = await startDownstream(status(500));
    const { plugin, url, spans } = await start();
    const page = await open(url);
    traffic(down);

    await page.waitForSelector(row(down.origin, 'open'), { timeout: 20_000 });
    const rate = await page.textContent(`${row(down.origin, 'open')} .rate`);
    expect(Number(rate!.replace('%', ''))).toBeGreaterThanOrEqual(50);
    expect(await page.textContent(`${row(down.origin, 'open')} .badge`)).toBe('open');

    down.behave(status(200));
    await page.waitForSelector(row(down.origin, 'closed'), { timeout: 20_000 });
    expect(await page.textContent(`${row(down.origin, 'closed')} .badge`)).toBe('closed');

    // A component of the service loses its connection; recovery restarts it.
    const cache = { connected: false };
    const check = async () => (cache.connected ? ({ kind: 'healthy' } as const) : ({ kind: 'failed', reason: 'cache connection lost' } as const));
    plugin.recovery.register({ name: 'cache', restart: async () => void (cache.connected = true), checkHealth: check });
    plugin.health.addCheck('cache', check, { intervalMs: 100 });
    const link = await page.waitForSelector('#recoveries li[data-outcome="recovered"] a.trace', { timeout: 20_000 });
    const traceId = spans.getFinishedSpans().find((s) => s.name === 'selfheal.recovery')!.spanContext().traceId;
    expect(await link.getAttribute('href')).toBe(`${JAEGER}/trace/${traceId}`);
    expect(await link.textContent()).toBe(traceId);
    expect(await page.textContent('#recoveries li[data-outcome="recovered"]')).toContain('failed: cache connection lost');
    await page.waitForSelector('#components tr[data-component="cache"][data-status="healthy"]', { timeout: 20_000 });

    expect(await stillSamePage(page)).toBe(true);
    expect(problems.get(page)).toEqual([]);
  });

  it('renders a hostile breaker name as text, runs none of it', async () => {
    const { plugin, url } = await start();
    const name = 'http://x/"><img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    plugin.breakers.get(name).forceOpen();
    const page = await open(url);
    const cell = page.locator('#breakers tr[data-state="open"] td.name');
    await expect.poll(() => cell.textContent(), { timeout: 15_000 }).toBe(name);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(problems.get(page)).toEqual([]);
  });

  it('reconnects by itself when the stream drops, and follows the service that answers next', async () => {
    const first = await start();
    const page = await open(first.url);
    const port = Number(new URL(first.url).port);
    await first.plugin.shutdown(); // the service restarts: the stream drops, the port is free a moment
    await page.waitForSelector('body[data-connection="reconnecting"]', { timeout: 15_000 });

    await cleanup();
    const second = await start(port);
    second.plugin.breakers.get('http://after-restart:8080').forceOpen();
    await page.waitForSelector(row('http://after-restart:8080', 'open'), { timeout: 30_000 });
    await page.waitForSelector('body[data-connection="live"]', { timeout: 15_000 });
    expect(await stillSamePage(page)).toBe(true);
  });
});
