import { SpanStatusCode, TraceFlags, diag, type Context } from '@opentelemetry/api';
import { SEMCONV } from './names.js';
import { maskQuotedValues, maskSql, redactUrl, redisStatement, type SqlDialect } from './redact.js';

/**
 * The parts of an ending span the processor rewrites: `ReadableSpan` of sdk-trace 2.x, whose
 * `attributes`, `status` and event `attributes` are plain objects that exporters read later.
 */
interface RedactableSpan {
  attributes: Record<string, unknown>;
  readonly status: { code: SpanStatusCode; message?: string };
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes?: Record<string, unknown> }>;
  spanContext(): { traceFlags: number };
}

/** `db.system.name` values whose query text is not SQL (Redis is handled by its serializer). */
const NOT_SQL: ReadonlySet<unknown> = new Set(['redis', 'memcached', 'mongodb', 'elasticsearch', 'opensearch', 'aws.dynamodb', 'dynamodb']);
/** SQL systems where `"x"` is an identifier; everywhere else it is masked as a string (MySQL, SQLite). */
const DOUBLE_QUOTED_IDENTIFIERS: ReadonlySet<unknown> = new Set(['postgresql', 'cockroachdb', 'oracle', 'oracle.db', 'db2', 'ibm.db2', 'redshift']);
const URL_KEYS = [SEMCONV.urlFull, SEMCONV.httpUrl, SEMCONV.httpTarget] as const;
const SQL_KEYS = [SEMCONV.dbQueryText, SEMCONV.dbStatement] as const;
// A stack trace starts with the error's message, so it quotes the same values.
const EXCEPTION_KEYS = [SEMCONV.exceptionMessage, SEMCONV.exceptionStacktrace] as const;

/**
 * Removes `key` from the span's attributes by giving the span a copy without it: `delete` would
 * turn the object into a slow dictionary for every later reader (measured ~2 µs against ~0.5 µs
 * for the copy). Where the span does not take a new object, the key is deleted after all.
 */
function withoutKey(span: RedactableSpan, key: string): Record<string, unknown> {
  const a = span.attributes;
  const copy: Record<string, unknown> = {};
  for (const k in a) if (k !== key) copy[k] = a[k];
  try {
    span.attributes = copy;
  } catch {
    // a read-only attributes property: fall through to delete
  }
  if (span.attributes !== copy) delete a[key];
  return span.attributes;
}

/** Removes the bound values an instrumentation was asked to record. */
function dropBoundValues(a: Record<string, unknown>): void {
  if (a[SEMCONV.dbPostgresqlValues] !== undefined) delete a[SEMCONV.dbPostgresqlValues];
  for (const key in a) if (key.startsWith(SEMCONV.dbQueryParameterPrefix)) delete a[key];
}

/**
 * Masked SQL per text and dialect: an app runs a few statements over and over, so most spans cost a
 * map lookup instead of a scan (~1 µs for 100 characters). Bounded: at most this many texts of at
 * most SQL_CACHE_MAX_LENGTH characters per dialect (about 2 MB at worst); full, it starts over.
 */
const SQL_CACHE_SIZE = 256;
const SQL_CACHE_MAX_LENGTH = 2048;

/** Options of {@link RedactingSpanProcessor}. */
export interface RedactionOptions {
  /** Keep query strings in URL attributes (`http.captureQueryString`). Default false. */
  keepQuery?: boolean;
}

/**
 * Takes secrets out of every span before any exporter sees it, whatever instrumentation made it:
 * credentials in `url.full` / `http.url` become `REDACTED:REDACTED`; query strings and fragments
 * leave `url.full`, `http.url` and `http.target`, and `url.query` is dropped (unless
 * `keepQuery`); SQL literals in `db.query.text` / `db.statement` become `?`; bound values an
 * instrumentation was asked to record (`db.postgresql.values`, `db.query.parameter.*`) are
 * dropped; and on a failed SQL call the quoted values in the status message and the exception
 * events (servers echo a bound parameter: `invalid input syntax for type integer: "..."`) become `?`.
 *
 * It must come before the exporting processors (withSelfHealing puts it first). It rewrites in
 * `onEnding`, while the span is still open (an experimental hook of the 2.x SDKs since late 2025);
 * on older SDKs it rewrites in `onEnd`, which is safe only because it runs before any other
 * processor's `onEnd`. It edits the span's own attribute objects in place, as `setAttribute`
 * cannot remove a key and is refused after the end. Spans that will not be exported (not sampled)
 * are left alone. Never throws. Cost: ~0.1 µs for most spans, a scan of ~10 ns per character for
 * a SQL text not seen recently.
 */
