import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigValidationError } from '../../src/config/index.js';
import { ComponentHealthMonitor, type ComponentHealthMonitorOptions } from '../../src/health/ComponentHealthMonitor.js';
import type { HealthCheck } from '../../src/health/checks/index.js';
import type { HealthChange, HealthLevel, HealthMetrics, HealthStatus } from '../../src/health/types.js';
import { rng } from '../support/random.js';

/** Reads the faked Date, so timestamps and durations follow the fake timers. */
const clock = { now: () => Date.now() };

const DEGRADED: HealthStatus = { kind: 'degraded', reason: 'slow' };
const CRITICAL: HealthStatus = { kind: 'critical', reason: 'very slow' };
const FAILED: HealthStatus = { kind: 'failed', reason: 'down' };

type Answer = Awaited<ReturnType<HealthCheck>>;

/** A monitor whose check answers from `script` (healthy once it runs out), and a way to take a reading. */
function scripted(script: Answer[] = [], options: ComponentHealthMonitorOptions = {}) {
  const check = vi.fn<HealthCheck>(async () => (script.length > 0 ? script.shift() : true));
  const monitor = new ComponentHealthMonitor('db', check, { clock, intervalMs: 60_000, ...options });
  const read = async (...answers: Answer[]) => {
    for (const a of answers) {
      script.push(a);
      await monitor.signal({ kind: 'check-health' });
    }
    return monitor.status.kind;
  };
  return { monitor, check, read, script };
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

describe('ComponentHealthMonitor lifecycle', () => {
  it('runs the first check at start and resolves once its reading is in', async () => {
    const { monitor, check } = scripted([FAILED]);
    expect(monitor.status).toEqual({ kind: 'healthy' });
    await monitor.start();
    expect(check).toHaveBeenCalledTimes(1);
    expect(monitor.healthHistory()).toEqual([FAILED]);
    expect(monitor.status).toEqual(FAILED); // a failed reading counts double
    await monitor.stop();
  });

  it('checks every intervalMs while running', async () => {
    const { monitor, check } = scripted([], { intervalMs: 5_000 });
    await monitor.start();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(check).toHaveBeenCalledTimes(4);
    await monitor.stop();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(check).toHaveBeenCalledTimes(4);
  });

  it('stop() leaves no timer, even with a check in flight, and drops that check', async () => {
    const check = vi.fn<HealthCheck>((signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(false))));
    const monitor = new ComponentHealthMonitor('db', check, { clock, timeoutMs: 1_000 });
    void monitor.start();
    expect(vi.getTimerCount()).toBe(2); // the interval and the check's timeout
    await monitor.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(monitor.healthHistory()).toEqual([]);
    expect(monitor.running).toBe(false);
  });

  it('await using stops it', async () => {
    const { monitor } = scripted();
    {
      await using m = monitor;
      await m.start();
      expect(vi.getTimerCount()).toBe(1);
    }
    expect(monitor.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts timeouts and errors as failed readings', async () => {
    const check = vi
      .fn<HealthCheck>()
      .mockImplementationOnce((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
      .mockImplementationOnce(async () => {
        throw new Error('ECONNRESET');
      });
    const monitor = new ComponentHealthMonitor('db', check, { clock, hysteresis: { toWorsen: 3 } });
    const started = monitor.start();
    await vi.advanceTimersByTimeAsync(100);
    await started;
    expect(monitor.status.kind).toBe('healthy'); // 2 of 3
    await monitor.signal({ kind: 'check-health' });
    expect(monitor.healthHistory()).toEqual([
      { kind: 'failed', reason: 'health check timed out after 100 ms' },
      { kind: 'failed', reason: 'ECONNRESET' },
    ]);
    expect(monitor.status).toEqual({ kind: 'failed', reason: 'ECONNRESET' });
    expect(monitor.stats.timedOut).toBe(1);
    await monitor.stop();
  });
});

describe('ComponentHealthMonitor hysteresis', () => {
  it('does not move on one bad reading among good ones, and moves on two in a row', async () => {
    const { monitor, read } = scripted();
    await monitor.start();
    expect(await read(true, DEGRADED, true, true, DEGRADED, true)).toBe('healthy');
    expect(await read(DEGRADED)).toBe('healthy');
    expect(await read(DEGRADED)).toBe('degraded');
    await monitor.stop();
  });

  it('takes three good readings in a row to recover', async () => {
    const { monitor, read } = scripted([DEGRADED]);
    await monitor.start();
    expect(await read(DEGRADED)).toBe('degraded');
    expect(await read(true, true, DEGRADED, true, true)).toBe('degraded');
    expect(await read(true)).toBe('healthy');
    await monitor.stop();
  });

  it('goes to failed on one failed reading (it counts double)', async () => {
    const { monitor, read } = scripted();
    await monitor.start();
    expect(await read(false)).toBe('failed');
    await monitor.stop();
  });

  it('follows the hysteresis option', async () => {
    const { monitor, read } = scripted([], { hysteresis: { toWorsen: 1, toRecover: 1 } });
    await monitor.start();
    expect(await read(CRITICAL)).toBe('critical');
    expect(await read(true)).toBe('healthy');
    await monitor.stop();
  });

  it('classifies metrics with the thresholds option', async () => {
    const { monitor, read } = scripted([], { thresholds: { responseTime: { degraded: 50 } }, hysteresis: { toWorsen: 1 } });
    await monitor.start();
    expect(await read({ timestamp: 0, responseTime: 49 })).toBe('healthy');
    expect(await read({ timestamp: 0, responseTime: 60 })).toBe('degraded');
    expect(monitor.status).toEqual({ kind: 'degraded', reason: 'response time 60 ms >= degraded threshold 50 ms' });
    await monitor.stop();
  });

  it('tells onChange listeners each change of level, with the metrics of the reading that made it', async () => {
    vi.setSystemTime(1_000);
    const { monitor, read } = scripted();
    const changes: HealthChange[] = [];
    const off = monitor.onChange((c) => changes.push(c));
    await monitor.start();
    const slow: HealthMetrics = { timestamp: 7, responseTime: 2_000 };
    await read(slow, slow, { timestamp: 8, responseTime: 2_500 }); // the second moves; the third only refreshes the reason
    expect(changes).toEqual([
      {
        component: 'db',
        from: { kind: 'healthy' },
        to: { kind: 'degraded', reason: 'response time 2000 ms >= degraded threshold 1000 ms' },
        metrics: slow,
        timestamp: 1_000,
      },
    ]);
    off();
    await read(false);
    expect(changes).toHaveLength(1);
    await monitor.stop();
  });

  it('keeps notifying when a listener throws', async () => {
    const { monitor, read } = scripted();
    const seen: HealthLevel[] = [];
    monitor.onChange(() => {
      throw new Error('listener bug');
    });
    monitor.onChange((c) => seen.push(c.to.kind));
    await monitor.start();
    await read(false, true, true, true);
    expect(seen).toEqual(['failed', 'healthy']);
    await monitor.stop();
  });
});

describe('ComponentHealthMonitor history', () => {
  it('keeps at most historySize readings and metrics, oldest first, index for index', async () => {
    const { monitor, read } = scripted([], { historySize: 3 });
    await monitor.start(); // reading 1: healthy
    await read({ timestamp: 2, errorRate: 0 }, DEGRADED, { timestamp: 4, errorRate: 0.3 }, false);
    expect(monitor.healthHistory().map((s) => s.kind)).toEqual(['degraded', 'critical', 'failed']);
    const metrics = monitor.metricsHistory();
    expect(metrics).toHaveLength(3);
    expect(metrics[1]).toEqual({ timestamp: 4, errorRate: 0.3 });
    await monitor.stop();
  });

  it('records the duration as responseTime for checks that return no metrics', async () => {
    vi.setSystemTime(10_000);
    const check: HealthCheck = () => new Promise((resolve) => setTimeout(() => resolve(true), 40));
    const monitor = new ComponentHealthMonitor('db', check, { clock });
    const started = monitor.start();
    await vi.advanceTimersByTimeAsync(40);
    await started;
    expect(monitor.metricsHistory()).toEqual([{ timestamp: 10_000, responseTime: 40 }]);
    await monitor.stop();
  });

  it('defaults to 100 readings', async () => {
    const { monitor, read } = scripted();
    await monitor.start();
    for (let i = 0; i < 150; i++) await read(true);
    expect(monitor.healthHistory()).toHaveLength(100);
    expect(monitor.metricsHistory()).toHaveLength(100);
    await monitor.stop();
  });
});

describe('ComponentHealthMonitor signals', () => {
  it('handles signals one at a time, in the order sent', async () => {
    const log: string[] = [];
    const script: Answer[] = [];
    let monitor!: ComponentHealthMonitor;
    const check: HealthCheck = async () => {
      log.push(`check (interval ${monitor.intervalMs}, degraded at ${monitor.thresholds.errorRate.degraded})`);
      await new Promise((resolve) => setTimeout(resolve, 10)); // each check takes a while
      return script.shift() ?? true;
    };
    monitor = new ComponentHealthMonitor('db', check, { clock, timeoutMs: 1_000, hysteresis: { toWorsen: 1 } });
    const started = monitor.start();
    await vi.advanceTimersByTimeAsync(10);
    await started;
    monitor.onChange((c) => log.push(`${c.from.kind} -> ${c.to.kind}`));
    script.push({ timestamp: 0, errorRate: 0.02 }, { timestamp: 0, errorRate: 0.02 });

    const send = monitor.signalSender();
    send({ kind: 'check-health' });
    send({ kind: 'update-alert-thresholds', thresholds: { errorRate: { degraded: 0.01 } } });
    send({ kind: 'adjust-monitor-rate', intervalMs: 500 });
    send({ kind: 'check-health' });
    const last = monitor.signal({ kind: 'shutdown' });
    send({ kind: 'check-health' }); // after shutdown: no check
    await vi.advanceTimersByTimeAsync(100);
    await last;
    await monitor.stop();
    expect(log).toEqual([
      'check (interval 10000, degraded at 0.05)',
      'check (interval 10000, degraded at 0.05)', // 2% is healthy under the default 5%
      'check (interval 500, degraded at 0.01)', // 2% is degraded under 1%
      'healthy -> degraded',
    ]);
    expect(monitor.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('check-health on a stopped monitor runs no check', async () => {
    const { monitor, check } = scripted();
    await monitor.signal({ kind: 'check-health' });
    expect(check).not.toHaveBeenCalled();
  });

  it('adjust-monitor-rate changes the time between checks from now on', async () => {
    const { monitor, check } = scripted([], { intervalMs: 10_000 });
    await monitor.start();
    await monitor.signal({ kind: 'adjust-monitor-rate', intervalMs: 1_000 });
    expect(monitor.intervalMs).toBe(1_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(check).toHaveBeenCalledTimes(6);
    await monitor.stop();
  });

  it('update-alert-thresholds lays the new levels over the current ones, field by field', async () => {
    const { monitor } = scripted([], { thresholds: { responseTime: { degraded: 200 } } });
    await monitor.signal({ kind: 'update-alert-thresholds', thresholds: { errorRate: { degraded: 0.02 }, responseTime: { critical: 900 } } });
    expect(monitor.thresholds).toEqual({
      errorRate: { degraded: 0.02, critical: 0.25, failed: 0.5 },
      responseTime: { degraded: 200, critical: 900 },
      cpuUsage: { degraded: 0.8, critical: 0.95 },
      memoryUsage: { degraded: 0.8, critical: 0.95 },
    });
  });

  it('component-updated forgets the readings counted toward a change, then checks at once', async () => {
    const { monitor, check, read, script } = scripted();
    await monitor.start();
    expect(await read(DEGRADED)).toBe('healthy'); // 1 of 2
    script.push(DEGRADED); // the new version reads degraded once
    await monitor.signal({ kind: 'component-updated', component: 'db' });
    expect(check).toHaveBeenCalledTimes(3);
    expect(monitor.status.kind).toBe('healthy'); // would be degraded without the reset
    await monitor.stop();
  });

  it('component-updated lets a check in flight land before the reset, then checks the new version', async () => {
    const answers: Array<{ value: Answer; ms: number }> = [];
    const check = vi.fn<HealthCheck>(() => {
      const { value, ms } = answers.shift() ?? { value: true, ms: 0 };
      return new Promise((resolve) => setTimeout(() => resolve(value), ms));
    });
    const monitor = new ComponentHealthMonitor('db', check, { clock, intervalMs: 1_000, timeoutMs: 500 });
    answers.push({ value: DEGRADED, ms: 0 }, { value: DEGRADED, ms: 50 }, { value: DEGRADED, ms: 0 });
    const started = monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    await started; // degraded: 1 of 2
    await vi.advanceTimersByTimeAsync(1_010); // the tick at 1 s started a 50 ms check of the old version
    const updated = monitor.signal({ kind: 'component-updated', component: 'db' });
    await vi.advanceTimersByTimeAsync(50); // the old check lands (2 of 2), then the reset, then a check of the new version
    await updated;
    expect(check).toHaveBeenCalledTimes(3);
    expect(monitor.healthHistory().map((s) => s.kind)).toEqual(['degraded', 'degraded', 'degraded']);
    expect(monitor.status.kind).toBe('degraded');
    await monitor.stop();
  });

  it('ignores component-updated for another component', async () => {
    const { monitor, check, read } = scripted();
    await monitor.start();
    await read(DEGRADED);
    await monitor.signal({ kind: 'component-updated', component: 'cache' });
    expect(check).toHaveBeenCalledTimes(2);
    expect(await read(DEGRADED)).toBe('degraded');
    await monitor.stop();
  });

  it('shutdown stops the monitor and leaves no timer', async () => {
    const { monitor } = scripted();
    await monitor.start();
    await monitor.signal({ kind: 'shutdown' });
    expect(monitor.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await monitor.start(); // and it can start again
    expect(monitor.running).toBe(true);
    await monitor.stop();
  });

  it('rejects a malformed signal at once, naming the field, and keeps handling the others', async () => {
    const { monitor, check } = scripted();
    await monitor.start();
    expect(configError(() => monitor.signal({ kind: 'adjust-monitor-rate', intervalMs: 0 })).message).toBe(
      'signal.intervalMs must be at least 1 ms (e.g. 10000 for a check every 10 s), got 0',
    );
    expect(
      configError(() => monitor.signal({ kind: 'update-alert-thresholds', thresholds: { errorRate: { degraded: -1 } } })).message,
    ).toMatch(/^signal\.thresholds\.errorRate\.degraded must be 0 or more/);
    expect(configError(() => monitor.signalSender()({ kind: 'reboot' } as never)).message).toMatch(/^signal\.kind must be one of 'check-health'/);
    await monitor.signal({ kind: 'check-health' });
    expect(check).toHaveBeenCalledTimes(2);
    expect(monitor.intervalMs).toBe(60_000);
    await monitor.stop();
  });
});

describe('ComponentHealthMonitor options', () => {
  const check: HealthCheck = async () => true;
  it('names the bad field', () => {
    expect(configError(() => new ComponentHealthMonitor('db', check, { historySize: 0 })).message).toBe('health.historySize must be at least 1 reading, got 0');
    expect(configError(() => new ComponentHealthMonitor('db', check, { timeoutMs: -5 })).message).toMatch(/^health\.timeoutMs must be at least 1 ms/);
    expect(configError(() => new ComponentHealthMonitor('db', check, { hysteresis: { toWorsen: 1.5 } })).message).toMatch(
      /^health\.hysteresis\.toWorsen must be a whole number of readings/,
    );
    expect(configError(() => new ComponentHealthMonitor('db', check, { thresholds: { errorRate: { degraded: 2, critical: 1 } } })).message).toMatch(
      /^health\.thresholds\.errorRate must rise from degraded to critical to failed/,
    );
    expect(configError(() => new ComponentHealthMonitor('db', check, { interval: 5 } as never)).message).toMatch(/^health\.interval is not a known option/);
    expect(configError(() => new ComponentHealthMonitor('', check)).message).toMatch(/^health\.name must be a non-empty string/);
  });
});


describe('ComponentHealthMonitor under noise', () => {
  it('flips the status on fewer than 1% of 10,000 healthy-but-noisy readings with the defaults', async () => {
    vi.useRealTimers(); // nothing here waits on a timer; each reading is a check-health signal
    const random = rng(20_240_601);
    const CALLS = 50; // per reading: 3 failures (6%) pass the 5% degraded threshold about 1.4% of the time
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const noisy = (): HealthMetrics => {
      let failures = 0;
      for (let i = 0; i < CALLS; i++) if (random() < 0.01) failures++;
      return { timestamp: 0, errorRate: failures / CALLS, responseTime: Math.exp(Math.log(80) + 0.5 * normal()) }; // median 80 ms
    };
    const monitor = new ComponentHealthMonitor('noisy', async () => noisy(), { intervalMs: 2_147_483_647 });
    await monitor.start();
    let flips = 0;
    let rawFlips = 0;
    let previous = monitor.status.kind;
    let previousReading: HealthLevel = 'healthy';
    const N = 10_000;
    for (let i = 1; i < N; i++) {
      await monitor.signal({ kind: 'check-health' });
      if (monitor.status.kind !== previous) flips++;
      previous = monitor.status.kind;
      const reading = monitor.healthHistory().at(-1)!.kind;
      if (reading !== previousReading) rawFlips++;
      previousReading = reading;
    }
    await monitor.stop();
    expect(monitor.stats.runs).toBe(N);
    // The noise is real: unfiltered, the readings alone would flip on more than 1%...
    expect(rawFlips / N).toBeGreaterThan(0.01);
    // ...while the status after hysteresis flips on fewer than 1%.
    expect(flips / N).toBeLessThan(0.01);
  });
});
