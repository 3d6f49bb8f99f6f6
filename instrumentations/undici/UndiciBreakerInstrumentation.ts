import { context, trace, type SpanContext } from '@opentelemetry/api';
import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { CircuitOpenError, REJECTED, type CircuitBreaker } from '../../src/breaker/index.js';
import { BreakerInstrumentation } from '../shared/BreakerInstrumentation.js';
import { destinationFromOrigin, type HttpPolicy } from '../shared/HttpPolicy.js';
import type { HttpBreakerInstrumentationConfig, HttpDestination } from '../shared/types.js';

type DispatchFn = Dispatcher['dispatch'];
type Handler = Dispatcher.DispatchHandlers;
const DESTINATION_CACHE_MAX = 1024;

/**
 * Puts every global `fetch` and undici request behind the breaker of its destination, through
 * an interceptor composed onto the global dispatcher (Node's built-in fetch and the undici
 * package share it). A refused call fails like a network error: `fetch` rejects with
 * `TypeError: fetch failed` whose `cause` is the {@link CircuitOpenError}; no socket is opened.
 *
 * Not covered: calls with their own `dispatcher` option or a user-made Pool/Client, and a
 * global dispatcher the application sets after this instrumentation is enabled.
 */
export class UndiciBreakerInstrumentation extends BreakerInstrumentation {
  private previous: Dispatcher | undefined;
  private installed: Dispatcher | undefined;
  private readonly destinations = new Map<string, HttpDestination | null>();

  constructor(config: HttpBreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-undici', config);
    this.enableIfConfigured();
  }

  protected install(): void {
    this.previous = getGlobalDispatcher();
    this.installed = this.previous.compose((dispatch) => (opts, handler) => this.dispatch(dispatch, opts, handler));
    setGlobalDispatcher(this.installed);
  }

  protected uninstall(): void {
    if (this.previous && getGlobalDispatcher() === this.installed) setGlobalDispatcher(this.previous);
    this.previous = this.installed = undefined;
  }

  private dispatch(next: DispatchFn, opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    if (!this.enabled || this.policy.suppressed()) return next(opts, handler);
    const destination = this.destination(opts.origin);
    const name = destination && this.policy.breakerName(destination);
    if (!destination || !name) return next(opts, handler);
    const breaker = this.runtime.registry.get(name);
    const permit = breaker.tryAcquire();
    if (permit === REJECTED) {
      const state = breaker.state === 'closed' ? 'open' : breaker.state;
      const error = new CircuitOpenError(name, state, breaker.retryAt === Infinity ? undefined : breaker.retryAt);
      this.runtime.telemetry.rejected(error, {
        method: opts.method,
        url: destination.origin + (opts.path ?? ''),
        serverAddress: destination.host,
        serverPort: destination.port,
      });
      queueMicrotask(() => handler.onError?.(error));
      return true;
    }
    const evidence = trace.getSpan(context.active())?.spanContext();
    return next(opts, new BreakerHandler(handler, breaker, permit, destination, this.policy, evidence));
  }

  private destination(origin: Dispatcher.DispatchOptions['origin']): HttpDestination | null {
    if (origin === undefined) return null;
    const key = String(origin);
    let d = this.destinations.get(key);
    if (d === undefined) {
      d = destinationFromOrigin(key) ?? null;
      if (this.destinations.size >= DESTINATION_CACHE_MAX) this.destinations.clear();
      this.destinations.set(key, d);
    }
    return d;
  }
}

/**
 * Passes every callback through to the caller's handler (undici's legacy handler API, which
 * undici 6 and Node 20's fetch use), settling the breaker on the response headers or the error.
 */
class BreakerHandler implements Handler {
  private settled = false;
  private readonly start = Date.now();

  constructor(
    private readonly inner: Handler,
    private readonly breaker: CircuitBreaker,
    private readonly permit: number,
    private readonly destination: HttpDestination,
    private readonly policy: HttpPolicy,
    private readonly evidence: SpanContext | undefined,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    return this.inner.onConnect?.(abort);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (!this.settled) {
      this.settled = true;
      if (this.policy.isFailure({ kind: 'response', statusCode, destination: this.destination })) {
        this.breaker.recordFailure(this.permit, Date.now() - this.start, this.evidence);
      } else {
        this.breaker.recordSuccess(this.permit, Date.now() - this.start);
      }
    }
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    return this.inner.onComplete?.(trailers);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Parameters<NonNullable<Handler['onUpgrade']>>[2]): void {
    if (!this.settled) {
      this.settled = true;
      this.breaker.recordSuccess(this.permit, Date.now() - this.start);
    }
    return this.inner.onUpgrade?.(statusCode, headers, socket);
  }

  onResponseStarted(): void {
    return (this.inner as { onResponseStarted?: () => void }).onResponseStarted?.();
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    return this.inner.onBodySent?.(chunkSize, totalBytesSent);
  }

  onError(error: Error): void {
    if (!this.settled) {
      this.settled = true;
      if (this.policy.isFailure({ kind: 'error', error, destination: this.destination })) {
        this.breaker.recordFailure(this.permit, Date.now() - this.start, this.evidence);
      } else {
        this.breaker.release(this.permit);
      }
    }
    return this.inner.onError?.(error);
  }
}
