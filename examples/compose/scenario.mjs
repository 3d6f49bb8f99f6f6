import { getSelfHealing, isCircuitOpenError } from 'otel-self-heal';
import { httpGet, startDownstream } from '../downstream.mjs';

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Runs the fault cycle `cycles` times (Infinity: until `signal` aborts), each `cycleSeconds` long:
 * inventory fails from 15% to 50% of the cycle (breaker opens, health goes critical, recovery
 * tries and may hand over to a person, whom the scenario plays by acknowledging once it is fixed),
 * pricing answers slowly from 60% to 65% (a latency anomaly), the cache connection is lost at 75%
 * (health check fails, a restart heals it), and a configuration change is applied at 90%.
 * Logs a line per event and a summary per cycle.
 */
export async function runScenario({ cycleSeconds = 90, cycles = Infinity, signal = new AbortController().signal, log = console.log } = {}) {
  const inventory = await startDownstream('inventory');
  const pricing = await startDownstream('pricing');
  const plugin = getSelfHealing();
  const names = new Map([
    [inventory.url, 'inventory'],
    [pricing.url, 'pricing'],
  ]);
  const nameOf = (n) => names.get(n) ?? n;
  const started = Date.now();
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  const subscriptions = [
    plugin.breakers.onStateChange((c) => log(`${stamp()}  breaker ${nameOf(c.breaker)}: ${c.from} -> ${c.to} (${c.reason})`)),
    plugin.health.onChange((c) => log(`${stamp()}  health  ${nameOf(c.component)}: ${c.from.kind} -> ${c.to.kind}`)),
    plugin.recovery.on('recovery-completed', (e) => log(`${stamp()}  recovery ${nameOf(e.outcome.component)}: ${e.outcome.outcome} after ${e.outcome.attempts.length} attempt(s)`)),
  ];

  const cache = { connected: true, reconnects: 0 };
  const checkCache = async () => (cache.connected ? { kind: 'healthy' } : { kind: 'failed', reason: 'cache connection lost' });
  plugin.health.addCheck('cache', checkCache, { intervalMs: 500 });
  const unregister = plugin.recovery.register({
    name: 'cache',
    restart: async () => {
      await new Promise((r) => setTimeout(r, 50)); // reconnecting
      cache.connected = true;
      cache.reconnects++;
    },
    checkHealth: checkCache,
  });

  const totals = { requests: 0, ok: 0, failed: 0, fastFailed: 0 };
  const count = (p) => {
    totals.requests++;
    p.then(
      (status) => totals[status >= 500 ? 'failed' : 'ok']++,
      (err) => totals[isCircuitOpenError(err) ? 'fastFailed' : 'failed']++,
    );
  };
  const load = setInterval(() => {
    count(fetch(`${inventory.url}/stock`).then((r) => r.arrayBuffer().then(() => r.status)));
    count(httpGet(`${inventory.url}/stock`));
    count(fetch(`${pricing.url}/price`).then((r) => r.arrayBuffer().then(() => r.status)));
  }, 100);

  const at = (fraction) => Math.round(cycleSeconds * 1000 * fraction);
  let resetTimeout = plugin.config.currentConfig().parameters['breaker.resetTimeout'];
  try {
    for (let cycle = 1; cycle <= cycles && !signal.aborted; cycle++) {
      const begin = Date.now();
      const until = async (fraction) => sleep(Math.max(0, begin + at(fraction) - Date.now()), signal);
      log(`${stamp()}  cycle ${cycle}: all healthy`);
      await until(0.15);
      inventory.state.failing = true;
      log(`${stamp()}  injected: inventory fails`);
      await until(0.5);
      inventory.state.failing = false;
      log(`${stamp()}  fixed: inventory answers again`);
      for (const held of plugin.recovery.stats().onHold) {
        if (plugin.recovery.acknowledge(held)) log(`${stamp()}  operator acknowledged ${nameOf(held)}`);
      }
      await until(0.6);
      pricing.state.delayMs = 150;
      log(`${stamp()}  injected: pricing answers in 150 ms`);
      await until(0.65);
      pricing.state.delayMs = 0;
      await until(0.75);
      cache.connected = false;
      log(`${stamp()}  injected: cache connection lost`);
      await until(0.9);
      resetTimeout = resetTimeout === 3000 ? 2000 : 3000;
      const applied = plugin.config.applyChange({ kind: 'update', key: 'breaker.resetTimeout', value: resetTimeout });
      log(`${stamp()}  configuration version ${applied.version}: breaker.resetTimeout = ${resetTimeout} ms`);
      await until(1);
      log(`${stamp()}  cycle ${cycle} done: ${totals.requests} requests, ${totals.ok} ok, ${totals.failed} failed, ${totals.fastFailed} failed fast; cache reconnects ${cache.reconnects}`);
    }
  } finally {
    clearInterval(load);
    unregister();
    plugin.health.removeCheck('cache');
    for (const d of subscriptions) d();
    await Promise.all(
      [inventory, pricing].map((d) => {
        const closed = new Promise((r) => d.server.close(r));
        d.server.closeAllConnections(); // keep-alive sockets would hold close() for seconds
        return closed;
      }),
    );
  }
  return { ...totals, cacheReconnects: cache.reconnects };
}
