import { diag, type SpanContext } from '@opentelemetry/api';
import { systemClock, type Clock } from '../clock.js';
import { Listeners, type Disposer } from '../disposer.js';
import { defaultResolvedOptions, resolveBreakerOptions, type BreakerOptions, type ResolvedBreakerOptions } from './config.js';
import { CircuitOpenError } from './errors.js';
import type { Fallback } from './fallback.js';
import type { BreakerState, CircuitState, TransitionReason } from './state.js';
import { CountWindow, TimeWindow, type OutcomeWindow } from './window.js';

/** Spec 2.3.4 `CircuitBreakerResult`, as a discriminated union. */
export type CircuitBreakerResult<T> =
  | { readonly kind: 'success'; readonly value: T }
  | { readonly kind: 'failure'; readonly error: unknown }
  | { readonly kind: 'circuit-open'; readonly error: CircuitOpenError };

/** One state change, as listeners and telemetry see it. */
export interface StateChange {
  readonly breaker: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: TransitionReason;
  /** Failure rate (0..1) of the window (closed) or of the probes (half-open) that decided it. */
  readonly failureRate: number;
  readonly slowCallRate: number;
  readonly timestamp: number;
  /** When an open breaker will let probes through (epoch ms). */
  readonly retryAt?: number;
  /** Span contexts of the most recent failed calls, for links to the evidence. */
  readonly evidence: readonly SpanContext[];
}

/** How calls behave, beside the numeric options: none of it is needed for the defaults. */
export interface BreakerBehaviour<T = unknown> {
  /** What to return instead of a {@link CircuitOpenError} (and, if asked, instead of a failure). */
  fallback?: Fallback<T>;
  /** Whether an error thrown by the call counts against the downstream. Default: every error does. */
  isFailure?: (error: unknown) => boolean;
  clock?: Clock;
  /** Source of jitter, [0, 1). Default `Math.random`. */
  random?: () => number;
  /** @internal the registry's hook, so it can fan transitions out without a listener per breaker. */
  onStateChange?: (change: StateChange) => void;
}

/** Permit value returned by {@link CircuitBreaker.tryAcquire} when the call must not run. */
export const REJECTED = -1;
const EVIDENCE_KEPT = 4;
const CLOSED: BreakerState = Object.freeze({ kind: 'closed' });
const alwaysFailure = () => true;

/**
 * A circuit breaker (spec 2.3). It holds no timer: the move from open to half-open is a clock
 * check when a call arrives. Two ways to call through it: {@link call} returns the result or
 * throws, {@link execute} never throws and returns a {@link CircuitBreakerResult}. Code that
 * issues requests itself (the instrumentations) uses {@link tryAcquire} and the `record*`
 * methods, which allocate nothing.
 */
export class CircuitBreaker<T = unknown> {
  readonly name: string;
  private opts: ResolvedBreakerOptions;
  private window: OutcomeWindow;
  private s: BreakerState = CLOSED;
  /** Bumped on every transition, so outcomes of calls admitted under an older state are not misread. */
  private epoch = 0;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly fallback: Fallback<T> | undefined;
  private readonly hook: ((change: StateChange) => void) | undefined;
  private listeners: Listeners<StateChange> | undefined;
  private evidence: SpanContext[] | undefined;
  private rejection: { epoch: number; error: CircuitOpenError; promise: Promise<never> } | undefined;
  private lastGood: { value: T; at: number } | undefined;
  private handlers: { permit: number; ok: (value: T) => T; fail: (error: unknown) => never } | undefined;

  /** Calls that completed successfully, ever. */
  successes = 0;
  /** Calls that completed and counted as failures, ever. */
  failures = 0;
  /** Calls refused without running, ever. */
  rejections = 0;
  /** Calls answered by the fallback, ever. */
  fallbacks = 0;
  /** When the breaker was last asked for a permit (epoch ms); set by the registry. */
  lastUsed = 0;

