import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, CircuitOpenError, REJECTED, type StateChange } from '../../src/breaker/index.js';
import {
  failOnce,
  failTimes,
  failingAfter,
  fakeClock,
  makeBreaker,
  succeedOnce,
  succeedTimes,
  succeedingAfter,
  trip,
} from './breaker-helpers.js';

describe('closed → open on the failure rate', () => {
  it('stays closed while the window holds fewer than minimumRequests calls, even if all failed', () => {
    const { breaker } = makeBreaker({ minimumRequests: 5 });
    failTimes(breaker, 4);
    expect(breaker.failureRate).toBe(1);
    expect(breaker.state).toBe('closed');
    failOnce(breaker);
    expect(breaker.state).toBe('open');
  });

  it('opens when the failure rate reaches the threshold exactly once minimumRequests calls are in the window', () => {
    const { breaker } = makeBreaker({ minimumRequests: 4, failureThreshold: 0.5 });
    succeedTimes(breaker, 2);
    failOnce(breaker);
    expect(breaker.state).toBe('closed'); // 3 calls: below the minimum
    failOnce(breaker); // 2 of 4 = 0.5
    expect(breaker.state).toBe('open');
  });

  it('stays closed while the failure rate is below the threshold', () => {
    const { breaker } = makeBreaker({ minimumRequests: 4, failureThreshold: 0.5 });
    succeedTimes(breaker, 3);
    failOnce(breaker); // 0.25
    succeedOnce(breaker);
    failOnce(breaker); // 2 of 6
    expect(breaker.failureRate).toBeCloseTo(2 / 6);
    expect(breaker.state).toBe('closed');
  });

  it('opens when the minimum is reached by a success while the failure rate is already at the threshold', () => {
    const { breaker } = makeBreaker({ minimumRequests: 4, failureThreshold: 0.5 });
    failTimes(breaker, 3);
    succeedOnce(breaker); // 3 of 4
    expect(breaker.state).toBe('open');
  });

  it('opens at a failure rate equal to a threshold that is not exact in binary (7 of 25 at 0.28)', () => {
    // 0.28 * 25 is 7.000000000000001 in floating point; the rate 7/25 is 0.28.
    const { breaker } = makeBreaker({ windowSize: 25, minimumRequests: 25, failureThreshold: 0.28 });
    succeedTimes(breaker, 18);
    failTimes(breaker, 7);
    expect(breaker.failureRate).toBe(0.28);
    expect(breaker.state).toBe('open');
  });

  it('reports the failure rate that tripped it in the state-change event', () => {
    const { breaker } = makeBreaker({ minimumRequests: 4 });
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    succeedOnce(breaker);
    failTimes(breaker, 3);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: 'closed', to: 'open', reason: 'failure-rate', failureRate: 0.75 });
  });
});

