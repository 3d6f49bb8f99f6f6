import { isSpanContextValid, TraceFlags, type Span, type SpanContext, type SpanOptions, type Tracer, type Context } from '@opentelemetry/api';
import type { TelemetryHub } from '../telemetry/index.js';
import { ATTR_COMPONENT_NAME, SPAN_RECOVERY } from '../telemetry/names.js';

/** The trace of one recovery, as the status page links it. */
export interface RecoveryTrace {
  readonly traceId: string;
  /** False when the sampler dropped it: Jaeger will not have it. */
  readonly sampled: boolean;
}

const MAX = 1000;

/**
 * Remembers the trace of each component's latest recovery. The recovery telemetry starts one root
 * `selfheal.recovery` span per recovery and keeps it to itself; this watches the telemetry hub's
 * tracer it starts it with, so the status page can show (and link) the trace id. Read it in a
 * `recovery-started` listener registered after the telemetry's.
 */
export class RecoveryTraces {
  private readonly byComponent = new Map<string, RecoveryTrace>();
  private cached: { inner: Tracer; outer: Tracer } | undefined;

  /** `hub` with a tracer that notes every recovery root span it starts. */
  watch(hub: TelemetryHub): TelemetryHub {
    return {
      tracer: () => this.wrap(hub.tracer()),
      logger: () => hub.logger(),
      follow: (follower) => hub.follow(follower),
    };
  }

  /** The trace of `component`'s latest recovery, if it had a valid span. */
  get(component: string): RecoveryTrace | undefined {
    return this.byComponent.get(component);
  }

  private wrap(inner: Tracer): Tracer {
    if (this.cached?.inner === inner) return this.cached.outer;
    const outer: Tracer = {
      startSpan: (name: string, options?: SpanOptions, ctx?: Context): Span => {
        const span = inner.startSpan(name, options, ctx);
        const component = options?.attributes?.[ATTR_COMPONENT_NAME];
        if (name === SPAN_RECOVERY && typeof component === 'string') this.note(component, span.spanContext());
        return span;
      },
      startActiveSpan: inner.startActiveSpan.bind(inner) as Tracer['startActiveSpan'],
    };
    this.cached = { inner, outer };
    return outer;
  }

  private note(component: string, sc: SpanContext): void {
    // No tracer provider: a non-recording span with the invalid context, nothing to link.
    if (!isSpanContextValid(sc)) {
      this.byComponent.delete(component);
      return;
    }
    if (this.byComponent.size >= MAX && !this.byComponent.has(component)) this.byComponent.clear();
    this.byComponent.set(component, { traceId: sc.traceId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED });
  }
}