  constructor(name: string, options: BreakerOptions | ResolvedBreakerOptions = {}, behaviour: BreakerBehaviour<T> = {}) {
    this.name = name;
    this.opts = isResolved(options) ? options : isEmpty(options) ? defaultResolvedOptions() : resolveBreakerOptions(options);
    this.window = makeWindow(this.opts);
    this.clock = behaviour.clock ?? systemClock;
    this.random = behaviour.random ?? Math.random;
    this.isFailure = behaviour.isFailure ?? alwaysFailure;
    this.fallback = behaviour.fallback;
    this.hook = behaviour.onStateChange;
  }

  /** Spec `state()`. Reading it may move an open breaker whose reset timeout has passed to half-open. */
  get state(): CircuitState {
    const s = this.s;
    if (s.kind === 'open' && this.clock.now() >= s.retryAt) this.toHalfOpen(s.trips);
    return this.s.kind;
  }

  /**
   * The state as last recorded: unlike {@link state} it never moves an open breaker whose reset
   * timeout has passed to half-open (that happens, with its event, when the next call arrives).
   * For observers such as metric callbacks, which must not cause transitions.
   */
  peekState(): CircuitState {
    return this.s.kind;
  }

  /** True while closed; unlike {@link state}, reading it never moves the breaker to half-open. */
  get isClosed(): boolean {
    return this.s.kind === 'closed';
  }

  /** Spec `failure_rate()`: failed share of the calls in the window (0 when it holds none). */
  get failureRate(): number {
    this.window.refresh(this.clock.now());
    return this.window.total === 0 ? 0 : this.window.failures / this.window.total;
  }

  get slowCallRate(): number {
    this.window.refresh(this.clock.now());
    return this.window.total === 0 ? 0 : this.window.slow / this.window.total;
  }

  /** Calls currently counted in the window. */
  get windowCalls(): number {
    this.window.refresh(this.clock.now());
    return this.window.total;
  }

  get options(): ResolvedBreakerOptions {
    return this.opts;
  }

  /** When the breaker will let probes through again (epoch ms), while open. */
  get retryAt(): number | undefined {
    return this.s.kind === 'open' ? this.s.retryAt : undefined;
  }

  /** Subscribes to every state change. Listener errors are reported through OTel diag, never thrown. */
  onStateChange(listener: (change: StateChange) => void): Disposer {
    this.listeners ??= new Listeners((err) => diag.error(`otel-self-heal: a state-change listener of "${this.name}" threw`, err));
    return this.listeners.add(listener);
  }

  /**
   * Asks to run one call. Returns a permit (>= 0) to pass to {@link recordSuccess},
   * {@link recordFailure} or {@link release}, or {@link REJECTED}; a rejection is counted here.
   */
  tryAcquire(): number {
    let s = this.s;
    if (s.kind === 'closed') return this.epoch;
    if (s.kind === 'open') {
      if (this.clock.now() < s.retryAt) return this.reject();
      this.toHalfOpen(s.trips);
      s = this.s;
      // A state-change listener may have moved the breaker again (e.g. forceOpen()).
      if (s.kind !== 'half-open') return s.kind === 'closed' ? this.epoch : this.reject();
    }
    const h = s as Extract<BreakerState, { kind: 'half-open' }>;
    if (h.inFlight + h.successes + h.failures >= this.opts.halfOpenRequestLimit) {
      // Probes that never answer must not hold the breaker half-open for good: once the slowest
      // acceptable call (slowCallDurationThreshold) has passed, they count as failed.
      if (h.inFlight > 0 && this.clock.now() - h.since >= this.opts.slowCallDurationThreshold) {
        this.trip(h.trips + 1, 'probes-timed-out');
      }
      return this.reject();
    }
    h.inFlight++;
    return this.epoch;
  }

  private reject(): number {
    this.rejections++;
    return REJECTED;
  }

  /** The call admitted with `permit` succeeded; `durationMs` matters only with a slow-call rule or a time window. */
  recordSuccess(permit: number, durationMs = 0): void {
    this.successes++;
    this.settle(permit, false, durationMs, this.windowNow());
  }

