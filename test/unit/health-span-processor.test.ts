import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { HealthMonitor, HealthSpanProcessor } from '../../src/health/index.js';
import { fakeClock } from './breaker-helpers.js';

function span(kind: SpanKind, attributes: Record<string, unknown>, opts: { error?: boolean; ms?: number } = {}) {
  const ms = opts.ms ?? 12;
  return {
    kind,
    attributes,
    status: { code: opts.error ? SpanStatusCode.ERROR : SpanStatusCode.UNSET },
    duration: [Math.floor(ms / 1000), (ms % 1000) * 1e6] as [number, number],
  };
}

function setup() {
  const clock = fakeClock(1_000_000);
  const monitor = new HealthMonitor({ minCalls: 1 }, { clock });
  const processor = new HealthSpanProcessor(monitor, async () => undefined);
  const stats = (name: string) => {
    monitor.evaluate();
    return monitor.component(name);
  };
  return { clock, monitor, processor, stats };
}

describe('HealthSpanProcessor', () => {
  it('names a downstream like its breaker, from stable attributes first and old ones as fallback', () => {
    const { processor, monitor } = setup();
    processor.onEnd(span(SpanKind.CLIENT, { 'server.address': 'API.example.com', 'server.port': 8443, 'url.full': 'https://API.example.com:8443/x?q=1' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'net.peer.name': 'legacy.local', 'net.peer.port': 8080, 'http.url': 'http://legacy.local:8080/' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'http.url': 'https://only-url.example/path' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'db.system.name': 'postgresql', 'server.address': '127.0.0.1', 'server.port': 5432, 'db.namespace': 'test' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'db.system': 'mysql', 'net.peer.name': 'db', 'net.peer.port': 3306, 'db.name': 'shop' }));
    processor.onEnd(span(SpanKind.SERVER, { 'http.request.method': 'GET', 'http.route': '/items/:id' }));
    expect(monitor.list().map((c) => `${c.kind} ${c.name}`).sort()).toEqual([
      'downstream http://legacy.local:8080',
      'downstream https://api.example.com:8443',
      'downstream https://only-url.example:443',
      'downstream mysql://db:3306/shop',
      'downstream postgresql://127.0.0.1:5432/test',
      'route GET /items/:id',
    ]);
  });

  it('reads host and port off an old http.url by hand: credentials, path and query skipped, IPv6 bracketed', () => {
    const { processor, monitor } = setup();
    processor.onEnd(span(SpanKind.CLIENT, { 'http.url': 'http://user:secret@old.example:8081/p?token=1' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'http.url': 'https://[::1]:9443/x' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'db.system': 'redis', 'net.peer.name': 'cache', 'net.peer.port': 6379, 'db.redis.database_index': 2 }));
    expect(monitor.list().map((c) => c.name).sort()).toEqual(['http://old.example:8081', 'https://[::1]:9443', 'redis://cache:6379/2']);
  });

  it('counts 5xx and transport errors as failures, not 4xx, and skips calls the breaker refused', () => {
    const { processor, stats } = setup();
    const a = { 'server.address': 'a', 'server.port': 80, 'url.full': 'http://a/' };
    processor.onEnd(span(SpanKind.CLIENT, { ...a, 'http.response.status_code': 503, 'error.type': '503' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { ...a, 'http.response.status_code': 404, 'error.type': '404' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { ...a, 'error.type': 'ECONNREFUSED' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { ...a, 'error.type': 'CircuitOpenError' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { ...a, 'error.type': 'ECIRCUITOPEN' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { ...a, 'http.status_code': '200' }));
    const m = stats('http://a:80')!.metrics;
    expect(m.errorRate).toBeCloseTo(2 / 4);
  });

  it('ignores INTERNAL, PRODUCER and CONSUMER spans and spans that name no destination', () => {
    const { processor, monitor } = setup();
    processor.onEnd(span(SpanKind.INTERNAL, { 'server.address': 'a' }));
    processor.onEnd(span(SpanKind.PRODUCER, { 'server.address': 'a' }));
    processor.onEnd(span(SpanKind.CLIENT, { 'rpc.system': 'grpc' }));
    expect(monitor.list()).toEqual([]);
  });

  it('never throws on odd spans: missing fields, wrong types, non-finite durations', () => {
    const { processor } = setup();
    const odd: unknown[] = [
      {},
      { kind: SpanKind.CLIENT },
      { kind: SpanKind.CLIENT, attributes: { 'server.address': 42, 'server.port': 'x' }, status: {}, duration: [NaN, NaN] },
      { kind: SpanKind.CLIENT, attributes: { 'server.address': 'a', 'server.port': -1 }, status: { code: 2 }, duration: [Infinity, 0] },
      { kind: SpanKind.SERVER, attributes: null, status: null, duration: null },
      { kind: SpanKind.CLIENT, attributes: { 'url.full': 'not a url' }, status: { code: 0 }, duration: [0, 1] },
    ];
    for (const s of odd) expect(() => processor.onEnd(s as never)).not.toThrow();
    expect(processor.unreadable).toBeGreaterThan(0);
  });

  it('hands shutdown to the plugin', async () => {
    const monitor = new HealthMonitor();
    let shut = 0;
    const processor = new HealthSpanProcessor(monitor, async () => {
      shut++;
    });
    await processor.shutdown();
    await processor.forceFlush();
    expect(shut).toBe(1);
  });
});

describe('HealthSpanProcessor: refusals and databases judged elsewhere', () => {
  it('skips a refused call that an outer official wrapper ended as a plain error (exception event or status message)', () => {
    const { processor, stats } = setup();
    const a = { 'db.system.name': 'mysql', 'server.address': 'db', 'server.port': 3306, 'db.namespace': 'shop' };
    const refusedByEvent = { ...span(SpanKind.CLIENT, a, { error: true }), events: [{ name: 'exception', attributes: { 'exception.type': 'ECIRCUITOPEN' } }] };
    const refusedByMessage = {
      ...span(SpanKind.CLIENT, a, { error: true }),
      status: { code: SpanStatusCode.ERROR, message: 'circuit breaker "mysql://db:3306/shop" is open: the call was not sent' },
    };
    const realFailure = { ...span(SpanKind.CLIENT, a, { error: true }), events: [{ name: 'exception', attributes: { 'exception.type': 'ECONNRESET' } }] };
    processor.onEnd(refusedByEvent);
    processor.onEnd(refusedByMessage);
    expect(stats('mysql://db:3306/shop')).toBeUndefined();
    processor.onEnd(realFailure);
    expect(stats('mysql://db:3306/shop')?.metrics.errorRate).toBe(1);
  });

  it('skips spans of database systems whose calls health takes from the breaker instrumentations', () => {
    const clock = fakeClock(1_000_000);
    const monitor = new HealthMonitor({ minCalls: 1 }, { clock });
    const processor = new HealthSpanProcessor(monitor, async () => undefined, new Set(['postgresql']));
    processor.onEnd(span(SpanKind.CLIENT, { 'db.system.name': 'postgresql', 'server.address': 'pg', 'server.port': 5432, 'db.namespace': 'x' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { 'db.system': 'postgresql', 'server.address': 'pg', 'server.port': 5432, 'db.name': 'x' }, { error: true }));
    processor.onEnd(span(SpanKind.CLIENT, { 'db.system.name': 'redis', 'server.address': 'r', 'server.port': 6379 }));
    expect(monitor.list().map((c) => c.name)).toEqual(['redis://r:6379/0']);
  });
});
