import { context, trace } from '@opentelemetry/api';
import { REJECTED } from '../../src/breaker/index.js';
import { BreakerInstrumentation, GuardedCall, HttpPolicy, refuse } from '../shared/index.js';
import type { HttpBreakerInstrumentationConfig } from '../shared/index.js';
import type { Dispatcher, DispatchFn, DispatchOptions, Handler } from './types.js';

// Where undici (Node's bundled copy and the npm package alike, versions 5 to 7) keeps the
// global dispatcher that `fetch` and `undici.request` use.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
const globals = globalThis as unknown as Record<symbol, Dispatcher | undefined>;

/**
 * Puts every global `fetch` and undici request behind the breaker of its destination, through
 * an interceptor composed onto the global dispatcher (Node's built-in fetch and the undici
 * package share it). A refused call fails like a network error: `fetch` rejects with
 * `TypeError: fetch failed` whose `cause` is the `CircuitOpenError`; no socket is opened.
 *
 * Not covered: calls with their own `dispatcher` option or a user-made Pool/Client, a global
 * dispatcher the application sets after this instrumentation is enabled, and handlers written
 * for undici 7's new callback API (passed through unguarded).
 */
export class UndiciBreakerInstrumentation extends BreakerInstrumentation<HttpBreakerInstrumentationConfig> {
  private readonly policy: HttpPolicy;

  private previous: Dispatcher | undefined;
  private installed: Dispatcher | undefined;

  constructor(config: HttpBreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-undici', config);
    this.policy = new HttpPolicy(config);
    this.enableIfConfigured();
  }

  protected install(): void {
    // Node creates its global dispatcher on the first fetch() call. A data: URL makes it do so
    // now without touching the network, so we wrap Node's own undici, whatever its version,
    // and never load a second copy.
    if (globals[GLOBAL_DISPATCHER] === undefined && typeof globalThis.fetch === 'function') {
      globalThis.fetch('data:,').catch(() => undefined);
    }
    const previous = globals[GLOBAL_DISPATCHER];
    if (previous === undefined || typeof previous.dispatch !== 'function') {
      this._diag.warn('otel-self-heal: no undici global dispatcher to wrap; fetch is not guarded');
      return;
    }
    const interceptor = (dispatch: DispatchFn): DispatchFn => (opts, handler) => this.dispatch(dispatch, opts, handler);
    this.previous = previous;
    this.installed =
      typeof previous.compose === 'function'
        ? previous.compose(interceptor)
        : Object.assign(Object.create(previous) as Dispatcher, { dispatch: interceptor(previous.dispatch.bind(previous)) });
    globals[GLOBAL_DISPATCHER] = this.installed;
  }

  protected uninstall(): void {
    if (this.previous && globals[GLOBAL_DISPATCHER] === this.installed) globals[GLOBAL_DISPATCHER] = this.previous;
    this.previous = this.installed = undefined;
  }

  private dispatch(next: DispatchFn, opts: DispatchOptions, handler: Handler): boolean {
    let guarded: Handler;
    try {
      const ctx = context.active();
      if (!this.enabled || opts.origin === undefined || !isLegacyHandler(handler) || this.policy.suppressed(ctx)) return next(opts, handler);
      const target = this.policy.targetForOrigin(String(opts.origin));
      if (target === null) return next(opts, handler);
      const breaker = this.runtime.registry.get(target.name);
      const permit = breaker.tryAcquire();
      if (permit === REJECTED) {
        const error = refuse(this.runtime, breaker, target, opts.method, opts.path ?? '');
        queueMicrotask(() => handler.onError?.(error));
        return true;
      }
      // The official undici instrumentation's span is made later and never made active: the
      // evidence and the context for transition events are the caller's.
      const call = new GuardedCall(this.runtime, this.policy, breaker, permit, target, ctx, trace.getSpan(ctx)?.spanContext());
      guarded = new GuardedHandler(handler, call);
    } catch (err) {
      this._diag.error('otel-self-heal: guarding a fetch/undici request failed; it goes through unguarded', err);
      return next(opts, handler);
    }
    return next(opts, guarded);
  }
}

/** undici 6 (and Node 20's fetch) use the legacy callbacks; a handler with only the new ones is left alone. */
function isLegacyHandler(handler: Handler): boolean {
  return typeof handler.onHeaders === 'function' || typeof handler.onError === 'function';
}

/** Passes every callback through to the caller's handler, settling the call on the response headers or the error. */
class GuardedHandler implements Handler {
  private abortedByCaller = false;

  constructor(
    private readonly inner: Handler,
    private readonly call: GuardedCall,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    // fetch aborts through this function (AbortSignal, body cancelled): whatever reason it
    // gives, that is the caller giving up, not the downstream failing.
    return this.inner.onConnect?.((err?: Error) => {
      if (!this.call.isSettled && !isTimeout(err)) this.abortedByCaller = true;
      abort(err);
    });
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.call.response(statusCode);
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.call.release();
    return this.inner.onComplete?.(trailers);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: unknown): void {
    this.call.succeeded();
    return this.inner.onUpgrade?.(statusCode, headers, socket);
  }

  onResponseStarted(): void {
    return (this.inner as { onResponseStarted?: () => void }).onResponseStarted?.();
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    return this.inner.onBodySent?.(chunkSize, totalBytesSent);
  }

  onRequestSent(): void {
    return (this.inner as { onRequestSent?: () => void }).onRequestSent?.();
  }

  onError(error: Error): void {
    this.call.error(error, this.abortedByCaller);
    return this.inner.onError?.(error);
  }
}

/** `AbortSignal.timeout()` aborts with a TimeoutError: the client's timeout, the downstream's failure. */
function isTimeout(err: unknown): boolean {
  const e = err as { name?: unknown; cause?: { name?: unknown } } | undefined;
  return e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError';
}
