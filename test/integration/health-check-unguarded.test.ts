import { afterEach, describe, expect, it } from 'vitest';
import { httpCheck } from '../../src/health/index.js';
import { cleanup, startDownstream, startPlugin, status } from './downstream.js';

describe('the built-in HTTP check', () => {
  afterEach(cleanup);

  it('reaches the component through an open breaker, and does not count toward it, even with no context manager', async () => {
    const plugin = startPlugin();
    const down = await startDownstream(status(500));
    for (let i = 0; i < 4; i++) await fetch(down.url).then((r) => r.arrayBuffer());
    const breaker = plugin.breakers.find(down.origin)!;
    expect(breaker.peekState()).toBe('open');
    const before = { requests: down.requests, failures: breaker.failures, rejections: breaker.rejections };

    down.behave(status(200));
    const check = httpCheck(`${down.url}healthz`);
    expect(await check(AbortSignal.timeout(1000))).toEqual({ kind: 'healthy' });
    expect(down.requests).toBe(before.requests + 1);
    expect({ failures: breaker.failures, rejections: breaker.rejections }).toEqual({ failures: before.failures, rejections: before.rejections });
  });
});
