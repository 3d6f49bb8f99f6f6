import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError, isCircuitOpenError, type CircuitBreakerResult } from '../../src/breaker/index.js';
import { failTimes, flush, makeBreaker, succeedingAfter, trip } from './breaker-helpers.js';

class DownstreamError extends Error {
  constructor(readonly status: number) {
    super(`downstream answered ${status}`);
  }
}

describe('call()', () => {
  it('returns the value of an async fn', async () => {
    const { breaker } = makeBreaker<number>();
    await expect(breaker.call(async () => 42)).resolves.toBe(42);
    expect(breaker.successes).toBe(1);
  });

  it('returns the value of a sync fn as a promise', async () => {
    const { breaker } = makeBreaker<string>();
    await expect(breaker.call(() => 'sync')).resolves.toBe('sync');
  });

  it("rethrows the caller's own error unchanged (the same object) while closed, and counts it as a failure", async () => {
    const { breaker } = makeBreaker({ minimumRequests: 10 });
    const error = new DownstreamError(503);
    const caught = await breaker.call(() => Promise.reject(error)).catch((e: unknown) => e);
    expect(caught).toBe(error);
    expect(breaker.failures).toBe(1);
    expect(breaker.failureRate).toBe(1);
  });

  it('catches a synchronous throw from fn, rejects with that error and counts it as a failure', async () => {
    const { breaker } = makeBreaker({ minimumRequests: 10 });
    const error = new TypeError('bad input');
    const pending = breaker.call(() => {
      throw error;
    });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toBe(error);
    expect(breaker.failures).toBe(1);
  });

  it('rethrows an error that isFailure does not count, and records the call as a success', async () => {
    const notFound = new DownstreamError(404);
    const { breaker } = makeBreaker({ minimumRequests: 1 }, { isFailure: (e) => !(e instanceof DownstreamError && e.status < 500) });
    await expect(breaker.call(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(breaker.successes).toBe(1);
    expect(breaker.failures).toBe(0);
    expect(breaker.failureRate).toBe(0);
    expect(breaker.state).toBe('closed');
    await expect(breaker.call(() => Promise.reject(new DownstreamError(500)))).rejects.toBeInstanceOf(DownstreamError);
    expect(breaker.failures).toBe(1);
  });

  it('counts the call as failed when isFailure itself throws', async () => {
    const error = new Error('downstream');
    const { breaker } = makeBreaker(
      { minimumRequests: 10 },
      {
        isFailure: () => {
          throw new Error('bug in predicate');
        },
      },
    );
    await expect(breaker.call(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.failures).toBe(1);
  });

  it('returns the same cached rejected promise for every rejected call within one open interval', async () => {
    const { breaker, clock } = makeBreaker({ halfOpenRequestLimit: 1 });
    trip(breaker);
    const first = breaker.call(async () => 'ran');
    const second = breaker.call(async () => 'ran');
    expect(second).toBe(first);
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(await second.catch((e: unknown) => e)).toBe(error);
    expect(breaker.rejections).toBe(2);

    // The next open interval has its own rejection (its retryAt differs).
    clock.advance(1_000);
    await breaker.call(() => Promise.reject(new Error('probe failed'))).catch(() => {});
    expect(breaker.state).toBe('open');
    const third = breaker.call(async () => 'ran');
    expect(third).not.toBe(first);
    expect(await third.catch((e: unknown) => e)).toMatchObject({ retryAt: breaker.retryAt });
  });

  describe('unhandled rejections', () => {
    const seen: unknown[] = [];
    const onUnhandled = (reason: unknown) => seen.push(reason);
    beforeEach(() => {
      seen.length = 0;
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    it('a rejected call that nobody awaits never causes an unhandledRejection', async () => {
      const { breaker, clock } = makeBreaker();
      trip(breaker);
      void breaker.call(async () => 'ignored');
      void breaker.call(async () => 'ignored');
      clock.advance(1_000);
      failTimes(breaker, 3); // half-open probes fail: open again, a new cached rejection
      void breaker.call(async () => 'ignored');
      await flush();
      expect(seen).toEqual([]);
      expect(breaker.rejections).toBe(3);
    });

    it('a rejected call that is awaited still rejects with CircuitOpenError', async () => {
      const { breaker } = makeBreaker();
      trip(breaker);
      void breaker.call(async () => 'ignored');
      await expect(breaker.call(async () => 'awaited')).rejects.toSatisfy(isCircuitOpenError);
      await flush();
      expect(seen).toEqual([]);
    });
  });
});

describe('execute()', () => {
  it("resolves { kind: 'success', value } when fn succeeds", async () => {
    const { breaker } = makeBreaker<string>();
    await expect(breaker.execute(async () => 'ok')).resolves.toEqual({ kind: 'success', value: 'ok' });
  });

  it("resolves { kind: 'failure', error } with the caller's own error, also for a sync throw", async () => {
    const { breaker } = makeBreaker<string>({ minimumRequests: 10 });
    const asyncError = new Error('async');
    const syncError = new Error('sync');
    const a = await breaker.execute(() => Promise.reject(asyncError));
    const b = await breaker.execute(() => {
      throw syncError;
    });
    expect(a).toEqual({ kind: 'failure', error: asyncError });
    expect(a.kind === 'failure' && a.error).toBe(asyncError);
    expect(b.kind === 'failure' && b.error).toBe(syncError);
    expect(breaker.failures).toBe(2);
  });

  it("resolves { kind: 'circuit-open', error: CircuitOpenError } without running fn", async () => {
    const { breaker } = makeBreaker<string>();
    trip(breaker);
    const fn = vi.fn(async () => 'ran');
    const result = await breaker.execute(fn);
    expect(fn).not.toHaveBeenCalled();
    expect(result.kind).toBe('circuit-open');
    expect((result as Extract<CircuitBreakerResult<string>, { kind: 'circuit-open' }>).error).toMatchObject({
      code: 'ECIRCUITOPEN',
      breaker: 'svc',
    });
    expect(breaker.rejections).toBe(1);
  });

  it('never rejects, whatever the state and the outcome', async () => {
    const { breaker, clock } = makeBreaker<string>({ halfOpenRequestLimit: 1 });
    const results: Array<CircuitBreakerResult<string>> = [];
    const fns = [
      async () => 'a',
      () => Promise.reject(new Error('b')),
      () => {
        throw new Error('c');
      },
      async () => 'd',
    ];
    for (let i = 0; i < 12; i++) {
      if (i % 4 === 3) clock.advance(1_000);
      results.push(await breaker.execute(fns[i % fns.length]!));
    }
    const concurrent = await Promise.all([breaker.execute(fns[0]!), breaker.execute(fns[1]!), breaker.execute(fns[2]!)]);
    results.push(...concurrent);
    expect(new Set(results.map((r) => r.kind))).toEqual(new Set(['success', 'failure', 'circuit-open']));
  });

  it('reports circuit-open rather than answering with the fallback', async () => {
    const { breaker } = makeBreaker<string>({}, { fallback: { kind: 'value', value: 'cached' } });
    trip(breaker);
    await expect(breaker.execute(async () => 'ran')).resolves.toMatchObject({ kind: 'circuit-open' });
    expect(breaker.fallbacks).toBe(0);
  });
});

describe('fallbacks', () => {
  it('a value fallback answers a rejected call', async () => {
    const { breaker } = makeBreaker<string>({}, { fallback: { kind: 'value', value: 'default' } });
    trip(breaker);
    const fn = vi.fn(async () => 'ran');
    await expect(breaker.call(fn)).resolves.toBe('default');
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.fallbacks).toBe(1);
    expect(breaker.rejections).toBe(1);
  });

  it('a function fallback gets the CircuitOpenError and may return a promise', async () => {
    const seen: unknown[] = [];
    const { breaker } = makeBreaker<string>(
      {},
      {
        fallback: {
          kind: 'function',
          fn: async (error) => {
            seen.push(error);
            return 'from fallback';
          },
        },
      },
    );
    trip(breaker);
    await expect(breaker.call(async () => 'ran')).resolves.toBe('from fallback');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(CircuitOpenError);
    expect(seen[0]).toMatchObject({ breaker: 'svc', state: 'open' });
  });

  it('a function fallback that throws rejects the call with its error', async () => {
    const fallbackError = new Error('fallback failed');
    const { breaker } = makeBreaker<string>(
      {},
      {
        fallback: {
          kind: 'function',
          fn: () => {
            throw fallbackError;
          },
        },
      },
    );
    trip(breaker);
    await expect(breaker.call(async () => 'ran')).rejects.toBe(fallbackError);
  });

  it('by default a fallback does not answer calls that ran and failed', async () => {
    const error = new Error('downstream');
    const { breaker } = makeBreaker<string>({ minimumRequests: 10 }, { fallback: { kind: 'value', value: 'default' } });
    await expect(breaker.call(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.fallbacks).toBe(0);
  });

  it('a last-good fallback answers with the last successful value while it is at most maxAgeMs old', async () => {
    const { breaker, clock } = makeBreaker<string>({ resetTimeout: 60_000 }, { fallback: { kind: 'last-good', maxAgeMs: 5_000 } });
    await breaker.call(async () => 'older');
    await breaker.call(succeedingAfter(clock, 100, 'fresh')); // its age counts from when it returned
    const goodAt = clock.t;
    trip(breaker);
    clock.t = goodAt + 5_000;
    await expect(breaker.call(async () => 'ran')).resolves.toBe('fresh');
    expect(breaker.fallbacks).toBe(1);
  });

  it('a last-good fallback older than maxAgeMs is not used: the call rejects with CircuitOpenError', async () => {
    const { breaker, clock } = makeBreaker<string>({ resetTimeout: 60_000 }, { fallback: { kind: 'last-good', maxAgeMs: 5_000 } });
    await breaker.call(async () => 'stale');
    const goodAt = clock.t;
    trip(breaker);
    clock.t = goodAt + 5_001;
    await expect(breaker.call(async () => 'ran')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breaker.fallbacks).toBe(0);
    expect(breaker.rejections).toBe(1);
  });

  it('a last-good fallback with no successful call yet rejects with CircuitOpenError', async () => {
    const { breaker } = makeBreaker<string>({}, { fallback: { kind: 'last-good', maxAgeMs: 5_000 } });
    trip(breaker);
    await expect(breaker.call(async () => 'ran')).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it("with on: 'open-or-failure' a value fallback also answers calls that ran and failed", async () => {
    const { breaker } = makeBreaker<string>({ minimumRequests: 10 }, { fallback: { kind: 'value', value: 'default', on: 'open-or-failure' } });
    await expect(breaker.call(() => Promise.reject(new Error('downstream')))).resolves.toBe('default');
    expect(breaker.failures).toBe(1);
    expect(breaker.fallbacks).toBe(1);
    expect(breaker.failureRate).toBe(1);
  });

  it("with on: 'open-or-failure' a function fallback gets the call's own error", async () => {
    const error = new Error('downstream');
    const fn = vi.fn((e: unknown) => `handled ${(e as Error).message}`);
    const { breaker } = makeBreaker<string>({ minimumRequests: 10 }, { fallback: { kind: 'function', fn, on: 'open-or-failure' } });
    await expect(breaker.call(() => Promise.reject(error))).resolves.toBe('handled downstream');
    expect(fn).toHaveBeenCalledWith(error);
  });

  it("with on: 'open-or-failure' an error that isFailure does not count is rethrown, not answered", async () => {
    const error = new Error('not ours');
    const { breaker } = makeBreaker<string>(
      { minimumRequests: 10 },
      { isFailure: () => false, fallback: { kind: 'value', value: 'default', on: 'open-or-failure' } },
    );
    await expect(breaker.call(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.fallbacks).toBe(0);
  });

  it('successes + failures + rejections equal the calls made, and fallbacks count the answered ones', async () => {
    const { breaker, clock } = makeBreaker<string>(
      { halfOpenRequestLimit: 2, halfOpenSuccessThreshold: 0.5 },
      { fallback: { kind: 'value', value: 'default', on: 'open-or-failure' } },
    );
    let calls = 0;
    let answered = 0;
    const run = async (fn: () => Promise<string>) => {
      calls++;
      const value = await breaker.call(fn);
      if (value === 'default') answered++;
    };
    await run(async () => 'ok');
    await run(() => Promise.reject(new Error('x'))); // 1 of 2 failed: opens
    expect(breaker.state).toBe('open');
    await run(async () => 'ok'); // rejected, answered
    await run(async () => 'ok');
    clock.advance(1_000);
    await run(async () => 'ok'); // probe closes it
    await run(async () => 'ok');
    await run(() => Promise.reject(new Error('x')));
    expect(breaker.successes + breaker.failures + breaker.rejections).toBe(calls);
    expect(breaker.fallbacks).toBe(answered);
    expect({ s: breaker.successes, f: breaker.failures, r: breaker.rejections, fb: breaker.fallbacks }).toEqual({ s: 3, f: 2, r: 2, fb: 4 });
  });
});
