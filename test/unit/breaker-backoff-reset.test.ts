import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, REJECTED, type StateChange } from '../../src/breaker/index.js';
import { failOnce, failTimes, fakeClock, makeBreaker, succeedOnce, trip } from './breaker-helpers.js';

describe('backoff of the open interval', () => {
  it('multiplies resetTimeout by backoffMultiplier^(n-1) on the n-th consecutive trip, capped at maxResetTimeout', () => {
    const { breaker, clock } = makeBreaker({ resetTimeout: 1_000, backoffMultiplier: 3, maxResetTimeout: 20_000, halfOpenRequestLimit: 1 });
    trip(breaker);
    const intervals: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const interval = breaker.retryAt! - clock.t;
      intervals.push(interval);
      clock.advance(interval);
      failOnce(breaker); // the one probe fails: open again
      expect(breaker.state).toBe('open');
    }
    expect(intervals).toEqual([1_000, 3_000, 9_000, 20_000, 20_000]);
  });

  it('shortens the open interval by jitter × random(), never lengthens it', () => {
    for (const [random, expected] of [
      [0, 1_000],
      [0.5, 900],
      [0.999, 800.2],
    ] as const) {
      const clock = fakeClock();
      const breaker = new CircuitBreaker('svc', { minimumRequests: 1, resetTimeout: 1_000, jitter: 0.2 }, { clock, random: () => random });
      failOnce(breaker);
      expect(breaker.retryAt! - clock.t).toBeCloseTo(expected, 3);
    }
  });

  it('starts again from resetTimeout after the breaker has closed', () => {
    const { breaker, clock } = makeBreaker({ resetTimeout: 1_000, backoffMultiplier: 2, halfOpenRequestLimit: 1 });
    trip(breaker);
    clock.advance(1_000);
    failOnce(breaker); // second trip: 2000
    expect(breaker.retryAt! - clock.t).toBe(2_000);
    clock.advance(2_000);
    succeedOnce(breaker); // closes
    expect(breaker.state).toBe('closed');
    trip(breaker);
    expect(breaker.retryAt! - clock.t).toBe(1_000);
  });
});

describe('forceOpen() and reset()', () => {
  it('forceOpen() keeps the breaker open however much time passes, until reset()', async () => {
    const { breaker, clock } = makeBreaker();
    breaker.forceOpen();
    clock.advance(365 * 24 * 3_600_000);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(REJECTED);
    const err = await breaker.call(async () => 'ran').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECIRCUITOPEN', state: 'open', retryAt: undefined });
    expect(breaker.toJSON().retryAt).toBeNull();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await expect(breaker.call(async () => 'ran')).resolves.toBe('ran');
  });

  it('forceOpen() from half-open stays open past the reset timeout', () => {
    const { breaker, clock } = makeBreaker();
    trip(breaker);
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    breaker.forceOpen();
    clock.advance(10_000_000);
    expect(breaker.state).toBe('open');
  });

  it('reset() closes an open breaker and empties its window', () => {
    const { breaker } = makeBreaker();
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    trip(breaker);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(breaker.windowCalls).toBe(0);
    expect(breaker.failureRate).toBe(0);
    expect(changes.at(-1)).toMatchObject({ from: 'open', to: 'closed', reason: 'reset' });
  });

  it('reset() of a closed breaker empties the window without a state change', () => {
    const { breaker } = makeBreaker({ minimumRequests: 3 });
    const listener = vi.fn();
    breaker.onStateChange(listener);
    failTimes(breaker, 2);
    breaker.reset();
    expect(breaker.windowCalls).toBe(0);
    failOnce(breaker); // 1 call in the window, not 3
    expect(breaker.state).toBe('closed');
    expect(listener).not.toHaveBeenCalled();
  });

  it('reset() forgets the backoff', () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 1 });
    trip(breaker);
    clock.advance(1_000);
    failOnce(breaker);
    expect(breaker.retryAt! - clock.t).toBe(2_000);
    breaker.reset();
    trip(breaker);
    expect(breaker.retryAt! - clock.t).toBe(1_000);
  });
});

describe('stale permits', () => {
  it('ignores the outcome of a call admitted while closed that settles after the breaker opened', () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 1 });
    const early = breaker.tryAcquire();
    trip(breaker);
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    breaker.recordFailure(early); // must not be taken as a failed probe
    expect(breaker.state).toBe('half-open');
    expect(breaker.failures).toBe(3); // still counted as a call that failed
    succeedOnce(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('ignores the outcome of a probe that settles after the breaker closed', () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 2, halfOpenSuccessThreshold: 0.5, minimumRequests: 1 });
    trip(breaker);
    clock.advance(1_000);
    const slowProbe = breaker.tryAcquire();
    succeedOnce(breaker); // 1 of 2 closes
    expect(breaker.state).toBe('closed');
    breaker.recordFailure(slowProbe);
    expect(breaker.state).toBe('closed');
    expect(breaker.windowCalls).toBe(0);
  });

  it('a stale permit released in a later half-open period does not free a slot there', () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 1 });
    trip(breaker);
    clock.advance(1_000);
    const first = breaker.tryAcquire(); // probe of the first half-open period, never settles
    breaker.forceOpen();
    breaker.reset();
    trip(breaker);
    clock.advance(1_000);
    expect(breaker.tryAcquire()).not.toBe(REJECTED);
    breaker.release(first);
    expect(breaker.tryAcquire()).toBe(REJECTED);
  });
});
