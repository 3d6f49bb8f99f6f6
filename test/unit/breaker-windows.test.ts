import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CountWindow, TimeWindow } from '../../src/breaker/index.js';
import { failOnce, failTimes, fakeClock, succeedOnce } from './breaker-helpers.js';

function counts(w: { total: number; failures: number; slow: number }) {
  return { total: w.total, failures: w.failures, slow: w.slow };
}

describe('CountWindow', () => {
  it('counts calls, failed calls and slow calls', () => {
    const w = new CountWindow(5);
    w.record(false, false);
    w.record(true, false);
    w.record(true, true);
    w.record(false, true);
    expect(counts(w)).toEqual({ total: 4, failures: 2, slow: 2 });
  });

  it('evicts the oldest outcome once it holds windowSize calls', () => {
    const w = new CountWindow(3);
    w.record(true, true); // will be evicted first
    w.record(false, false);
    w.record(false, false);
    expect(counts(w)).toEqual({ total: 3, failures: 1, slow: 1 });
    w.record(false, false);
    expect(counts(w)).toEqual({ total: 3, failures: 0, slow: 0 });
    w.record(true, false);
    w.record(true, false);
    w.record(true, false);
    expect(counts(w)).toEqual({ total: 3, failures: 3, slow: 0 });
    w.record(false, false); // evicts one of the failures, not a success
    expect(counts(w)).toEqual({ total: 3, failures: 2, slow: 0 });
  });

  it('a window of one holds only the last call', () => {
    const w = new CountWindow(1);
    w.record(true, true);
    w.record(false, false);
    expect(counts(w)).toEqual({ total: 1, failures: 0, slow: 0 });
  });

  it('reset() empties it, and it fills again from scratch', () => {
    const w = new CountWindow(2);
    w.record(true, false);
    w.record(true, false);
    w.reset();
    expect(counts(w)).toEqual({ total: 0, failures: 0, slow: 0 });
    w.record(false, false);
    expect(counts(w)).toEqual({ total: 1, failures: 0, slow: 0 });
  });
});

describe('TimeWindow', () => {
  const s = (sec: number) => sec * 1_000;

  it('counts the calls of the last `seconds` seconds', () => {
    const w = new TimeWindow(10);
    w.record(true, false, s(100));
    w.record(false, true, s(100) + 999);
    w.record(true, true, s(105));
    expect(counts(w)).toEqual({ total: 3, failures: 2, slow: 2 });
  });

  it('ages a one-second bucket out once `seconds` seconds have passed since it', () => {
    const w = new TimeWindow(10);
    w.record(true, false, s(100) + 500);
    w.record(false, false, s(103));
    w.refresh(s(109) + 999);
    expect(w.total).toBe(2);
    w.refresh(s(110));
    expect(counts(w)).toEqual({ total: 1, failures: 0, slow: 0 });
    w.refresh(s(113));
    expect(w.total).toBe(0);
  });

  it('clears everything on a clock jump far longer than the window', () => {
    const w = new TimeWindow(10);
    for (let i = 0; i < 10; i++) w.record(true, true, s(100 + i));
    expect(w.total).toBe(10);
    w.refresh(s(100) + 1e12);
    expect(counts(w)).toEqual({ total: 0, failures: 0, slow: 0 });
    w.record(false, false, s(100) + 1e12);
    expect(counts(w)).toEqual({ total: 1, failures: 0, slow: 0 });
  });

  it('keeps counting into the newest bucket when the clock steps back, and ages that bucket by its own time', () => {
    const w = new TimeWindow(10);
    w.record(true, false, s(200));
    w.record(true, false, s(150)); // clock stepped back 50 s: counted with the newest bucket
    expect(counts(w)).toEqual({ total: 2, failures: 2, slow: 0 });
    w.refresh(s(160)); // still behind the newest bucket: nothing ages out
    expect(w.total).toBe(2);
    w.refresh(s(209));
    expect(w.total).toBe(2);
    w.refresh(s(210));
    expect(w.total).toBe(0);
  });

  it('never goes negative or keeps stale counts when buckets are reused around the ring', () => {
    const w = new TimeWindow(3);
    for (let sec = 0; sec < 50; sec++) {
      w.record(sec % 2 === 0, false, s(1_000 + sec));
      expect(w.total).toBe(Math.min(sec + 1, 3));
      expect(w.failures).toBeGreaterThanOrEqual(0);
      expect(w.failures).toBeLessThanOrEqual(w.total);
    }
  });

  it('reset() empties it', () => {
    const w = new TimeWindow(5);
    w.record(true, true, s(10));
    w.reset();
    expect(counts(w)).toEqual({ total: 0, failures: 0, slow: 0 });
    w.record(true, false, s(11));
    expect(counts(w)).toEqual({ total: 1, failures: 1, slow: 0 });
  });
});

describe('a breaker with a time window', () => {
  it('forgets failures older than windowSize seconds', () => {
    const clock = fakeClock(0);
    const breaker = new CircuitBreaker('svc', { windowType: 'time', windowSize: 10, minimumRequests: 5 }, { clock });
    failTimes(breaker, 4);
    expect(breaker.failureRate).toBe(1);
    clock.advance(10_000);
    expect(breaker.windowCalls).toBe(0);
    expect(breaker.failureRate).toBe(0);
    failOnce(breaker); // 1 call in the window, not 5
    expect(breaker.state).toBe('closed');
  });

  it('opens when enough calls fail within windowSize seconds', () => {
    const clock = fakeClock(0);
    const breaker = new CircuitBreaker('svc', { windowType: 'time', windowSize: 10, minimumRequests: 4, failureThreshold: 0.5 }, { clock });
    succeedOnce(breaker);
    clock.advance(3_000);
    succeedOnce(breaker);
    clock.advance(3_000);
    failTimes(breaker, 2);
    expect(breaker.state).toBe('open');
  });

  it('accepts a minimumRequests above windowSize, since a time window has no size cap', () => {
    const clock = fakeClock(0);
    const breaker = new CircuitBreaker('svc', { windowType: 'time', windowSize: 1, minimumRequests: 20 }, { clock });
    failTimes(breaker, 19);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});
