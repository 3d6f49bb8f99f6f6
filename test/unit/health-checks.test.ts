import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigValidationError } from '../../src/config/index.js';
import { CheckRunner, HealthCheckTimeoutError, httpCheck, tcpCheck, type CheckResult, type HealthCheck } from '../../src/health/checks/index.js';
import { BoundedHistory } from '../../src/health/history.js';
import type { HealthMetrics, HealthStatus } from '../../src/health/types.js';

/** Reads the faked Date, so durations follow vi.advanceTimersByTime. */
const clock = { now: () => Date.now() };

/** A check that settles after `ms` of (fake) time, ignoring its signal. */
const takes =
  (ms: number, value: Awaited<ReturnType<HealthCheck>> = true): HealthCheck =>
  () =>
    new Promise((resolve) => setTimeout(() => resolve(value), ms));

function runner(check: HealthCheck, options: ConstructorParameters<typeof CheckRunner>[2] = {}) {
  const results: CheckResult[] = [];
  const r = new CheckRunner(check, (res) => results.push(res), { clock, ...options });
  return { r, results };
}

/** Stops `r`, letting fake time run out for a check that ignores its signal. */
async function stopNow(r: CheckRunner): Promise<void> {
  const stopped = r.stop();
  await vi.runAllTimersAsync();
  await stopped;
  expect(vi.getTimerCount()).toBe(0);
}

function configError(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected a ConfigValidationError');
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('check results', () => {
  const statusOf = async (value: unknown, options: ConstructorParameters<typeof CheckRunner>[2] = {}) => {
    const { r } = runner(async () => value as never, options);
    return (await r.runNow()).status;
  };

  it('reads nothing and true as healthy, false as failed', async () => {
    expect(await statusOf(undefined)).toEqual({ kind: 'healthy' });
    expect(await statusOf(true)).toEqual({ kind: 'healthy' });
    expect(await statusOf(false)).toEqual({ kind: 'failed', reason: 'the check returned false' });
  });

  it('takes a status the check returns as it is', async () => {
    const degraded: HealthStatus = { kind: 'degraded', reason: 'replica lag 12 s' };
    expect(await statusOf(degraded)).toBe(degraded);
    expect(await statusOf({ kind: 'critical' })).toEqual({ kind: 'critical', reason: 'the check reported critical' });
  });

  it('classifies returned metrics with the default thresholds, or with the classify option', async () => {
    const m: HealthMetrics = { timestamp: 1, errorRate: 0.3, responseTime: 20 };
    expect(await statusOf(m)).toEqual({ kind: 'critical', reason: 'error rate 30.0% >= critical threshold 25.0%' });
    expect(await statusOf({ timestamp: 1, errorRate: 0.01 })).toEqual({ kind: 'healthy' });
    expect(await statusOf(m, { classify: () => ({ kind: 'degraded', reason: 'mine' }) })).toEqual({ kind: 'degraded', reason: 'mine' });
  });

  it('reports the metrics with the result, stamped with the run time when they have no timestamp', async () => {
    vi.setSystemTime(5_000);
    const { r } = runner(async () => ({ errorRate: 0 }) as HealthMetrics);
    const result = await r.runNow();
    expect(result.metrics).toEqual({ errorRate: 0, timestamp: 5_000 });
  });

  it('turns a thrown error, a rejection and a synchronous throw into failed with the message as reason', async () => {
    expect(await statusOf(Promise.reject(new Error('db down')))).toEqual({ kind: 'failed', reason: 'db down' });
    const { r } = runner(() => {
      throw new TypeError('bad check');
    });
    expect((await r.runNow()).status).toEqual({ kind: 'failed', reason: 'bad check' });
    expect(await statusOf(Promise.reject('plain string'))).toEqual({ kind: 'failed', reason: 'plain string' });
  });

  it('fails a check that returns something it cannot read, naming it', async () => {
    expect((await statusOf(42)).kind).toBe('failed');
    expect(await statusOf({ kind: 'fine' })).toEqual({ kind: 'failed', reason: 'the check returned an unknown status kind "fine"' });
  });

  it('fails a run whose classify throws, without breaking the runner', async () => {
    const { r, results } = runner(async () => ({ timestamp: 0 }), {
      classify: () => {
        throw new Error('oops');
      },
    });
    await r.runNow();
    expect(results[0]!.status).toEqual({ kind: 'failed', reason: "classifying the check's metrics threw: oops" });
  });
});

describe('CheckRunner timeouts', () => {
  it('fails a run that passes its timeout (default 100 ms), aborting its signal with a HealthCheckTimeoutError', async () => {
    let seen: AbortSignal | undefined;
    const { r, results } = runner((signal) => {
      seen = signal;
      return new Promise(() => {}); // never settles
    });
    const pending = r.runNow();
    await vi.advanceTimersByTimeAsync(99);
    expect(results).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    const result = await pending;
    expect(result).toMatchObject({ status: { kind: 'failed', reason: 'health check timed out after 100 ms' }, timedOut: true, durationMs: 100 });
    expect(results).toEqual([result]);
    expect(seen!.aborted).toBe(true);
    expect(seen!.reason).toBeInstanceOf(HealthCheckTimeoutError);
    expect((seen!.reason as HealthCheckTimeoutError).code).toBe('EHEALTHCHECKTIMEOUT');
    expect(r.stats.timedOut).toBe(1);
  });

  it('clears the timeout timer of a run that settles in time', async () => {
    const { r } = runner(takes(30));
    const pending = r.runNow();
    expect(vi.getTimerCount()).toBe(2); // the check's own timer and the timeout
    await vi.advanceTimersByTimeAsync(30);
    expect((await pending).durationMs).toBe(30);
    expect(vi.getTimerCount()).toBe(0);
    expect(r.stats.lastDurationMs).toBe(30);
  });

  it('ignores what a timed-out check resolves with later', async () => {
    const { r, results } = runner(takes(500, false), { timeoutMs: 50 });
    void r.runNow();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.map((x) => x.status.kind)).toEqual(['failed']);
    expect(results[0]!.timedOut).toBe(true);
  });
});