export class RedactingSpanProcessor {
  private readonly keepQuery: boolean;
  /** Whether the SDK calls `onEnding`; until it does, `onEnd` redacts. */
  private endingSeen = false;
  private readonly masked: Record<SqlDialect, Map<string, string>> = { standard: new Map(), mysql: new Map() };
  /** Spans that could not be rewritten (odd attributes): counted, never thrown. */
  unreadable = 0;

  constructor(options: RedactionOptions = {}) {
    this.keepQuery = options.keepQuery ?? false;
  }

  onStart(_span: unknown, _parent: Context): void {}

  onEnding(span: RedactableSpan): void {
    this.endingSeen = true;
    this.redact(span);
  }

  onEnd(span: RedactableSpan): void {
    if (!this.endingSeen) this.redact(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** Rewrites `span` in place. */
  redact(span: RedactableSpan): void {
    try {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      let a = span.attributes;
      for (const key of URL_KEYS) {
        const v = a[key];
        if (typeof v === 'string') {
          const r = redactUrl(v, this.keepQuery);
          if (r !== v) a[key] = r;
        }
      }
      if (!this.keepQuery && a[SEMCONV.urlQuery] !== undefined) a = withoutKey(span, SEMCONV.urlQuery);

      const system = a[SEMCONV.dbSystemName] ?? a[SEMCONV.dbSystem];
      if (system === 'redis') {
        redactRedis(a);
        return;
      }
      if (NOT_SQL.has(system)) return;
      const dialect: SqlDialect = DOUBLE_QUOTED_IDENTIFIERS.has(system) ? 'standard' : 'mysql';
      for (const key of SQL_KEYS) {
        const v = a[key];
        if (typeof v === 'string') {
          const r = this.maskSql(v, dialect);
          if (r !== v) a[key] = r;
        }
      }
      if (system === undefined) return;
      dropBoundValues(a);
      if (span.status.code !== SpanStatusCode.ERROR) return;
      const message = span.status.message;
      if (typeof message === 'string') span.status.message = maskQuotedValues(message);
      for (const e of span.events) {
        const ea = e.attributes;
        if (!ea) continue;
        for (const key of EXCEPTION_KEYS) {
          const text = ea[key];
          if (typeof text === 'string') ea[key] = maskQuotedValues(text);
        }
      }
    } catch (err) {
      if (this.unreadable++ === 0) diag.warn('otel-self-heal: a span could not be redacted (counted in unreadable)', err);
    }
  }

  private maskSql(text: string, dialect: SqlDialect): string {
    const cache = this.masked[dialect];
    let out = cache.get(text);
    if (out === undefined) {
      out = maskSql(text, dialect);
      if (text.length <= SQL_CACHE_MAX_LENGTH) {
        if (cache.size >= SQL_CACHE_SIZE) cache.clear();
        cache.set(text, out);
      }
    }
    return out;
  }
}

const REDIS_SUMMARY = / \[\d+ other arguments?\]$/;

/**
 * A Redis statement from an instrumentation we did not configure (the official ioredis one's
 * default serializer shows `EVAL` arguments and set members): the command and its first argument
 * only, the rest counted, as `redisStatement` makes it. Already summarised text is left alone.
 */
function redactRedis(a: Record<string, unknown>): void {
  for (const key of SQL_KEYS) {
    const v = a[key];
    if (typeof v !== 'string' || REDIS_SUMMARY.test(v)) continue;
    const parts = v.trim().split(/\s+/);
    if (parts.length < 2) continue;
    const r = redisStatement(parts[0]!, parts.slice(1));
    if (r !== v) a[key] = r;
  }
}
