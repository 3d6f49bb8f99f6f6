import { getSelfHealing, isCircuitOpenError } from 'otel-self-heal';
import { httpGet, startDownstream } from './downstream.mjs';

export async function runDemo({ seconds }) {
  const inventory = await startDownstream('inventory');
  const pricing = await startDownstream('pricing');
  const names = new Map([
    [inventory.url, 'inventory'],
    [pricing.url, 'pricing'],
  ]);
  const plugin = getSelfHealing();
  const started = Date.now();
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  const transitions = [];
  plugin.breakers.onStateChange((c) =>
    transitions.push(`${elapsed()}s  breaker ${names.get(c.breaker) ?? c.breaker}: ${c.from} -> ${c.to} (${c.reason}, failure rate ${(c.failureRate * 100).toFixed(0)}%)`),
  );
  plugin.health.onChange((c) =>
    transitions.push(`${elapsed()}s  health  ${names.get(c.component) ?? c.component}: ${c.from.kind} -> ${c.to.kind}${c.to.kind === 'healthy' ? '' : ` (${c.to.reason})`}`),
  );

  const failFrom = Math.round(seconds * 0.17);
  const failUntil = Math.round(seconds * 0.6);
  const cacheBreaksAt = Math.round(seconds * 0.7);

  // A component of the service itself: a cache connection that gets lost and that a restart
  // (reconnecting) fixes. Health checks it; recovery restarts it when the check fails.
  const cache = { connected: true, reconnects: 0 };
  const checkCache = async () => (cache.connected ? { kind: 'healthy' } : { kind: 'failed', reason: 'cache connection lost' });
  plugin.health.addCheck('cache', checkCache, { intervalMs: 200 });
  plugin.recovery.register({
    name: 'cache',
    restart: async () => {
      await new Promise((r) => setTimeout(r, 50)); // reconnecting
      cache.connected = true;
      cache.reconnects++;
    },
    checkHealth: checkCache,
  });
  plugin.recovery.on('attempt-started', (e) => transitions.push(`${elapsed()}s  recovery ${names.get(e.component) ?? e.component}: ${e.strategy} (${e.failureType}: ${e.trigger.status.reason ?? e.trigger.status.kind})`));
  plugin.recovery.on('recovery-completed', (e) => {
    const o = e.outcome;
    transitions.push(`${elapsed()}s  recovery ${names.get(o.component) ?? o.component}: ${o.outcome} after ${o.attempts.map((a) => `${a.action}${a.success ? '' : ' (failed)'}`).join(', ') || 'no action'} in ${o.durationMs.toFixed(0)} ms${o.detail ? ` (${o.detail})` : ''}`);
  });
  console.log(`otel-self-heal demo: inventory at ${inventory.url} fails from ${failFrom}s to ${failUntil}s; pricing at ${pricing.url} stays healthy; the cache connection is lost at ${cacheBreaksAt}s.`);
  console.log(process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? `Exporting to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'Set OTEL_EXPORTER_OTLP_ENDPOINT to export the traces.');

  const total = { requests: 0, ok: 0, failed: 0, fastFailed: 0 };
  let second = { requests: 0, ok: 0, failed: 0, fastFailed: 0 };
  const count = (outcome) => {
    for (const c of [total, second]) {
      c.requests++;
      c[outcome]++;
    }
  };
  const call = (p) =>
    p.then(
      (status) => count(status >= 500 ? 'failed' : 'ok'),
      (err) => count(isCircuitOpenError(err) ? 'fastFailed' : 'failed'),
    );

  const pending = new Set();
  const track = (p) => {
    pending.add(p);
    p.finally(() => pending.delete(p));
  };
  const load = setInterval(() => {
    track(call(fetch(`${inventory.url}/stock`).then((r) => r.arrayBuffer().then(() => r.status))));
    track(call(httpGet(`${inventory.url}/stock`)));
    track(call(fetch(`${pricing.url}/price`).then((r) => r.arrayBuffer().then(() => r.status))));
  }, 100);

  let t = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      t++;
      inventory.state.failing = t >= failFrom && t < failUntil;
      if (t === cacheBreaksAt) {
        cache.connected = false;
        transitions.push(`${elapsed()}s  injected: cache connection lost`);
      }
      const states = plugin.breakers
        .list()
        .map((b) => `${names.get(b.name) ?? b.name}=${b.peekState()}/${plugin.health.component(b.name)?.status.kind ?? 'unknown'}`)
        .join(' ') + ` cache=${plugin.health.component('cache')?.status.kind ?? 'unknown'}`;
      console.log(
        `[${String(t).padStart(2)}s] requests ${String(second.requests).padStart(3)} | ok ${String(second.ok).padStart(3)} | failed ${String(second.failed).padStart(3)} | fast-failed ${String(second.fastFailed).padStart(3)} | ${states}${inventory.state.failing ? '   (inventory failing)' : ''}`,
      );
      second = { requests: 0, ok: 0, failed: 0, fastFailed: 0 };
      if (t >= seconds) {
        clearInterval(tick);
        resolve();
      }
    }, 1000);
  });
  clearInterval(load);
  await Promise.allSettled([...pending]);

  console.log('\nBreaker, health and recovery transitions:');
  for (const line of transitions) console.log(`  ${line}`);
  console.log(
    `\nSummary: ${total.requests} requests, ${total.ok} ok, ${total.failed} failed, ${total.fastFailed} failed fast without touching the failing downstream.`,
  );
  console.log(`Downstream hits: inventory ${inventory.state.hits}, pricing ${pricing.state.hits}. Every request settled: ${total.requests === total.ok + total.failed + total.fastFailed}.`);
  console.log(`Cache: ${cache.connected ? 'connected' : 'disconnected'} after ${cache.reconnects} automatic reconnect(s).`);
  const latency = plugin.metrics.requestAggregation('http.client.request.duration', 60_000);
  if (latency) console.log(`Client call latency (from the SDK's metrics): p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms over ${latency.count} calls.`);
  await Promise.all([inventory, pricing].map((d) => new Promise((r) => d.server.close(r))));
}
