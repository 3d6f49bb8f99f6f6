import { SpanKind, SpanStatusCode, diag, type Context } from '@opentelemetry/api';
import { ComponentNames } from './componentKey.js';
import type { HealthMonitor } from './HealthMonitor.js';

/** The parts of an ended span the processor reads (structurally `ReadableSpan` of sdk-trace 2.x and 3.x). */
interface EndedSpan {
  readonly kind: SpanKind;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: { readonly code: SpanStatusCode; readonly message?: string };
  readonly duration: readonly [number, number];
  readonly events?: ReadonlyArray<{ readonly name: string; readonly attributes?: Readonly<Record<string, unknown>> }>;
}

/** `error.type` values of calls the breaker refused: they say nothing about the downstream. */
const REFUSED = new Set(['CircuitOpenError', 'ECIRCUITOPEN']);

/**
 * Turns ended spans into health observations: a CLIENT span is a call to its downstream (named
 * like its breaker), a SERVER span a call to one of the service's routes. `onEnd` runs inside
 * the application's `span.end()`, so it reads a few attributes, bumps counters and returns; it
 * never throws. Calls the breaker refused are skipped, or they would keep a breaker open.
 *
 * It also ties the plugin's lifetime to the SDK's: NodeSDK's `shutdown()` reaches `shutdown()`.
 */
export class HealthSpanProcessor {
  private readonly names = new ComponentNames();
  /** Spans that could not be read (odd attributes): counted, never thrown. */
  unreadable = 0;

  constructor(
    private readonly monitor: HealthMonitor,
    private readonly onShutdown: () => Promise<void>,
    /**
     * `db.system.name` values whose calls health learns from the breaker instrumentations
     * directly (with their failure rules): spans of those systems are skipped, or the
     * application's own SQL errors (error spans to the official instrumentations) would count.
     */
    private readonly directDbSystems: ReadonlySet<string> = new Set(),
  ) {}

  onStart(_span: unknown, _parent: Context): void {}

  onEnd(span: EndedSpan): void {
    try {
      const kind = span.kind;
      if (kind !== SpanKind.CLIENT && kind !== SpanKind.SERVER) return;
      const a = span.attributes as Record<string, string | number | boolean | undefined>;
      const errorType = a['error.type'];
      if (typeof errorType === 'string' && REFUSED.has(errorType)) return;
      const d = span.duration;
      const ms = d[0] * 1e3 + d[1] / 1e6;
      const code = a['http.response.status_code'] ?? a['http.status_code'];
      const status = typeof code === 'number' ? code : typeof code === 'string' ? Number(code) : undefined;
      if (kind === SpanKind.CLIENT) {
        if (this.directDbSystems.size > 0) {
          const system = a['db.system.name'] ?? a['db.system'];
          if (typeof system === 'string' && this.directDbSystems.has(system)) return;
        }
        const name = this.names.client(a);
        if (name === undefined) return;
        // 4xx is the caller's mistake, not the downstream's failure; 5xx and transport errors are.
        const failed = status !== undefined && status > 0 ? status >= 500 : errorType !== undefined || span.status.code === SpanStatusCode.ERROR;
        // An official instrumentation wrapped around ours may end a refused call's span as a plain
        // error, without error.type: its exception event or message still says it was refused.
        if (failed && errorType === undefined && refusedByBreaker(span)) return;
        this.monitor.observe(name, 'downstream', failed, ms);
      } else {
        const failed = status !== undefined && status > 0 ? status >= 500 : span.status.code === SpanStatusCode.ERROR;
        this.monitor.observe(this.names.route(a), 'route', failed, ms);
      }
    } catch (err) {
      if (this.unreadable++ === 0) diag.warn('otel-self-heal: a span could not be read for health (counted in unreadable)', err);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.onShutdown();
  }
}

const REFUSED_MESSAGE = /^circuit breaker ".*" is (open|half-open and all probe slots are taken): the call was not sent$/;

/** True when an error span records a breaker refusal in its exception event or status message. */
function refusedByBreaker(span: EndedSpan): boolean {
  const message = span.status.message;
  if (message !== undefined && REFUSED_MESSAGE.test(message)) return true;
  for (const e of span.events ?? []) {
    if (e.name !== 'exception') continue;
    const type = e.attributes?.['exception.type'];
    if (typeof type === 'string' && REFUSED.has(type)) return true;
  }
  return false;
}
