import { createContextKey, context, diag, type Context } from '@opentelemetry/api';
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
const TARGET_CACHE_MAX = 1024;

/** A guarded destination and the name of its breaker. */
export interface Target {
  readonly destination: HttpDestination;
  readonly name: string;
}

/** `protocol//host:port` for a destination, lower-cased, bracketing IPv6 hosts. */
export function originOf(protocol: string, host: string, port: number): string {
  const h = host.toLowerCase();
  return `${protocol}//${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`;
}

/** The destination of a URL or origin (its credentials, path and query are dropped). */
export function destinationFromOrigin(origin: string | URL): HttpDestination | undefined {
  try {
    const u = typeof origin === 'string' ? new URL(origin) : origin;
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = Number(u.port) || DEFAULT_PORT[u.protocol] || 80;
    return { protocol: u.protocol, host, port, origin: originOf(u.protocol, host, port) };
  } catch {
    return undefined;
  }
}

/** The origins of the OTLP endpoints configured in the environment, plus the default local ones. */
export function otlpOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set(OTLP_DEFAULTS);
  for (const name of OTLP_ENV) {
    const value = env[name];
    if (!value) continue;
    const d = destinationFromOrigin(value);
    if (d) out.add(d.origin);
    else diag.warn(`otel-self-heal: ${name}=${JSON.stringify(value)} is not a URL; it is not added to the breaker ignore list`);
  }
  return [...out];
}

/**
 * The decisions both HTTP instrumentations share: which calls to guard, under which breaker
 * name, and which outcomes are failures. Targets are cached (by protocol, host and port for
 * node:http, by origin for undici), so per call there is no string to build; ignore rules and
 * `breakerKey` run once per destination, not per call.
 */
export class HttpPolicy {
  private readonly ignoredOrigins: Set<string>;
  private readonly ignoredHosts = new Set<string>();
  private readonly ignoredPatterns: RegExp[] = [];
  private readonly ignoredBy: Array<(d: HttpDestination) => boolean> = [];
  private readonly failureStatus: (status: number) => boolean;
  private readonly isFailureFn: ((o: HttpOutcome) => boolean) | undefined;
  private readonly keyFn: ((d: HttpDestination) => string) | undefined;
  /** protocol -> host -> port -> target (null: not guarded). */
  private readonly byParts = new Map<string, Map<string, Map<number, Target | null>>>();
  /** undici origin string -> target (null: not guarded). */
  private readonly byOrigin = new Map<string, Target | null>();
  private cached = 0;
  readonly captureQueryString: boolean;

  constructor(options: HttpBreakerOptions = {}) {
    this.ignoredOrigins = new Set(otlpOrigins());
    for (const entry of options.ignore ?? []) {
      if (typeof entry === 'function') this.ignoredBy.push(entry);
      else if (entry instanceof RegExp) this.ignoredPatterns.push(entry);
      else if (entry.includes('://')) this.ignoredOrigins.add(destinationFromOrigin(entry)?.origin ?? entry);
      else this.ignoredHosts.add(entry.toLowerCase());
    }
    const codes = options.failureStatusCodes;
    this.failureStatus =
      typeof codes === 'function' ? codes : codes ? ((set) => (s: number) => set.has(s))(new Set(codes)) : (s) => s >= 500 && s <= 599;
    this.isFailureFn = options.isFailure;
    this.keyFn = options.breakerKey;
    this.captureQueryString = options.captureQueryString ?? false;
  }

  /** True while `ctx` (default: the active context) suppresses tracing: the SDK's exporters run so. */
  suppressed(ctx: Context = context.active()): boolean {
    return ctx.getValue(SUPPRESS_TRACING) === true;
  }

  /** The target of a node:http request, or null when it is not to be guarded. */
  target(protocol: string, host: string, port: number): Target | null {
    let byHost = this.byParts.get(protocol);
    if (byHost === undefined) this.byParts.set(protocol, (byHost = new Map()));
    let byPort = byHost.get(host);
    if (byPort === undefined) byHost.set(host, (byPort = new Map()));
    let t = byPort.get(port);
    if (t === undefined) {
      const h = host.toLowerCase();
      t = this.resolve({ protocol, host: h, port, origin: originOf(protocol, h, port) });
      this.remember(() => byPort.set(port, t!));
    }
    return t;
  }

  /** The target of an undici origin (`http://host[:port]`), or null when it is not to be guarded. */
  targetForOrigin(origin: string): Target | null {
    let t = this.byOrigin.get(origin);
    if (t === undefined) {
      const d = destinationFromOrigin(origin);
      t = d ? this.resolve(d) : null;
      this.remember(() => this.byOrigin.set(origin, t!));
    }
    return t;
  }

  /** Whether an outcome counts against the downstream. Never throws: a throwing user rule falls back to the default. */
  isFailure(outcome: HttpOutcome): boolean {
    if (this.isFailureFn) {
      try {
        return this.isFailureFn(outcome) === true;
      } catch (err) {
        diag.error('otel-self-heal: http.isFailure threw; using the default rule', err);
      }
    }
    if (outcome.kind === 'error') return !isAbort(outcome.error);
    try {
      return this.failureStatus(outcome.statusCode) === true;
    } catch (err) {
      diag.error('otel-self-heal: http.failureStatusCodes threw; using 5xx', err);
      return outcome.statusCode >= 500 && outcome.statusCode <= 599;
    }
  }

  private remember(store: () => void): void {
    if (this.cached >= TARGET_CACHE_MAX) {
      this.byParts.clear();
      this.byOrigin.clear();
      this.cached = 0;
    }
    store();
    this.cached++;
  }

  private resolve(d: HttpDestination): Target | null {
    if (this.isIgnored(d)) return null;
    let name = d.origin;
    if (this.keyFn) {
      try {
        const k = this.keyFn(d);
        if (typeof k === 'string' && k !== '') name = k;
        else diag.warn(`otel-self-heal: http.breakerKey returned ${JSON.stringify(k)} for ${d.origin}; using the origin`);
      } catch (err) {
        diag.error(`otel-self-heal: http.breakerKey threw for ${d.origin}; using the origin`, err);
      }
    }
    return { destination: d, name };
  }

  private isIgnored(d: HttpDestination): boolean {
    if (this.ignoredOrigins.has(d.origin) || this.ignoredHosts.has(d.host)) return true;
    for (const re of this.ignoredPatterns) {
      re.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
      if (re.test(d.origin)) return true;
    }
    for (const fn of this.ignoredBy) {
      try {
        if (fn(d)) return true;
      } catch (err) {
        diag.error('otel-self-heal: an http.ignore predicate threw; the destination is guarded', err);
      }
    }
    return false;
  }
}

/**
 * An error that says the caller gave up, not that the downstream failed. A timeout the client
 * raises (`AbortSignal.timeout()`, whose abort carries a TimeoutError) is the downstream's
 * failure, not an abort.
 */
export function isAbort(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown; cause?: { name?: unknown } } | null;
  if (!e) return false;
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return false;
  return e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UND_ERR_ABORTED';
}
