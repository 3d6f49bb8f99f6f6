import { describe, expect, it, vi } from 'vitest';
import type { SpanContext } from '@opentelemetry/api';
import { REJECTED, type StateChange } from '../../src/breaker/index.js';
import { failOnce, failTimes, makeBreaker, succeedOnce, trip } from './breaker-helpers.js';

function span(n: number): SpanContext {
  return { traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0'), traceFlags: 1 };
}

describe('state-change events', () => {
  it('delivers { breaker, from, to, reason, failureRate, slowCallRate, timestamp, retryAt, evidence } on a trip', () => {
    const { breaker, clock } = makeBreaker({ minimumRequests: 4 });
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    succeedOnce(breaker);
    failTimes(breaker, 3);
    expect(changes).toEqual([
      {
        breaker: 'svc',
        from: 'closed',
        to: 'open',
        reason: 'failure-rate',
        failureRate: 0.75,
        slowCallRate: 0,
        timestamp: clock.t,
        retryAt: clock.t + 1_000,
        evidence: [],
      },
    ]);
  });

  it('names every transition of a full cycle with its reason', () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 1 });
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    trip(breaker);
    clock.advance(1_000);
    failOnce(breaker); // probe fails
    clock.advance(2_000);
    succeedOnce(breaker); // probe succeeds
    breaker.forceOpen();
    breaker.reset();
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      ['closed', 'open', 'failure-rate'],
      ['open', 'half-open', 'reset-timeout-elapsed'],
      ['half-open', 'open', 'probes-failed'],
      ['open', 'half-open', 'reset-timeout-elapsed'],
      ['half-open', 'closed', 'probes-succeeded'],
      ['closed', 'open', 'forced-open'],
      ['open', 'closed', 'reset'],
    ]);
    expect(changes[5]!.retryAt).toBeUndefined(); // forced open has no retry time
  });

  it('carries the span contexts of the last four failed calls as evidence', () => {
    const { breaker } = makeBreaker({ minimumRequests: 6, windowSize: 10 });
    const changes: StateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    for (let i = 1; i <= 6; i++) breaker.recordFailure(breaker.tryAcquire(), 0, span(i));
    expect(changes[0]!.evidence).toEqual([span(3), span(4), span(5), span(6)]);
  });

  it('stops delivering once the disposer is called, and calling it twice is harmless', () => {
    const { breaker, clock } = makeBreaker();
    const listener = vi.fn();
    const other = vi.fn();
    const dispose = breaker.onStateChange(listener);
    breaker.onStateChange(other);
    trip(breaker);
    expect(listener).toHaveBeenCalledTimes(1);
    dispose();
    dispose();
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(other).toHaveBeenCalledTimes(2);
  });

  it('stops delivering once disposed through Symbol.dispose', () => {
    const { breaker } = makeBreaker();
    const listener = vi.fn();
    const subscription = breaker.onStateChange(listener);
    subscription[Symbol.dispose]();
    trip(breaker);
    expect(listener).not.toHaveBeenCalled();
  });

  it('a throwing listener neither breaks the call nor keeps the other listeners from hearing', async () => {
    const { breaker } = makeBreaker<string>({ minimumRequests: 1 });
    const after = vi.fn();
    breaker.onStateChange(() => {
      throw new Error('listener bug');
    });
    breaker.onStateChange(after);
    const error = new Error('downstream');
    await expect(breaker.call(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.state).toBe('open');
    expect(after).toHaveBeenCalledTimes(1);
    expect(breaker.tryAcquire()).toBe(REJECTED);
  });

  it('a listener that unsubscribes while being called does not make its neighbour miss the event', () => {
    const { breaker } = makeBreaker();
    const second = vi.fn();
    const first = breaker.onStateChange(() => first());
    breaker.onStateChange(second);
    trip(breaker);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('the onStateChange behaviour hook hears every transition, and its throw does not break the call', async () => {
    const seen: string[] = [];
    const { breaker } = makeBreaker<string>(
      { minimumRequests: 1 },
      {
        onStateChange: (c) => {
          seen.push(`${c.from}->${c.to}`);
          throw new Error('hook bug');
        },
      },
    );
    await breaker.call(() => Promise.reject(new Error('x'))).catch(() => {});
    expect(seen).toEqual(['closed->open']);
  });
});
