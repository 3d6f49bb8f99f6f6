import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One OTLP/HTTP export as received: the path (`/v1/traces`, `/v1/logs`, `/v1/metrics`) and the JSON body as sent. */
export interface OtlpPost {
  path: string;
  raw: string;
  body: Record<string, unknown>;
}

/** A span from an OTLP/JSON export, attributes decoded to plain values. */
export interface OtlpSpan {
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string }>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code?: number; message?: string };
}

/** A log record from an OTLP/JSON export. */
export interface OtlpLogRecord {
  scope: string;
  eventName?: string;
  severityText?: string;
  body?: unknown;
  attributes: Record<string, unknown>;
  traceId?: string;
  spanId?: string;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}

/** An OTLP AnyValue as a plain value (ints as numbers). */
export function decodeValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(decodeValue);
  if (v.kvlistValue) return decodeAttributes(v.kvlistValue.values);
  return undefined;
}

export function decodeAttributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = decodeValue(kv.value);
  return out;
}

type Scoped<K extends string, T> = Array<{ scope?: { name?: string } } & Record<K, T[]>>;

/**
 * A real OTLP/HTTP receiver on 127.0.0.1 (port 0) that keeps every export. Point an SDK at it with
 * `OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url` and `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`. A body
 * that is not JSON is answered 400 and kept in `rejected`, so a protocol mix-up fails loudly.
 */
export class OtlpReceiver {
  readonly posts: OtlpPost[] = [];
  readonly rejected: string[] = [];
  private constructor(
    private readonly server: http.Server,
    /** `http://127.0.0.1:port`. */
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        try {
          receiver!.posts.push({ path: req.url ?? '', raw, body: JSON.parse(raw || '{}') as Record<string, unknown> });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          receiver!.rejected.push(`${req.url} ${req.headers['content-type']}`);
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  /** Every body received, as sent: what a leak check must search. */
  raw(): string {
    return this.posts.map((p) => p.raw).join('\n');
  }

  private bodies(path: string): Array<Record<string, unknown>> {
    return this.posts.filter((p) => p.path === path).map((p) => p.body);
  }

  spans(): OtlpSpan[] {
    return this.bodies('/v1/traces').flatMap((b) =>
      (b.resourceSpans as Array<{ scopeSpans: Scoped<'spans', Record<string, unknown>> }>).flatMap((r) =>
        r.scopeSpans.flatMap((ss) =>
          ss.spans.map((s) => ({
            scope: ss.scope?.name ?? '',
            traceId: s.traceId as string,
            spanId: s.spanId as string,
            parentSpanId: (s.parentSpanId as string | undefined) || undefined,
            name: s.name as string,
            kind: s.kind as number,
            attributes: decodeAttributes(s.attributes as KeyValue[]),
            events: ((s.events ?? []) as Array<{ name: string; attributes?: KeyValue[] }>).map((e) => ({ name: e.name, attributes: decodeAttributes(e.attributes) })),
            links: ((s.links ?? []) as Array<{ traceId: string; spanId: string }>).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            status: (s.status ?? {}) as OtlpSpan['status'],
          })),
        ),
      ),
    );
  }

  logs(): OtlpLogRecord[] {
    return this.bodies('/v1/logs').flatMap((b) =>
      (b.resourceLogs as Array<{ scopeLogs: Scoped<'logRecords', Record<string, unknown>> }>).flatMap((r) =>
        r.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((l) => ({
            scope: sl.scope?.name ?? '',
            eventName: l.eventName as string | undefined,
            severityText: l.severityText as string | undefined,
            body: decodeValue(l.body as AnyValue | undefined),
            attributes: decodeAttributes(l.attributes as KeyValue[]),
            traceId: (l.traceId as string | undefined) || undefined,
            spanId: (l.spanId as string | undefined) || undefined,
          })),
        ),
      ),
    );
  }

  /** Names of the metrics exported at least once. */
  metricNames(): string[] {
    const names = this.bodies('/v1/metrics').flatMap((b) =>
      (b.resourceMetrics as Array<{ scopeMetrics: Scoped<'metrics', { name: string }> }>).flatMap((r) => r.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.name))),
    );
    return [...new Set(names)];
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
