import { SpanKind, type Attributes, type Context, type Link } from '@opentelemetry/api';

// SamplingDecision of sdk-trace: NOT_RECORD 0, RECORD 1, RECORD_AND_SAMPLED 2 (the same in 2.x and 3.x).
const NOT_RECORD = 0;
const RECORD = 1;

interface SamplingResult {
  decision: number;
  attributes?: Attributes;
  traceState?: unknown;
}
export interface SamplerLike {
  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult;
  toString(): string;
}

/**
 * Keeps health right under a ratio sampler: a CLIENT or SERVER span the user's sampler drops is
 * recorded anyway, but not sampled, so the health processor sees every call while exporters (which
 * only take sampled spans) still export the user's sample. Everything else is the user's decision.
 * The price: unsampled client and server spans are built (about a microsecond and a half each).
 */
export class RecordingSampler implements SamplerLike {
  constructor(private readonly inner: SamplerLike) {}

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const r = this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    if (r.decision !== NOT_RECORD || (spanKind !== SpanKind.CLIENT && spanKind !== SpanKind.SERVER)) return r;
    return { decision: RECORD, attributes: r.attributes, traceState: r.traceState };
  }

  toString(): string {
    return `RecordingSampler{${this.inner.toString()}}`;
  }
}