describe('CheckRunner scheduling', () => {
  it('runs the first check at start, then every intervalMs (default 10 s)', async () => {
    const check = vi.fn(async () => true);
    const { r, results } = runner(check);
    await r.start();
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(check).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(check).toHaveBeenCalledTimes(5);
    expect(results).toHaveLength(5);
    await r.stop();
  });

  it('never starts a check while the previous one is in flight, and counts each skipped tick', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const check: HealthCheck = () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      return new Promise((resolve) =>
        setTimeout(() => {
          inFlight--;
          resolve(true);
        }, 25_000),
      );
    };
    const calls = vi.fn(check);
    const { r } = runner(calls, { intervalMs: 10_000, timeoutMs: 30_000 });
    void r.start();
    await vi.advanceTimersByTimeAsync(29_999); // ticks at 10 s and 20 s find the first run in flight
    expect(calls).toHaveBeenCalledTimes(1);
    expect(r.stats.skipped).toBe(2);
    await vi.advanceTimersByTimeAsync(1); // tick at 30 s: the first run ended at 25 s
    expect(calls).toHaveBeenCalledTimes(2);
    expect(maxInFlight).toBe(1);
    await stopNow(r);
  });

  it('keeps skipping while a timed-out check that ignores its signal has not settled', async () => {
    const calls = vi.fn(takes(25_000));
    const { r, results } = runner(calls, { intervalMs: 10_000 });
    void r.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(results.map((x) => x.timedOut)).toEqual([true]); // reported at 100 ms
    expect(calls).toHaveBeenCalledTimes(1);
    expect(r.stats.skipped).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveBeenCalledTimes(2);
    await stopNow(r);
  });

  it('runNow during a run resolves with the result of that run instead of starting another', async () => {
    const calls = vi.fn(takes(50));
    const { r } = runner(calls);
    const a = r.runNow();
    const b = r.runNow();
    await vi.advanceTimersByTimeAsync(50);
    expect(await b).toBe(await a);
    expect(calls).toHaveBeenCalledTimes(1);
    expect(r.stats).toMatchObject({ runs: 1, skipped: 1 });
  });

  it('setInterval changes the cadence from now on', async () => {
    const calls = vi.fn(async () => true);
    const { r } = runner(calls);
    await r.start();
    await vi.advanceTimersByTimeAsync(4_000);
    r.setInterval(1_000);
    expect(r.intervalMs).toBe(1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls).toHaveBeenCalledTimes(4);
    await r.stop();
  });

  it('keeps running when the result callback throws', async () => {
    const calls = vi.fn(async () => true);
    const r = new CheckRunner(
      calls,
      () => {
        throw new Error('listener bug');
      },
      { clock, intervalMs: 1_000 },
    );
    await r.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toHaveBeenCalledTimes(3);
    await r.stop();
  });

  it('unrefs every timer it creates', async () => {
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const intervals = vi.spyOn(globalThis, 'setInterval');
    const { r } = runner(() => new Promise(() => {}), { intervalMs: 1_000 });
    void r.start();
    const timers = [...timeouts.mock.results, ...intervals.mock.results].map((x) => x.value as NodeJS.Timeout);
    expect(timers).toHaveLength(2); // the interval and the run's timeout
    for (const t of timers) expect(t.hasRef()).toBe(false);
    timeouts.mockRestore();
    intervals.mockRestore();
    await stopNow(r);
  });
});