describe('closed → open on the slow-call rate', () => {
  const slowRule = { minimumRequests: 4, slowCallRateThreshold: 0.5, slowCallDurationThreshold: 1_000 };

  it('opens when the share of calls at least slowCallDurationThreshold long (by the breaker clock) reaches the threshold', async () => {
    const { breaker, clock } = makeBreaker<string>(slowRule);
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    await breaker.call(succeedingAfter(clock, 10, 'fast'));
    await breaker.call(succeedingAfter(clock, 999, 'fast'));
    await breaker.call(succeedingAfter(clock, 1_000, 'slow'));
    expect(breaker.state).toBe('closed');
    await breaker.call(succeedingAfter(clock, 5_000, 'slow'));
    expect(breaker.slowCallRate).toBe(0.5);
    expect(breaker.state).toBe('open');
    expect(changes[0]).toMatchObject({ reason: 'slow-call-rate', slowCallRate: 0.5, failureRate: 0 });
  });

  it('opens on the slow-call rate once minimumRequests is reached, also when the call that reaches it is fast', async () => {
    const { breaker, clock } = makeBreaker<string>(slowRule);
    for (let i = 0; i < 3; i++) await breaker.call(succeedingAfter(clock, 2_000, 'slow'));
    expect(breaker.state).toBe('closed'); // 3 calls: below the minimum
    await breaker.call(succeedingAfter(clock, 1, 'fast')); // 3 of 4 slow
    expect(breaker.slowCallRate).toBe(0.75);
    expect(breaker.state).toBe('open');
  });

  it('counts a slow call that failed toward both rates', async () => {
    const { breaker, clock } = makeBreaker<string>({ ...slowRule, failureThreshold: 1 });
    await breaker.call(failingAfter(clock, 2_000)).catch(() => {});
    expect(breaker.failureRate).toBe(1);
    expect(breaker.slowCallRate).toBe(1);
  });

  it('ignores durations while the slow-call rule is off (slowCallRateThreshold 1)', async () => {
    const { breaker, clock } = makeBreaker<string>({ minimumRequests: 2, slowCallDurationThreshold: 1 });
    for (let i = 0; i < 5; i++) await breaker.call(succeedingAfter(clock, 60_000, 'slow'));
    expect(breaker.slowCallRate).toBe(0);
    expect(breaker.state).toBe('closed');
  });
});

