import { afterEach, describe, expect, it, vi } from 'vitest';
import { HealthMonitor, httpCheck } from '../../src/health/index.js';
import { sleep, startDownstream, status, type Downstream } from './downstream.js';

describe('active checks in the health monitor', () => {
  let monitor: HealthMonitor | undefined;
  let down: Downstream | undefined;
  afterEach(async () => {
    monitor?.stop();
    await down?.close();
  });

  it('a failing HTTP check makes its custom component failed and the service not ready; recovery brings it back', async () => {
    down = await startDownstream(status(200));
    monitor = new HealthMonitor();
    const changes: string[] = [];
    monitor.onChange((c) => changes.push(`${c.component}:${c.to.kind}`));
    monitor.addCheck('search', httpCheck(`${down.url}health`), { intervalMs: 20, timeoutMs: 200 });
    await vi.waitFor(() => expect(down!.requests).toBeGreaterThan(2), { timeout: 5_000, interval: 10 });
    expect(monitor.component('search')?.status.kind ?? 'healthy').toBe('healthy');

    down.behave(status(500));
    const wait = { timeout: 5_000, interval: 10 };
    await vi.waitFor(() => expect(monitor!.component('search')?.status.kind).toBe('failed'), wait);
    expect(monitor.readiness()).toEqual({ ready: false, status: { kind: 'failed', reason: expect.stringContaining('search: ') } });

    down.behave(status(200));
    await vi.waitFor(() => expect(monitor!.component('search')?.status.kind).toBe('healthy'), wait);
    expect(monitor.readiness().ready).toBe(true);
    expect(changes).toEqual(['search:failed', 'search:healthy']);

    monitor.stop();
    const requests = down.requests;
    await sleep(100);
    expect(down.requests).toBe(requests); // stop() stops the check
  });
});
