import http from 'node:http';
import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import { CircuitOpenError, REJECTED, type CircuitBreaker } from '../../src/breaker/index.js';
import { BreakerInstrumentation } from '../shared/BreakerInstrumentation.js';
import { originOf } from '../shared/HttpPolicy.js';
import type { HttpBreakerInstrumentationConfig, HttpDestination } from '../shared/types.js';

type AddRequest = (this: http.Agent, req: http.ClientRequest, options: AgentRequestOptions) => void;
interface AgentRequestOptions {
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
  socketPath?: string;
}
interface PatchSlot {
  original: AddRequest;
  wrapper: AddRequest;
  active: HttpBreakerInstrumentation | undefined;
}

// One patch per process, shared by every copy of this package (ESM and CJS builds, two versions).
const SLOT = Symbol.for('otel-self-heal.http.addRequest');
const globalSlots = globalThis as unknown as Record<symbol, PatchSlot | undefined>;

/**
 * Puts every outgoing node:http / node:https request behind the breaker of its destination.
 * The choke point is `http.Agent.prototype.addRequest` (https.Agent inherits it): it sees
 * requests from `http.request`, `http.get`, `https.*` and libraries built on them (axios, got,
 * node-fetch 2), whatever the load order, and the official instrumentation never patches it.
 * A refused request gets `'error'` with a {@link CircuitOpenError} on the next tick, as a
 * connection failure would, and no socket is opened.
 */
export class HttpBreakerInstrumentation extends BreakerInstrumentation {
  constructor(config: HttpBreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-http', config);
    this.enableIfConfigured();
  }

  protected install(): void {
    let slot = globalSlots[SLOT];
    const proto = http.Agent.prototype as unknown as { addRequest: AddRequest };
    if (!slot || (proto.addRequest !== slot.wrapper && !isOurs(proto.addRequest))) {
      // Someone replaced our wrapper (or never saw it): wrap again on top, and make the old one a pass-through.
      if (slot) slot.active = undefined;
      const original = proto.addRequest;
      const s: PatchSlot = {
        original,
        active: undefined,
        wrapper: function addRequest(this: http.Agent, req, options) {
          const inst = s.active;
          if (inst !== undefined && !inst.admit(this, req, options)) return;
          return original.call(this, req, options);
        },
      };
      (s.wrapper as unknown as Record<symbol, boolean>)[SLOT] = true;
      proto.addRequest = s.wrapper;
      globalSlots[SLOT] = slot = s;
    }
    slot.active = this;
  }

  protected uninstall(): void {
    const slot = globalSlots[SLOT];
    if (!slot || slot.active !== this) return;
    slot.active = undefined;
    const proto = http.Agent.prototype as unknown as { addRequest: AddRequest };
    // Restore only if nobody wrapped on top of us; otherwise stay as a pass-through.
    if (proto.addRequest === slot.wrapper) {
      proto.addRequest = slot.original;
      globalSlots[SLOT] = undefined;
    }
  }

  /** Decides one request: true to let it through (with its outcome tracked), false when refused. */
  admit(agent: http.Agent, req: http.ClientRequest, options: AgentRequestOptions): boolean {
    if (options.socketPath || this.policy.suppressed()) return true;
    const protocol = (agent as { protocol?: string }).protocol ?? 'http:';
    const host = options.host || options.hostname || 'localhost';
    const port = Number(options.port) || (agent as { defaultPort?: number }).defaultPort || 80;
    const destination: HttpDestination = { protocol, host, port, origin: originOf(protocol, host, port) };
    const name = this.policy.breakerName(destination);
    if (name === null) return true;
    const breaker = this.runtime.registry.get(name);
    const permit = breaker.tryAcquire();
    const active = trace.getSpan(context.active());
    if (permit === REJECTED) {
      const state = breaker.state === 'closed' ? 'open' : breaker.state;
      const error = new CircuitOpenError(name, state, breaker.retryAt === Infinity ? undefined : breaker.retryAt);
      this.runtime.telemetry.rejected(
        error,
        { method: req.method, url: destination.origin + req.path, serverAddress: host, serverPort: port },
        isClientSpan(active) ? active : undefined,
      );
      // Fails the request the way a refused connection would: 'error' then 'close', next tick.
      (req as unknown as { onSocket(socket: null, err: Error): void }).onSocket(null, error);
      return false;
    }
    this.track(req, breaker, permit, destination, isClientSpan(active) ? active : undefined);
    return true;
  }

  /**
   * Watches the request's own emits instead of adding listeners: a 'response' listener would
   * stop Node from dumping an unread response, and an 'error' listener would swallow errors the
   * application does not handle.
   */
  private track(req: http.ClientRequest, breaker: CircuitBreaker, permit: number, destination: HttpDestination, span: Span | undefined): void {
    const start = Date.now();
    const policy = this.policy;
    let settled = false;
    // `req.destroy()` with no reason makes Node emit ECONNRESET "socket hang up", the same error
    // as a server dropping the connection: only the call tells the caller's abort apart. After a
    // 'timeout' event the destroy is the usual timeout handling, so the downstream is to blame.
    let timedOut = false;
    let abortedByCaller = false;
    const destroy = req.destroy;
    req.destroy = function (this: http.ClientRequest, error?: Error) {
      if (!settled && error === undefined && !timedOut) abortedByCaller = true;
      return destroy.call(this, error);
    };
    const emit = req.emit;
    req.emit = function (this: http.ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
      if (!settled) {
        if (event === 'response') {
          settled = true;
          const statusCode = (args[0] as http.IncomingMessage).statusCode ?? 0;
          if (policy.isFailure({ kind: 'response', statusCode, destination })) breaker.recordFailure(permit, Date.now() - start, span?.spanContext());
          else breaker.recordSuccess(permit, Date.now() - start);
        } else if (event === 'timeout') {
          timedOut = true;
        } else if (event === 'error') {
          settled = true;
          const error = args[0] as Error;
          if (!abortedByCaller && policy.isFailure({ kind: 'error', error, destination })) {
            breaker.recordFailure(permit, Date.now() - start, span?.spanContext());
          } else {
            breaker.release(permit);
          }
        } else if (event === 'close') {
          settled = true;
          breaker.release(permit);
        }
      }
      return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
    } as typeof req.emit;
  }
}

function isOurs(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[SLOT] === true;
}

/** The active span is the request's own when an HTTP client instrumentation opened it around this call. */
function isClientSpan(span: Span | undefined): span is Span {
  return !!span && span.isRecording() && (span as unknown as { kind?: SpanKind }).kind === SpanKind.CLIENT;
}
