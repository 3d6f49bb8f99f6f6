import { SpanKind, SpanStatusCode, diag, type Context } from '@opentelemetry/api';
import { ComponentNames } from './componentKey.js';
import type { HealthMonitor } from './HealthMonitor.js';

/** The parts of an ended span the processor reads (structurally `ReadableSpan` of sdk-trace 2.x and 3.x). */
interface EndedSpan {
  readonly kind: SpanKind;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: { readonly code: SpanStatusCode };
  readonly duration: readonly [number, number];
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
        const name = this.names.client(a);
        if (name === undefined) return;
        // 4xx is the caller's mistake, not the downstream's failure; 5xx and transport errors are.
        const failed = status !== undefined && status > 0 ? status >= 500 : errorType !== undefined || span.status.code === SpanStatusCode.ERROR;
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