describe('CheckRunner stop', () => {
  it('leaves no timer behind, idle or with a run in flight, and drops the result of that run', async () => {
    let signal: AbortSignal | undefined;
    const { r, results } = runner(
      (s) => {
        signal = s;
        return new Promise((resolve) => s.addEventListener('abort', () => resolve(false)));
      },
      { intervalMs: 1_000, timeoutMs: 500 },
    );
    void r.start();
    expect(vi.getTimerCount()).toBe(2); // interval + the run's timeout
    await r.stop();
    expect(signal!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(results).toHaveLength(0);
    expect(r.running).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(results).toHaveLength(0);
  });

  it('waits at most the timeout for a check that ignores its signal', async () => {
    const { r } = runner(() => new Promise(() => {}), { timeoutMs: 200 });
    void r.start();
    let stopped = false;
    void r.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(199);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('can be started again after stop', async () => {
    const calls = vi.fn(async () => true);
    const { r } = runner(calls, { intervalMs: 1_000 });
    await r.start();
    await r.stop();
    await r.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveBeenCalledTimes(3);
    await r.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('check options', () => {
  it('names the bad field of the runner options', () => {
    const check = async () => true;
    expect(configError(() => new CheckRunner(check, () => {}, { timeoutMs: 0 })).message).toBe(
      'checks.timeoutMs must be at least 1 ms (e.g. 100: the spec wants checks done within 100 ms), got 0',
    );
    expect(configError(() => new CheckRunner(check, () => {}, { intervalMs: 2 ** 31 })).message).toMatch(/^checks\.intervalMs must be at most 2147483647 ms/);
    expect(configError(() => new CheckRunner(check, () => {}, { intervalMs: Number.NaN })).message).toMatch(/^checks\.intervalMs must be a number/);
    expect(configError(() => new CheckRunner(check, () => {}, { every: 5 } as never)).message).toMatch(/^checks\.every is not a known option/);
    const r = new CheckRunner(check, () => {});
    expect(configError(() => r.setInterval(-1)).message).toMatch(/^checks\.intervalMs must be at least 1 ms/);
  });

  it('names the bad field of httpCheck and tcpCheck, never echoing the URL', () => {
    const bad = configError(() => httpCheck('ftp://user:hunter22@example.com/'));
    expect(bad.message).toBe('httpCheck.url must be an absolute http:// or https:// URL');
    expect(configError(() => httpCheck('not a url')).message).toBe('httpCheck.url must be an absolute http:// or https:// URL');
    expect(configError(() => httpCheck('http://x/', { expectStatus: 700 })).message).toMatch(/^httpCheck\.expectStatus must be/);
    expect(configError(() => httpCheck('http://x/', { method: 'GET /' })).message).toMatch(/^httpCheck\.method must be an HTTP method/);
    expect(configError(() => tcpCheck('db', 70_000)).message).toBe('tcpCheck.port must be a TCP port (1 to 65535), got 70000');
    expect(configError(() => tcpCheck('', 5432)).message).toMatch(/^tcpCheck\.host must be a host name/);
  });
});

describe('BoundedHistory', () => {
  it('keeps the newest capacity items, oldest first', () => {
    const h = new BoundedHistory<number>(3);
    expect(h.toArray()).toEqual([]);
    expect(h.latest()).toBeUndefined();
    for (let i = 1; i <= 2; i++) h.push(i);
    expect(h.toArray()).toEqual([1, 2]);
    for (let i = 3; i <= 7; i++) h.push(i);
    expect(h.toArray()).toEqual([5, 6, 7]);
    expect(h.size).toBe(3);
    expect(h.latest()).toBe(7);
    h.clear();
    expect(h.toArray()).toEqual([]);
  });
});
