import type { Context, Span, SpanContext } from '@opentelemetry/api';
import { CircuitOpenError, type CircuitBreaker } from '../../src/breaker/index.js';
import type { HttpPolicy, Target } from './HttpPolicy.js';
import type { BreakerRuntime } from './types.js';

/**
 * One admitted call. Whatever its client reports (response, error, abort, close, in any order
 * and any number of times), the breaker's permit is settled exactly once, in the context the
 * call was made in, so a transition it causes is attributed to that call's span.
 */
export class GuardedCall {
  private settled = false;
  private readonly start: number;

  constructor(
    private readonly runtime: BreakerRuntime,
    private readonly policy: HttpPolicy,
    private readonly breaker: CircuitBreaker,
    private readonly permit: number,
    private readonly target: Target,
    private readonly ctx: Context,
    private readonly evidence: SpanContext | undefined,
  ) {
    // Durations matter only to a slow-call rule; spare the clock read otherwise.
    this.start = breaker.options.timed ? Date.now() : -1;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Response headers arrived. */
  response(statusCode: number): void {
    if (this.settled) return;
    this.settled = true;
    this.record(this.policy.isFailure({ kind: 'response', statusCode, destination: this.target.destination }));
  }

  /** The call failed before a response; an abort by the caller says nothing about the downstream. */
  error(error: Error, abortedByCaller = false): void {
    if (this.settled) return;
    this.settled = true;
    if (abortedByCaller) this.breaker.release(this.permit);
    else this.record(this.policy.isFailure({ kind: 'error', error, destination: this.target.destination }));
  }

  /** The connection was taken over (upgrade, CONNECT): the downstream answered. */
  succeeded(): void {
    if (this.settled) return;
    this.settled = true;
    this.record(false);
  }

  /** The call ended without an outcome (closed before any response or error). */
  release(): void {
    if (this.settled) return;
    this.settled = true;
    this.breaker.release(this.permit);
  }

  private record(failed: boolean): void {
    const duration = this.start >= 0 ? Date.now() - this.start : 0;
    const telemetry = this.runtime.telemetry;
    const outer = telemetry.callContext;
    telemetry.callContext = this.ctx;
    try {
      if (failed) this.breaker.recordFailure(this.permit, duration, this.evidence);
      else this.breaker.recordSuccess(this.permit, duration);
    } finally {
      telemetry.callContext = outer;
    }
  }
}

/** Builds the error for a refused call and records the refusal on its span (or one made for it). */
export function refuse(runtime: BreakerRuntime, breaker: CircuitBreaker, target: Target, method: string, path: string, callSpan?: Span): CircuitOpenError {
  const state = breaker.peekState();
  const retryAt = breaker.retryAt;
  const error = CircuitOpenError.withoutStack(target.name, state === 'closed' ? 'open' : state, retryAt === Infinity ? undefined : retryAt);
  const d = target.destination;
  runtime.telemetry.rejected(error, { method, origin: d.origin, path, serverAddress: d.host, serverPort: d.port }, callSpan);
  return error;
}
