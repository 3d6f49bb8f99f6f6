import { AsyncLocalStorage } from 'node:async_hooks';
import { context, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api';
import { CircuitOpenError, REJECTED, isCircuitOpenError, type CircuitBreaker } from '../../../src/breaker/index.js';
import type { BreakerRuntime } from '../types.js';
import type { DbPolicy, DbTarget } from './DbPolicy.js';

/** A call the breaker let through; settle it exactly once with how it ended. */
export class DbCall {
  private settled = false;
  private timeless = false;
  private readonly start: number;

  constructor(
    private readonly runtime: BreakerRuntime,
    private readonly policy: DbPolicy,
    private readonly breaker: CircuitBreaker,
    private readonly permit: number,
    readonly target: DbTarget,
    private readonly ctx: Context,
    private readonly evidence: SpanContext | undefined,
  ) {
    this.start = breaker.options.timed || runtime.observe ? Date.now() : -1;
  }

  /**
   * The call waits by design (Redis BLPOP, XREAD BLOCK, WAIT): its duration says nothing about the
   * server, so neither the slow-call rule nor health's latency sees it.
   */
  untimed(): this {
    this.timeless = true;
    return this;
  }

  /** A call outside the breakers (see {@link unguarded}): settling it records nothing. */
  static inert(target: DbTarget): DbCall {
    const call = Object.create(DbCall.prototype) as DbCall;
    Object.assign(call, { settled: true, timeless: true, start: -1, target });
    return call;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** The call ended: with `error` when it failed (the policy decides whether that counts). */
  settle(error?: unknown): void {
    if (this.settled) return;
    // A refusal by a breaker (a nested guarded call's) says nothing about the server.
    if (error !== undefined && error !== null && isCircuitOpenError(error)) return this.release();
    this.settled = true;
    const failed = error !== undefined && error !== null && this.policy.isFailure(error, this.target.destination);
    const duration = this.start >= 0 && !this.timeless ? Date.now() - this.start : 0;
    const telemetry = this.runtime.telemetry;
    const outer = telemetry.callContext;
    telemetry.callContext = this.ctx;
    try {
      if (failed) this.breaker.recordFailure(this.permit, duration, this.evidence);
      else this.breaker.recordSuccess(this.permit, duration);
      this.runtime.observe?.(this.target.name, failed, duration);
    } finally {
      telemetry.callContext = outer;
    }
  }

  /** The call ended without a verdict (cancelled by the caller): it says nothing about the server. */
  release(): void {
    if (this.settled) return;
    this.settled = true;
    this.breaker.release(this.permit);
  }
}

// Its own async store, not the OTel context: it must work with no context manager registered.
const unguardedCalls = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with its database calls (and those they lead to, such as a pool's connect) outside
 * the breakers, neither refused nor counted: the plugin's own health checks, which must reach a
 * server whose breaker is open.
 */
export function unguarded<T>(fn: () => T): T {
  pendingUnguarded++;
  let result: T;
  try {
    result = unguardedCalls.run(true, fn);
  } catch (err) {
    pendingUnguarded--;
    throw err;
  }
  if (result instanceof Promise) result.then(done, done);
  else pendingUnguarded--;
  return result;
}

/** Unguarded work still running: while there is none, `admit` skips the async-store lookup. */
let pendingUnguarded = 0;
const done = (): void => {
  pendingUnguarded--;
};

/** What {@link admit} decided: go ahead with a {@link DbCall}, or fail with the error. */
export type Admission = { call: DbCall; refused?: undefined } | { call?: undefined; refused: CircuitOpenError };

/**
 * Asks the target's breaker for a permit. Refused calls are recorded (span event on
 * `callSpan` when given and recording, else a CLIENT span of ours) and get the error to fail
 * with through the client's own error path.
 */
export function admit(runtime: BreakerRuntime, policy: DbPolicy, target: DbTarget, operation: string, callSpan?: Span, ctx: Context = context.active()): Admission {
  if (pendingUnguarded > 0 && unguardedCalls.getStore() === true) return { call: DbCall.inert(target) };
  const breaker = runtime.registry.get(target.name);
  const permit = breaker.tryAcquire();
  if (permit === REJECTED) {
    const state = breaker.peekState();
    const retryAt = breaker.retryAt;
    const error = CircuitOpenError.withoutStack(target.name, state === 'closed' ? 'open' : state, retryAt === Infinity ? undefined : retryAt);
    const d = target.destination;
    runtime.telemetry.rejectedDb(error, { system: d.system, namespace: d.database, operation, serverAddress: d.host, serverPort: d.port }, callSpan);
    return { refused: error };
  }
  return { call: new DbCall(runtime, policy, breaker, permit, target, ctx, trace.getSpan(ctx)?.spanContext()) };
}
