import { context, createContextKey } from '@opentelemetry/api';

// The key @opentelemetry/core's suppressTracing() sets (createContextKey is Symbol.for(description)),
// as instrumentations/shared/HttpPolicy.ts reads it, without depending on @opentelemetry/core.
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * Runs `fn` with tracing suppressed: the calls it starts synchronously get no spans and do not go
 * through the circuit breakers (a health check must see the component, not its open breaker, and
 * must not count toward it). Needs a context manager, as NodeSDK registers; without one the
 * context API cannot carry the flag and the calls are guarded as usual.
 */
export function runUnguarded<T>(fn: () => T): T {
  return context.with(context.active().setValue(SUPPRESS_TRACING, true), fn);
}

/**
 * Marks an http.Agent whose requests the breaker instrumentation lets through unguarded. The
 * symbol is global (`Symbol.for`) so that every copy of the package agrees on it.
 */
export const UNGUARDED_AGENT = Symbol.for('otel-self-heal.unguarded-agent');

export function markUnguarded<A extends object>(agent: A): A {
  (agent as Record<symbol, unknown>)[UNGUARDED_AGENT] = true;
  return agent;
}