  /** The call admitted with `permit` failed. `evidence` is the failed call's span, kept for links. */
  recordFailure(permit: number, durationMs = 0, evidence?: SpanContext): void {
    this.failures++;
    if (evidence && permit === this.epoch) {
      const ev = (this.evidence ??= []);
      // Several failed calls under one parent span give one link, not several identical ones.
      if (!ev.some((e) => e.spanId === evidence.spanId)) {
        if (ev.length === EVIDENCE_KEPT) ev.shift();
        ev.push(evidence);
      }
    }
    this.settle(permit, true, durationMs, this.windowNow());
  }

  /** The call admitted with `permit` ended without an outcome that says anything (e.g. the caller aborted it). */
  release(permit: number): void {
    const s = this.s;
    if (permit === this.epoch && s.kind === 'half-open') s.inFlight--;
  }

  /** Runs `fn` behind the breaker: its result, the fallback, or a rejection with {@link CircuitOpenError}. */
  call(fn: () => T | PromiseLike<T>): Promise<T> {
    const permit = this.tryAcquire();
    if (permit === REJECTED) return this.rejected();
    if (this.opts.timed || this.fallback !== undefined) return this.run(fn, permit);
    // The common case (no duration to measure, no fallback): one `.then` with handlers shared by
    // every call of this state, instead of an async function's extra promise and closure.
    let result: T | PromiseLike<T>;
    try {
      result = fn();
    } catch (error) {
      this.settleError(permit, error, 0);
      return Promise.reject(error);
    }
    const h = this.observers(permit);
    return (result instanceof Promise ? (result as Promise<T>) : Promise.resolve(result)).then(h.ok, h.fail);
  }

  /** Spec `execute`: never throws; says whether the call succeeded, failed or was not let through. */
  execute(fn: () => T | PromiseLike<T>): Promise<CircuitBreakerResult<T>> {
    const permit = this.tryAcquire();
    if (permit === REJECTED) return Promise.resolve({ kind: 'circuit-open', error: this.cachedRejection().error });
    return this.run(fn, permit, true).then(
      (value) => ({ kind: 'success', value }) as const,
      (error: unknown) => ({ kind: 'failure', error }) as const,
    );
  }

  /** Spec `force_open`: open until {@link reset}, whatever the traffic. */
  forceOpen(): void {
    const s = this.s;
    if (s.kind === 'open') {
      // Already open: hold it open, without an open -> open event.
      if (s.retryAt !== Infinity) {
        this.s = { ...s, retryAt: Infinity };
        this.rejection = undefined; // its error carried the old retryAt
      }
      return;
    }
    this.transition({ kind: 'open', openedAt: this.clock.now(), retryAt: Infinity, trips: s.kind === 'closed' ? 1 : s.trips }, 'forced-open');
  }

  /**
   * Opens the circuit on outside evidence (the health monitor found the component failed), with
   * the usual reset timeout and backoff. Does nothing if it is already open.
   */
  open(reason: TransitionReason = 'health-failed'): void {
    const s = this.s;
    if (s.kind === 'open') return;
    this.trip(s.kind === 'half-open' ? s.trips + 1 : 1, reason);
  }

  /** Outside evidence of recovery: an open breaker lets the next call probe instead of waiting out its timeout. */
  probeNow(): void {
    const s = this.s;
    if (s.kind === 'open' && s.retryAt !== Infinity && s.retryAt > this.clock.now()) {
      this.s = { ...s, retryAt: this.clock.now() };
      this.rejection = undefined; // its error carried the old retryAt
    }
  }

  /** Spec `reset`: closed, with an empty window and no backoff memory. */
  reset(): void {
    this.window.reset();
    this.evidence = undefined;
    if (this.s.kind !== 'closed') this.transition(CLOSED, 'reset');
    else this.epoch++; // calls admitted before the reset must not land in the emptied window
  }

  /** Applies new options to the running breaker. The window restarts if its shape changed. */
  reconfigure(options: BreakerOptions | ResolvedBreakerOptions): void {
    const next = isResolved(options) ? options : resolveBreakerOptions(options, this.opts);
    if (next.windowType !== this.opts.windowType || next.windowSize !== this.opts.windowSize) this.window = makeWindow(next);
    this.opts = next;
  }

