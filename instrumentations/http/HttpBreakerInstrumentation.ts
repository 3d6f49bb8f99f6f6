import http from 'node:http';
import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import { REJECTED } from '../../src/breaker/index.js';
import { BreakerInstrumentation, GuardedCall, HttpPolicy, refuse } from '../shared/index.js';
import type { HttpBreakerInstrumentationConfig } from '../shared/index.js';

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

// The plugin's own health checks mark their agent so (see src/health/checks/unguarded.ts).
const UNGUARDED_AGENT = Symbol.for('otel-self-heal.unguarded-agent');

// One patch per process, shared by every copy of this package (ESM and CJS builds, two versions).
const SLOT = Symbol.for('otel-self-heal.http.addRequest');
const globalSlots = globalThis as unknown as Record<symbol, PatchSlot | undefined>;

/**
 * Puts every outgoing node:http / node:https request behind the breaker of its destination.
 * The choke point is `http.Agent.prototype.addRequest` (https.Agent inherits it): it sees
 * requests from `http.request`, `http.get`, `https.*` and libraries built on them (axios, got,
 * node-fetch 2), whatever the load order, and the official instrumentation never patches it.
 * A refused request gets `'error'` with a `CircuitOpenError` on the next tick, as a connection
 * failure would, and no socket is opened.
 */
export class HttpBreakerInstrumentation extends BreakerInstrumentation<HttpBreakerInstrumentationConfig> {
  private readonly policy: HttpPolicy;

  constructor(config: HttpBreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-http', config);
    this.policy = new HttpPolicy(config);
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

  /** Decides one request: true to let it through (with its outcome tracked), false when refused. Never throws. */
  admit(agent: http.Agent, req: http.ClientRequest, options: AgentRequestOptions): boolean {
    try {
      const ctx = context.active(); // read once: the suppress flag, the call's span and its context
      if (options.socketPath || (agent as unknown as Record<symbol, unknown>)[UNGUARDED_AGENT] === true || this.policy.suppressed(ctx)) return true;
      const protocol = (agent as { protocol?: string }).protocol ?? 'http:';
      const port = Number(options.port) || (agent as { defaultPort?: number }).defaultPort || 80;
      const target = this.policy.target(protocol, options.host || options.hostname || 'localhost', port);
      if (target === null) return true;
      const breaker = this.runtime.registry.get(target.name);
      const permit = breaker.tryAcquire();
      const span = trace.getSpan(ctx);
      const callSpan = isClientSpan(span) ? span : undefined;
      if (permit === REJECTED) {
        const error = refuse(this.runtime, breaker, target, req.method, req.path, callSpan);
        // Fails the request the way a refused connection would: 'error' then 'close', next tick.
        (req as unknown as { onSocket(socket: null, err: Error): void }).onSocket(null, error);
        return false;
      }
      watch(req, new GuardedCall(this.runtime, this.policy, breaker, permit, target, ctx, (callSpan ?? span)?.spanContext()));
      return true;
    } catch (err) {
      // Our bug must not become the application's: let the request through unguarded.
      this._diag.error('otel-self-heal: guarding an http request failed; it goes through unguarded', err);
      return true;
    }
  }
}

/**
 * Follows the request through its own emits instead of listeners: a 'response' listener would
 * stop Node from dumping an unread response, and an 'error' listener would swallow errors the
 * application does not handle. `destroy()` is watched too: Node reports a bare `destroy()` as
 * ECONNRESET "socket hang up", the same error as a server dropping the connection.
 */
function watch(req: http.ClientRequest, call: GuardedCall): void {
  let timedOut = false;
  let abortedByCaller = false;
  const destroy = req.destroy;
  req.destroy = function (this: http.ClientRequest, error?: Error) {
    // After a 'timeout' event the destroy is the usual timeout handling: the downstream's failure.
    if (!call.isSettled && error === undefined && !timedOut) abortedByCaller = true;
    return destroy.call(this, error);
  };
  const emit = req.emit;
  req.emit = function (this: http.ClientRequest, event: string | symbol): boolean {
    if (!call.isSettled) {
      if (event === 'response') call.response((arguments[1] as http.IncomingMessage).statusCode ?? 0);
      else if (event === 'error') call.error(arguments[1] as Error, abortedByCaller);
      else if (event === 'upgrade' || event === 'connect') call.succeeded();
      else if (event === 'timeout') timedOut = true;
      else if (event === 'close') call.release();
    }
    // eslint-disable-next-line prefer-rest-params
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
  } as typeof req.emit;
}

function isOurs(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[SLOT] === true;
}

/** The active span is the request's own when an HTTP client instrumentation opened it around this call. */
function isClientSpan(span: Span | undefined): span is Span {
  return !!span && span.isRecording() && (span as unknown as { kind?: SpanKind }).kind === SpanKind.CLIENT;
}
