import { createContextKey, context, diag } from '@opentelemetry/api';
import type { HttpBreakerOptions, HttpDestination, HttpOutcome } from './types.js';

// The key @opentelemetry/core's suppressTracing() sets; createContextKey is Symbol.for(description),
// so this is the same key without depending on @opentelemetry/core.
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

const OTLP_ENV = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
];
const OTLP_DEFAULTS = ['http://localhost:4318', 'http://localhost:4317', 'http://127.0.0.1:4318', 'http://127.0.0.1:4317'];
const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 };
const ORIGIN_CACHE_MAX = 1024;

/** `protocol//host:port` for a destination, bracketing IPv6 hosts. */
export function originOf(protocol: string, host: string, port: number): string {
  return `${protocol}//${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** The origins of the OTLP endpoints configured in the environment, plus the default local ones. */
export function otlpOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set(OTLP_DEFAULTS);
  for (const name of OTLP_ENV) {
    const value = env[name];
    if (!value) continue;
    try {
      const u = new URL(value);
      out.add(originOf(u.protocol, u.hostname.replace(/^\[|\]$/g, ''), Number(u.port) || DEFAULT_PORT[u.protocol] || 80));
    } catch {
      diag.warn(`otel-self-heal: ${name}=${JSON.stringify(value)} is not a URL; it is not added to the breaker ignore list`);
    }
  }
  return [...out];
}

/**
 * The decisions both HTTP instrumentations share: which calls to guard, under which breaker
 * name, and which outcomes are failures. Built once from the options; per call it does a
 * context read, a few comparisons and (for origins not seen before) one string build.
 */
export class HttpPolicy {
  private readonly ignoredOrigins: Set<string>;
  private readonly ignoredHosts = new Set<string>();
  private readonly ignoredPatterns: RegExp[] = [];
  private readonly ignoredBy: Array<(d: HttpDestination) => boolean> = [];
  private readonly failureStatus: (status: number) => boolean;
  private readonly isFailureFn: ((o: HttpOutcome) => boolean) | undefined;
  private readonly keyFn: ((d: HttpDestination) => string) | undefined;
  /** origin -> breaker name, or null when ignored; bounded, cleared when full. */
  private readonly keys = new Map<string, string | null>();
  readonly captureQueryString: boolean;

  constructor(options: HttpBreakerOptions = {}) {
    this.ignoredOrigins = new Set(otlpOrigins());
    for (const entry of options.ignore ?? []) {
      if (typeof entry === 'function') this.ignoredBy.push(entry);
      else if (entry instanceof RegExp) this.ignoredPatterns.push(entry);
      else if (entry.includes('://')) this.ignoredOrigins.add(normalizeOrigin(entry));
      else this.ignoredHosts.add(entry.toLowerCase());
    }
    const codes = options.failureStatusCodes;
    this.failureStatus =
      typeof codes === 'function' ? codes : codes ? ((set) => (s: number) => set.has(s))(new Set(codes)) : (s) => s >= 500 && s <= 599;
    this.isFailureFn = options.isFailure;
    this.keyFn = options.breakerKey;
    this.captureQueryString = options.captureQueryString ?? false;
  }

  /** True while the active context suppresses tracing: the SDK's exporters run so. */
  suppressed(): boolean {
    return context.active().getValue(SUPPRESS_TRACING) === true;
  }

  /** The breaker name for this destination, or null when it is not to be guarded. */
  breakerName(d: HttpDestination): string | null {
    const cached = this.keys.get(d.origin);
    if (cached !== undefined) return cached;
    const name = this.isIgnored(d) ? null : this.keyFn ? this.keyFn(d) : d.origin;
    if (this.keys.size >= ORIGIN_CACHE_MAX) this.keys.clear();
    this.keys.set(d.origin, name);
    return name;
  }

  isFailure(outcome: HttpOutcome): boolean {
    if (this.isFailureFn) {
      try {
        return this.isFailureFn(outcome);
      } catch (err) {
        diag.error('otel-self-heal: http isFailure threw; using the default rule', err);
      }
    }
    return outcome.kind === 'error' ? !isAbort(outcome.error) : this.failureStatus(outcome.statusCode);
  }

  private isIgnored(d: HttpDestination): boolean {
    if (this.ignoredOrigins.has(d.origin) || this.ignoredHosts.has(d.host.toLowerCase())) return true;
    for (const re of this.ignoredPatterns) {
      re.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
      if (re.test(d.origin)) return true;
    }
    for (const fn of this.ignoredBy) {
      try {
        if (fn(d)) return true;
      } catch (err) {
        diag.error('otel-self-heal: an http ignore predicate threw; the destination is guarded', err);
      }
    }
    return false;
  }
}

/** An error that says the caller gave up, not that the downstream failed. */
export function isAbort(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UND_ERR_ABORTED');
}

function normalizeOrigin(value: string): string {
  try {
    const u = new URL(value);
    return originOf(u.protocol, u.hostname.replace(/^\[|\]$/g, ''), Number(u.port) || DEFAULT_PORT[u.protocol] || 80);
  } catch {
    return value;
  }
}

export function destinationFromOrigin(origin: string | URL): HttpDestination | undefined {
  try {
    const u = typeof origin === 'string' ? new URL(origin) : origin;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port) || DEFAULT_PORT[u.protocol] || 80;
    return { protocol: u.protocol, host, port, origin: originOf(u.protocol, host, port) };
  } catch {
    return undefined;
  }
}
