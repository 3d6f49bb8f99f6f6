import { describe, expect, it } from 'vitest';
import { CircuitBreakerRegistry, REJECTED, resolveBreakerOptions } from '../../src/breaker/index.js';
import { failTimes, fakeClock, makeBreaker, succeedTimes } from './breaker-helpers.js';

describe('breaker edge cases', () => {
  it('forceOpen() on an open breaker holds it open without an open -> open event', () => {
    const { breaker, clock } = makeBreaker();
    failTimes(breaker, 2);
    const events: string[] = [];
    breaker.onStateChange((c) => events.push(`${c.from}->${c.to}`));
    breaker.forceOpen();
    clock.advance(10 * 60_000);
    expect(breaker.tryAcquire()).toBe(REJECTED);
    expect(breaker.state).toBe('open');
    expect(events).toEqual([]);
  });

  it('reset() while closed discards the outcomes of calls admitted before it', () => {
    const { breaker } = makeBreaker({ minimumRequests: 2 });
    const before = [breaker.tryAcquire(), breaker.tryAcquire()];
    breaker.reset();
    for (const p of before) breaker.recordFailure(p);
    expect(breaker.windowCalls).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it('execute() on an open breaker reuses one CircuitOpenError per open interval', async () => {
    const { breaker } = makeBreaker();
    failTimes(breaker, 2);
    const a = await breaker.execute(async () => 1);
    const b = await breaker.execute(async () => 1);
    expect(a.kind).toBe('circuit-open');
    expect(a.kind === 'circuit-open' && b.kind === 'circuit-open' && a.error === b.error).toBe(true);
    await expect(breaker.call(async () => 1)).rejects.toBe(a.kind === 'circuit-open' ? a.error : undefined);
  });

  it('eviction at the cap does not move open breakers to half-open', () => {
    const clock = fakeClock();
    const registry = new CircuitBreakerRegistry({
      maxBreakers: 2,
      defaults: { minimumRequests: 2, windowSize: 10, resetTimeout: 1000, jitter: 0 },
      clock,
    });
    const open = registry.get('a');
    failTimes(open, 2);
    registry.get('b');
    const events: string[] = [];
    registry.onStateChange((c) => events.push(`${c.breaker}:${c.from}->${c.to}`));
    clock.advance(5000); // past a's reset timeout: reading a.state would move it
    registry.get('c');
    expect(events).toEqual([]);
    expect(registry.find('a')).toBe(open);
    succeedTimes(registry.get('c'), 1);
  });

  it('names NaN and Infinity as such in config errors', () => {
    expect(() => resolveBreakerOptions({ resetTimeout: Infinity })).toThrow(/breaker\.resetTimeout .*got Infinity/);
    expect(() => resolveBreakerOptions({ failureThreshold: NaN })).toThrow(/got NaN/);
  });
});