  /** A plain snapshot for logs and status pages; taking it never changes the state (see {@link peekState}). */
  toJSON(): BreakerSnapshot {
    const state = this.s.kind;
    return {
      name: this.name,
      state,
      failureRate: this.failureRate,
      slowCallRate: this.slowCallRate,
      windowCalls: this.window.total,
      retryAt: this.retryAt === Infinity ? null : (this.retryAt ?? null),
      successes: this.successes,
      failures: this.failures,
      rejections: this.rejections,
      fallbacks: this.fallbacks,
    };
  }

  private observers(permit: number): { permit: number; ok: (value: T) => T; fail: (error: unknown) => never } {
    const cached = this.handlers;
    if (cached !== undefined && cached.permit === permit) return cached;
    return (this.handlers = {
      permit,
      ok: (value: T) => {
        this.recordSuccess(permit);
        return value;
      },
      fail: (error: unknown) => {
        this.settleError(permit, error, 0);
        throw error;
      },
    });
  }

  /** Records a call's error as a failure, or as a success when `isFailure` says it is not one. */
  private settleError(permit: number, error: unknown, durationMs: number, now = this.windowNow()): boolean {
    const failed = this.classify(error);
    if (failed) this.failures++;
    else this.successes++;
    this.settle(permit, failed, durationMs, now);
    return failed;
  }

