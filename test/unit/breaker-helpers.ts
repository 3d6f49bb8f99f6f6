import { expect } from 'vitest';
import { CircuitBreaker, REJECTED, type BreakerBehaviour, type BreakerOptions } from '../../src/breaker/index.js';

import { fakeClock, type FakeClock } from '../support/clock.js';

export { fakeClock, type FakeClock };

/**
 * Small numbers so a test can drive every rule by hand: judged from 2 calls, opens at 50 %
 * failures, open for 1000 ms, no jitter; half-open takes 5 probes and closes on 3.
 */
export const QUICK: BreakerOptions = Object.freeze({
  minimumRequests: 2,
  windowSize: 10,
  failureThreshold: 0.5,
  resetTimeout: 1_000,
  maxResetTimeout: 60_000,
  jitter: 0,
});

export function makeBreaker<T = unknown>(options: BreakerOptions = {}, behaviour: BreakerBehaviour<T> = {}) {
  const clock = fakeClock();
  const breaker = new CircuitBreaker<T>('svc', { ...QUICK, ...options }, { clock, random: () => 0.5, ...behaviour });
  return { clock, breaker };
}

/** Admits one call and records it as failed; the call must be admitted. */
export function failOnce(breaker: CircuitBreaker<any>, durationMs = 0): void {
  const permit = breaker.tryAcquire();
  expect(permit).not.toBe(REJECTED);
  breaker.recordFailure(permit, durationMs);
}

/** Admits one call and records it as successful; the call must be admitted. */
export function succeedOnce(breaker: CircuitBreaker<any>, durationMs = 0): void {
  const permit = breaker.tryAcquire();
  expect(permit).not.toBe(REJECTED);
  breaker.recordSuccess(permit, durationMs);
}

export function failTimes(breaker: CircuitBreaker<any>, n: number): void {
  for (let i = 0; i < n; i++) failOnce(breaker);
}

export function succeedTimes(breaker: CircuitBreaker<any>, n: number): void {
  for (let i = 0; i < n; i++) succeedOnce(breaker);
}

/** Trips a closed breaker by failing calls until it opens. */
export function trip(breaker: CircuitBreaker<any>): void {
  for (let i = 0; i <= breaker.options.windowSize && breaker.state === 'closed'; i++) failOnce(breaker);
  expect(breaker.state).toBe('open');
}

/** A call that fails with `error` after taking `ms` of fake time. */
export function failingAfter(clock: FakeClock, ms: number, error: unknown = new Error('downstream failed')) {
  return async () => {
    clock.advance(ms);
    throw error;
  };
}

/** A call that returns `value` after taking `ms` of fake time. */
export function succeedingAfter<T>(clock: FakeClock, ms: number, value: T) {
  return async () => {
    clock.advance(ms);
    return value;
  };
}

/** Lets every queued microtask and one macrotask run (enough for unhandledRejection to fire). */
export async function flush(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}
