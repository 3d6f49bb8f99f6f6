import http from 'node:http';
import { getGlobalDispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { SelfHealing, getSelfHealing } from '../../src/SelfHealing.js';
import { cleanup, startDownstream, status } from './downstream.js';

describe('plugin lifecycle', () => {
  afterEach(cleanup);

  it('a second instance replaces the first without stacking patches, and its shutdown restores the originals', async () => {
    const proto = http.Agent.prototype as unknown as { addRequest: unknown };
    const addRequest = proto.addRequest;
    const dispatcher = getGlobalDispatcher();
    const first = new SelfHealing({ officialInstrumentations: false });
    const second = new SelfHealing({ officialInstrumentations: false });
    expect(first.isShutdown).toBe(true);
    expect(getSelfHealing()).toBe(second);

    const down = await startDownstream(status(200));
    try {
      await fetch(down.url).then((r) => r.arrayBuffer());
      // Only the live instance sees the call.
      expect(first.breakers.size).toBe(0);
      expect(second.breakers.find(down.origin)?.successes).toBe(1);
    } finally {
      await down.close();
    }

    await second.shutdown();
    expect(getSelfHealing()).toBeUndefined();
    expect(proto.addRequest).toBe(addRequest);
    expect(getGlobalDispatcher()).toBe(dispatcher);
  });
});

describe('healthScore', () => {
  afterEach(cleanup);

  it('is 0 when all is healthy and falls with each unhealthy component, so a config change that hurts health is rolled back', async () => {
    const { startPlugin } = await import('./downstream.js');
    const plugin = startPlugin({ recovery: { enabled: false } });
    expect(plugin.healthScore()).toBe(0);
    plugin.health.report('a', { kind: 'failed', reason: 'x' });
    plugin.health.report('a', { kind: 'failed', reason: 'x' });
    plugin.health.report('b', { kind: 'degraded', reason: 'y' });
    plugin.health.report('b', { kind: 'degraded', reason: 'y' });
    expect(plugin.healthScore()).toBe(-4);
  });
});