  private async run(fn: () => T | PromiseLike<T>, permit: number, noFallback = false): Promise<T> {
    const timed = this.opts.timed;
    const lastGood = this.fallback?.kind === 'last-good';
    const clocked = timed || lastGood || this.opts.windowType === 'time';
    const start = timed ? this.clock.now() : 0;
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      const end = clocked ? this.clock.now() : 0;
      const failed = this.settleError(permit, error, timed ? end - start : 0, end);
      if (failed && !noFallback && this.fallback?.on === 'open-or-failure') return this.useFallback(error);
      throw error;
    }
    // One clock read serves the duration, the time window and the last-good stamp.
    const end = clocked ? this.clock.now() : 0;
    this.successes++;
    this.settle(permit, false, timed ? end - start : 0, end);
    if (lastGood) this.lastGood = { value, at: end };
    return value;
  }

  /** The time a time window needs for an outcome; count windows need none. */
  private windowNow(): number {
    return this.opts.windowType === 'time' ? this.clock.now() : 0;
  }

  private classify(error: unknown): boolean {
    try {
      return this.isFailure(error);
    } catch (err) {
      diag.error(`otel-self-heal: isFailure of "${this.name}" threw; counting the call as failed`, err);
      return true;
    }
  }

  private rejected(): Promise<T> {
    const r = this.cachedRejection();
    return this.fallback ? this.useFallback(r.error) : r.promise;
  }

  /**
   * One error and one already-handled rejection per state: a fresh Error per refused call costs
   * ~2 µs of stack capture plus ~1 µs of rejection tracking (research/resilience.md §1.2).
   */
  private cachedRejection(): { epoch: number; error: CircuitOpenError; promise: Promise<never> } {
    const cached = this.rejection;
    if (cached && cached.epoch === this.epoch) return cached;
    const s = this.s;
    const error =
      s.kind === 'open'
        ? new CircuitOpenError(this.name, 'open', s.retryAt === Infinity ? undefined : s.retryAt)
        : new CircuitOpenError(this.name, 'half-open');
    const promise = Promise.reject(error);
    promise.catch(noop);
    return (this.rejection = { epoch: this.epoch, error, promise });
  }

  private async useFallback(error: unknown): Promise<T> {
    const fb = this.fallback!;
    if (fb.kind === 'value') {
      this.fallbacks++;
      return fb.value;
    }
    if (fb.kind === 'function') {
      this.fallbacks++;
      return fb.fn(error);
    }
    const good = this.lastGood;
    if (good && this.clock.now() - good.at <= fb.maxAgeMs) {
      this.fallbacks++;
      return good.value;
    }
    throw error;
  }

  private settle(permit: number, failed: boolean, durationMs: number, now: number): void {
    if (permit !== this.epoch) return; // admitted under an earlier state: its outcome no longer decides anything
    const o = this.opts;
    const slow = o.slowCallRateThreshold < 1 && durationMs >= o.slowCallDurationThreshold;
    const s = this.s;
    if (s.kind === 'closed') {
      const w = this.window;
      w.record(failed, slow, now);
      if (w.total < o.minimumRequests) return;
      // Compare rates, not counts against threshold * total: the product can round above the
      // count (0.28 * 25 = 7.000000000000001), and then a rate equal to the threshold would not trip.
      // The slow rule is judged on every call, like the failure rule, not only on slow ones.
      if (w.failures / w.total >= o.failureThreshold) this.trip(1, 'failure-rate');
      else if (o.slowCallRateThreshold < 1 && w.slow / w.total >= o.slowCallRateThreshold) this.trip(1, 'slow-call-rate');
    } else if (s.kind === 'half-open') {
      s.inFlight--;
      if (failed || slow) s.failures++;
      else s.successes++;
      if (s.successes >= o.probesToClose) {
        this.window.reset();
        this.evidence = undefined;
        this.transition(CLOSED, 'probes-succeeded');
      } else if (s.failures > o.halfOpenRequestLimit - o.probesToClose) {
        this.trip(s.trips + 1, 'probes-failed');
      }
    }
  }

  private trip(trips: number, reason: TransitionReason): void {
    const o = this.opts;
    const now = this.clock.now();
    const base = Math.min(o.maxResetTimeout, o.resetTimeout * o.backoffMultiplier ** (trips - 1));
    // Jitter only shortens the interval, so `maxResetTimeout` stays a true upper bound.
    const interval = base * (1 - o.jitter * this.random());
    this.transition({ kind: 'open', openedAt: now, retryAt: now + interval, trips }, reason);
  }

  private toHalfOpen(trips: number): void {
    this.transition({ kind: 'half-open', trips, since: this.clock.now(), inFlight: 0, successes: 0, failures: 0 }, 'reset-timeout-elapsed');
  }

  private transition(next: BreakerState, reason: TransitionReason): void {
    const prev = this.s;
    // Rates are read before the state changes: they are the evidence for the decision.
    const probes = prev.kind === 'half-open' ? prev.successes + prev.failures : 0;
    const failureRate =
      prev.kind === 'half-open' ? (probes ? prev.failures / probes : 0) : this.window.total ? this.window.failures / this.window.total : 0;
    const slowCallRate = this.window.total ? this.window.slow / this.window.total : 0;
    this.s = next;
    this.epoch++;
    if (!this.hook && !this.listeners?.size) return;
    const change: StateChange = {
      breaker: this.name,
      from: prev.kind,
      to: next.kind,
      reason,
      failureRate,
      slowCallRate,
      timestamp: this.clock.now(),
      retryAt: next.kind === 'open' && next.retryAt !== Infinity ? next.retryAt : undefined,
      evidence: this.evidence ? [...this.evidence] : [],
    };
    if (this.hook) {
      try {
        this.hook(change);
      } catch (err) {
        diag.error('otel-self-heal: state-change hook threw', err);
      }
    }
    this.listeners?.emit(change);
  }
}

export interface BreakerSnapshot {
  name: string;
  state: CircuitState;
  failureRate: number;
  slowCallRate: number;
  windowCalls: number;
  retryAt: number | null;
  successes: number;
  failures: number;
  rejections: number;
  fallbacks: number;
}

function noop(): void {}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

function isResolved(o: BreakerOptions | ResolvedBreakerOptions): o is ResolvedBreakerOptions {
  return Object.isFrozen(o) && 'probesToClose' in o;
}

function makeWindow(o: ResolvedBreakerOptions): OutcomeWindow {
  return o.windowType === 'time' ? new TimeWindow(o.windowSize) : new CountWindow(o.windowSize);
}
