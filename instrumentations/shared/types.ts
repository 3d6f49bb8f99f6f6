import type { CircuitBreakerRegistry } from '../../src/breaker/index.js';
import type { BreakerTelemetry } from '../../src/telemetry/index.js';

/** Where an outgoing HTTP call goes. */
export interface HttpDestination {
  /** `http:` or `https:`. */
  protocol: string;
  host: string;
  port: number;
  /** `protocol//host:port`, with IPv6 hosts in brackets; never credentials. */
  origin: string;
}

/** How an outgoing HTTP call ended, as the failure test sees it. */
export type HttpOutcome =
  | { kind: 'response'; statusCode: number; destination: HttpDestination }
  | { kind: 'error'; error: Error; destination: HttpDestination };

/** Options shared by the node:http and fetch/undici breaker instrumentations. */
export interface HttpBreakerOptions {
  /**
   * Destinations never put behind a breaker: an origin (`http://host:port`), a host name, a
   * RegExp tested against the origin, or a predicate. The OTLP exporter endpoints (from
   * `OTEL_EXPORTER_OTLP_*ENDPOINT`, and localhost:4317/4318) are always ignored, as is any
   * request made while tracing is suppressed (the SDK's own exports).
   */
  ignore?: ReadonlyArray<string | RegExp | ((destination: HttpDestination) => boolean)>;
  /** Status codes that count as failures. Default: 500 to 599 (4xx never trips). */
  failureStatusCodes?: ReadonlyArray<number> | ((statusCode: number) => boolean);
  /** The final word on whether an outcome is a failure; overrides `failureStatusCodes`. */
  isFailure?: (outcome: HttpOutcome) => boolean;
  /** The breaker name for a destination. Default: its origin, so one breaker per `host:port`. */
  breakerKey?: (destination: HttpDestination) => string;
  /**
   * Keep query strings in exported spans: `url.full`, `url.query`, `http.url`, `http.target` of
   * every HTTP span, ours and the official instrumentations' (see the `redact` option). Default
   * false (they often carry tokens).
   */
  captureQueryString?: boolean;
}

/** What an instrumentation needs from the running plugin. */
export interface BreakerRuntime {
  registry: CircuitBreakerRegistry;
  telemetry: BreakerTelemetry;
  /**
   * Where database instrumentations report the pools and connections of a destination (its
   * breaker name), so recovery can drain them. Absent when recovery is off.
   */
  pools?: PoolTracker;
  /**
   * Where database instrumentations report each call's verdict (the same one the breaker gets)
   * for health: the official DB spans mark the application's own SQL errors as errors too, so
   * health takes guarded database calls from here, not from their spans. Absent when health is off.
   */
  observe?: (component: string, failed: boolean, durationMs: number) => void;
}

/** Learns which client objects talk to a destination, and how to drain each. */
export interface PoolTracker {
  /**
   * `check` asks the server something trivial on the client (`SELECT 1`, `PING`), outside the
   * breakers; recovery uses it to confirm a restart.
   */
  track(
    name: string,
    client: object,
    drain: (client: object, signal: AbortSignal) => void | Promise<void>,
    check?: (client: object) => Promise<unknown>,
  ): void;
}

export interface HttpBreakerInstrumentationConfig extends HttpBreakerOptions {
  runtime: BreakerRuntime;
  enabled?: boolean;
}
