import { describe, expect, it } from 'vitest';
import { REJECTED } from '../../src/breaker/index.js';
import { failTimes, makeBreaker } from './breaker-helpers.js';

describe('half-open probes that never answer', () => {
  it('count as failed once slowCallDurationThreshold has passed, so the breaker cannot stay half-open for good', () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 2, halfOpenSuccessThreshold: 1, slowCallDurationThreshold: 5_000 });
    failTimes(breaker, 2);
    clock.advance(1_000);
    const probes = [breaker.tryAcquire(), breaker.tryAcquire()];
    expect(probes).not.toContain(REJECTED);
    expect(breaker.state).toBe('half-open');
    const reasons: string[] = [];
    breaker.onStateChange((c) => reasons.push(`${c.from}->${c.to}:${c.reason}`));

    clock.advance(4_999);
    expect(breaker.tryAcquire()).toBe(REJECTED);
    expect(breaker.state).toBe('half-open');

    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(REJECTED);
    expect(reasons).toEqual(['half-open->open:probes-timed-out']);
    // The hung probes answering late decide nothing.
    for (const p of probes) breaker.recordSuccess(p);
    expect(breaker.state).toBe('open');
    // Back off, then probe again as usual.
    clock.advance(2_000);
    expect(breaker.tryAcquire()).not.toBe(REJECTED);
    expect(breaker.state).toBe('half-open');
  });

  it('forceOpen() from a listener during the move to half-open refuses the call that triggered it', () => {
    const { breaker, clock } = makeBreaker();
    failTimes(breaker, 2);
    breaker.onStateChange((c) => {
      if (c.to === 'half-open') breaker.forceOpen();
    });
    clock.advance(1_000);
    expect(breaker.tryAcquire()).toBe(REJECTED);
    expect(breaker.state).toBe('open');
  });

  it('forceOpen() on an open breaker refreshes the cached error, which then carries no retry time', async () => {
    const { breaker } = makeBreaker();
    failTimes(breaker, 2);
    const first = (await breaker.call(async () => 1).catch((e: unknown) => e)) as { retryAt?: number };
    expect(first.retryAt).toBeTypeOf('number');
    breaker.forceOpen();
    const second = (await breaker.call(async () => 1).catch((e: unknown) => e)) as { retryAt?: number };
    expect(second).not.toBe(first);
    expect(second.retryAt).toBeUndefined();
  });
});