describe('open', () => {
  it('rejects with CircuitOpenError (code ECIRCUITOPEN, the breaker name) without running fn', async () => {
    const { breaker } = makeBreaker();
    trip(breaker);
    const fn = vi.fn(async () => 'ran');
    const err = await breaker.call(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toMatchObject({ code: 'ECIRCUITOPEN', breaker: 'svc', state: 'open', retryAt: breaker.retryAt });
    expect(breaker.tryAcquire()).toBe(REJECTED);
  });

  it('moves to half-open only once resetTimeout has passed', () => {
    const { breaker, clock } = makeBreaker({ resetTimeout: 1_000 });
    trip(breaker);
    expect(breaker.retryAt).toBe(clock.t + 1_000);
    clock.advance(999);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(REJECTED);
    clock.advance(1);
    expect(breaker.tryAcquire()).not.toBe(REJECTED);
    expect(breaker.state).toBe('half-open');
  });

  it('moves to half-open by a clock check when asked, with no timer', () => {
    vi.useFakeTimers();
    try {
      const clock = fakeClock();
      const breaker = new CircuitBreaker('svc', { minimumRequests: 2, resetTimeout: 1_000, jitter: 0 }, { clock });
      const changes: StateChange[] = [];
      breaker.onStateChange((c) => changes.push(c));
      failTimes(breaker, 2);
      expect(breaker.state).toBe('open');
      expect(vi.getTimerCount()).toBe(0);
      clock.advance(5_000);
      vi.advanceTimersByTime(5_000);
      expect(changes.map((c) => c.to)).toEqual(['open']); // nothing happens until someone asks
      expect(breaker.state).toBe('half-open');
      expect(changes.map((c) => c.to)).toEqual(['open', 'half-open']);
      expect(changes[1]!.reason).toBe('reset-timeout-elapsed');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('half-open', () => {
  function halfOpen(options = {}) {
    const made = makeBreaker(options);
    trip(made.breaker);
    made.clock.advance(made.breaker.options.resetTimeout);
    expect(made.breaker.state).toBe('half-open');
    return made;
  }

  it('lets at most halfOpenRequestLimit probes through and rejects the others with a half-open CircuitOpenError', async () => {
    const { breaker } = halfOpen({ halfOpenRequestLimit: 3 });
    const permits = [breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()];
    expect(permits).not.toContain(REJECTED);
    expect(breaker.tryAcquire()).toBe(REJECTED);
    const fn = vi.fn(async () => 'ran');
    const err = await breaker.call(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(err).toMatchObject({ code: 'ECIRCUITOPEN', breaker: 'svc', state: 'half-open' });
  });

  it('closes after probesToClose = ceil(halfOpenSuccessThreshold × halfOpenRequestLimit) successful probes', () => {
    const { breaker } = halfOpen({ halfOpenRequestLimit: 5, halfOpenSuccessThreshold: 0.6 });
    expect(breaker.options.probesToClose).toBe(3);
    succeedTimes(breaker, 2);
    expect(breaker.state).toBe('half-open');
    succeedOnce(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('closes after exactly 55 of 100 probes at halfOpenSuccessThreshold 0.55', () => {
    // 0.55 * 100 is 55.00000000000001 in floating point.
    const { breaker } = halfOpen({ windowSize: 100, halfOpenRequestLimit: 100, halfOpenSuccessThreshold: 0.55 });
    expect(breaker.options.probesToClose).toBe(55);
    succeedTimes(breaker, 54);
    expect(breaker.state).toBe('half-open');
    succeedOnce(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('closes with an empty window, so old failures cannot trip it again', () => {
    const { breaker } = halfOpen({ halfOpenRequestLimit: 1 });
    succeedOnce(breaker);
    expect(breaker.state).toBe('closed');
    expect(breaker.windowCalls).toBe(0);
    expect(breaker.failureRate).toBe(0);
    failOnce(breaker); // 1 call: below the minimum of 2
    expect(breaker.state).toBe('closed');
  });

  it('reopens as soon as failed probes make closing impossible', () => {
    const { breaker } = halfOpen({ halfOpenRequestLimit: 5, halfOpenSuccessThreshold: 0.6 });
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    succeedOnce(breaker);
    failTimes(breaker, 2); // 3 of 5 can still succeed
    expect(breaker.state).toBe('half-open');
    failOnce(breaker); // at most 2 of 5 can succeed now
    expect(breaker.state).toBe('open');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: 'half-open', to: 'open', reason: 'probes-failed', failureRate: 0.75 });
  });

  it('counts a slow probe as a failed probe', () => {
    const { breaker } = halfOpen({ halfOpenRequestLimit: 1, slowCallRateThreshold: 0.5, slowCallDurationThreshold: 100 });
    succeedOnce(breaker, 100);
    expect(breaker.state).toBe('open');
  });

  it('frees a probe slot when a permit is released, without counting an outcome', () => {
    const { breaker } = halfOpen({ halfOpenRequestLimit: 1 });
    const permit = breaker.tryAcquire();
    expect(breaker.tryAcquire()).toBe(REJECTED);
    breaker.release(permit);
    expect(breaker.state).toBe('half-open');
    const next = breaker.tryAcquire();
    expect(next).not.toBe(REJECTED);
    breaker.recordSuccess(next);
    expect(breaker.state).toBe('closed');
  });
});

describe('state and failureRate getters', () => {
  it('failureRate is 0 for an empty window and the failed share of the window otherwise', () => {
    const { breaker } = makeBreaker({ minimumRequests: 10 });
    expect(breaker.failureRate).toBe(0);
    succeedTimes(breaker, 3);
    failOnce(breaker);
    expect(breaker.failureRate).toBe(0.25);
    expect(breaker.windowCalls).toBe(4);
  });

  it('state reports closed, open and half-open as the breaker moves', () => {
    const { breaker, clock } = makeBreaker();
    expect(breaker.state).toBe('closed');
    trip(breaker);
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('toJSON() gives a plain snapshot', () => {
    const { breaker, clock } = makeBreaker({ minimumRequests: 3 });
    succeedOnce(breaker);
    failTimes(breaker, 2);
    expect(breaker.toJSON()).toEqual({
      name: 'svc',
      state: 'open',
      failureRate: 2 / 3,
      slowCallRate: 0,
      windowCalls: 3,
      retryAt: clock.t + 1_000,
      successes: 1,
      failures: 2,
      rejections: 0,
      fallbacks: 0,
    });
  });
});
