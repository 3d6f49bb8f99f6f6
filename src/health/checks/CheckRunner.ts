import { diag } from '@opentelemetry/api';
import { systemClock, type Clock } from '../../clock.js';
import { parseOptions } from '../../config/index.js';
import { classify, DEFAULT_THRESHOLDS } from '../classify.js';
import type { HealthMetrics, HealthStatus } from '../types.js';
import { HealthCheckTimeoutError } from './errors.js';
import {
  checkRunnerOptionsSchema,
  DEFAULT_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  intervalMsSchema,
  type CheckRunnerOptions,
} from './options.js';
import { failed, readingOf, reasonOf } from './reading.js';
import type { CheckResult, CheckRunnerStats, HealthCheck } from './types.js';

/** One run of the check, from its start until the check's promise settles. */
interface Run {
  readonly controller: AbortController;
  /** Resolves with the result once it is known: the check settled, or the timeout fired. */
  readonly result: Promise<CheckResult>;
  /** Resolves when the check settled or the timeout fired, whichever first: what `stop()` waits for. */
  readonly ended: Promise<void>;
  /** Set by `stop()`: the result is not reported. */
  discarded: boolean;
}

const defaultClassify = (metrics: HealthMetrics): HealthStatus => classify(metrics, DEFAULT_THRESHOLDS);

/**
 * Runs one {@link HealthCheck} every `intervalMs`, each run cut off at `timeoutMs`, and reports
 * each result to `onResult`. Runs never overlap: while a check has not settled (even past its
 * timeout, if it ignores its signal) a due run is skipped and counted, so a slow component is not
 * hit by a pile of checks. Timers: one interval while started, and one timeout per run, cleared
 * when the check settles; all unref'ed, none left after `stop()` resolves.
 */
export class CheckRunner {
  private readonly clock: Clock;
  private readonly classify: (metrics: HealthMetrics) => HealthStatus;
  private readonly timeoutMs: number;
  private interval: number;
  private ticker: NodeJS.Timeout | undefined;
  /** The run whose check has not settled yet. */
  private current: Run | undefined;
  private runs = 0;
  private skipped = 0;
  private timedOut = 0;
  private lastDurationMs: number | undefined;

  constructor(
    private readonly check: HealthCheck,
    private readonly onResult: (result: CheckResult) => void,
    options: CheckRunnerOptions = {},
  ) {
    const o = parseOptions(checkRunnerOptionsSchema, options, 'checks');
    this.interval = o.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.classify = o.classify ?? defaultClassify;
    this.clock = o.clock ?? systemClock;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.ticker !== undefined;
  }

  /** Time between two runs, ms. */
  get intervalMs(): number {
    return this.interval;
  }

  get stats(): CheckRunnerStats {
    return { runs: this.runs, skipped: this.skipped, timedOut: this.timedOut, lastDurationMs: this.lastDurationMs };
  }

  /** Starts the schedule with a run now; resolves when that first result is known. No-op when running. */
  async start(): Promise<void> {
    if (this.ticker !== undefined) return;
    this.arm();
    await this.runNow();
  }

  /**
   * Stops the schedule and aborts the run in flight (its result is not reported). Resolves when
   * that check has let go, or at its timeout if it ignores its signal; no timer of ours is left.
   */
  async stop(): Promise<void> {
    if (this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
    const run = this.current;
    if (run === undefined) return;
    run.discarded = true;
    run.controller.abort(new DOMException('the health check runner was stopped', 'AbortError'));
    await run.ended;
  }

  /**
   * Runs the check now, whether started or not, and resolves with its result. If a run is still
   * in flight no second one starts: this resolves with that run's result (and counts as skipped).
   */
  runNow(): Promise<CheckResult> {
    if (this.current !== undefined) {
      this.skipped++;
      return this.current.result;
    }
    return this.execute().result;
  }

  /** Resolves when the result of the run in flight is known (at once when none is). */
  async settled(): Promise<void> {
    if (this.current !== undefined) await this.current.result;
  }

  /** Changes the time between runs; when running, the next run is `ms` from now. */
  setInterval(ms: number): void {
    this.interval = parseOptions(intervalMsSchema, ms, 'checks.intervalMs');
    if (this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.arm();
    }
  }

  private arm(): void {
    this.ticker = setInterval(this.tick, this.interval);
    this.ticker.unref();
  }

  private readonly tick = (): void => {
    if (this.current !== undefined) this.skipped++;
    else this.execute();
  };

  private execute(): Run {
    this.runs++;
    const controller = new AbortController();
    const started = this.clock.now();
    let resolveResult!: (r: CheckResult) => void;
    let resolveEnded!: () => void;
    const run: Run = {
      controller,
      result: new Promise((resolve) => (resolveResult = resolve)),
      ended: new Promise((resolve) => (resolveEnded = resolve)),
      discarded: false,
    };
    let known = false;
    const conclude = (status: HealthStatus, metrics: HealthMetrics | undefined, timedOut: boolean): void => {
      if (known) return;
      known = true;
      const durationMs = Math.max(0, this.clock.now() - started);
      const result: CheckResult = { status, metrics, timestamp: started, durationMs, timedOut };
      resolveResult(result);
      if (run.discarded) return;
      this.lastDurationMs = durationMs;
      if (timedOut) this.timedOut++;
      try {
        this.onResult(result);
      } catch (err) {
        diag.error('otel-self-heal: a health check result callback threw', err);
      }
    };

    let timer: NodeJS.Timeout | undefined = setTimeout(() => {
      timer = undefined;
      const reason = new HealthCheckTimeoutError(this.timeoutMs);
      controller.abort(reason);
      conclude(failed(reason.message), undefined, true);
      resolveEnded();
    }, this.timeoutMs);
    timer.unref();

    const settle = (status: HealthStatus, metrics: HealthMetrics | undefined): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (this.current === run) this.current = undefined; // before conclude: the callback sees an idle runner
      conclude(status, metrics, false);
      resolveEnded();
    };

    this.current = run;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(this.check(controller.signal));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        let reading;
        try {
          reading = readingOf(value, this.classify, this.clock.now());
        } catch (err) {
          reading = { status: failed(`classifying the check's metrics threw: ${reasonOf(err)}`), metrics: undefined };
        }
        settle(reading.status, reading.metrics);
      },
      (err: unknown) => settle(failed(reasonOf(err)), undefined),
    );
    return run;
  }
}
