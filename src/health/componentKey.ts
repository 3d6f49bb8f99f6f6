import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** What kind of thing a component is: a downstream the service calls, or one of its own routes. */
export type ComponentKind = 'downstream' | 'route' | 'custom';

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };
/** Redis database indexes as strings, so a span does not build one. */
const DB_INDEX = Array.from({ length: 16 }, (_, i) => String(i));

function str(v: AttributeValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function num(v: AttributeValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** `scheme` of a URL string without parsing it (`https://…` → `https`). */
function schemeOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const i = url.indexOf('://');
  return i > 0 ? url.slice(0, i).toLowerCase() : undefined;
}

/**
 * Host and port from a URL string, for spans that only carry the old `http.url`: read off the
 * authority by hand (no URL object per span); credentials, path and query are skipped.
 */
function hostPortOf(url: string): { host?: string; port?: number } {
  const start = url.indexOf('://');
  if (start < 0) return {};
  let end = url.length;
  for (const ch of ['/', '?', '#']) {
    const i = url.indexOf(ch, start + 3);
    if (i >= 0 && i < end) end = i;
  }
  let authority = url.slice(start + 3, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return {};
    const port = Number(authority.slice(close + 2));
    return { host: authority.slice(1, close), port: Number.isInteger(port) && port > 0 ? port : undefined };
  }
  const colon = authority.lastIndexOf(':');
  if (colon < 0) return authority ? { host: authority } : {};
  const port = Number(authority.slice(colon + 1));
  return { host: authority.slice(0, colon) || undefined, port: Number.isInteger(port) && port > 0 ? port : undefined };
}

/**
 * Names components after the span's semantic-convention attributes (stable names first, the
 * older ones as fallback), so that a downstream's component is named like its circuit breaker:
 * `http://host:port` for HTTP, `postgresql://host:port/db` for databases. Names are cached per
 * attribute values, so a span whose destination was seen before costs map lookups, no string
 * building. Bounded: past `max` names the cache is cleared.
 */
export class ComponentNames {
  private readonly http = new Map<string, Map<string, Map<number, string>>>();
  private readonly db = new Map<string, Map<string, Map<number, Map<string, string>>>>();
  private readonly routes = new Map<string, Map<string, string>>();
  private size = 0;

  constructor(private readonly max = 4096) {}

  /** The downstream a CLIENT span called, or undefined when the span does not say. */
  client(a: Attributes): string | undefined {
    const dbSystem = str(a['db.system.name']) ?? str(a['db.system']);
    let host = str(a['server.address']) ?? str(a['net.peer.name']);
    let port = num(a['server.port']) ?? num(a['net.peer.port']);
    const url = str(a['url.full']) ?? str(a['http.url']);
    if (!host && url) ({ host, port = port } = hostPortOf(url));
    if (!host) return undefined;
    if (dbSystem) {
      const index = num(a['db.redis.database_index']);
      // Redis spans may carry no index at all (the official ioredis instrumentation sets none):
      // a client's database is 0 unless it selects another, as the breakers name it.
      const ns =
        str(a['db.namespace']) ?? str(a['db.name']) ?? (index === undefined ? (dbSystem === 'redis' ? '0' : '') : (DB_INDEX[index] ?? String(index)));
      const p = port ?? 0;
      let byHost = this.db.get(dbSystem);
      if (!byHost) this.db.set(dbSystem, (byHost = new Map()));
      let byPort = byHost.get(host);
      if (!byPort) byHost.set(host, (byPort = new Map()));
      let byNs = byPort.get(p);
      if (!byNs) byPort.set(p, (byNs = new Map()));
      let name = byNs.get(ns);
      if (name === undefined) {
        const h = host.toLowerCase();
        name = `${dbSystem}://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}${p ? `:${p}` : ''}/${ns}`;
        this.count();
        byNs.set(ns, name);
      }
      return name;
    }
    const scheme = schemeOf(url) ?? 'http';
    const p = port ?? DEFAULT_PORT[scheme] ?? 80;
    let byHost = this.http.get(scheme);
    if (!byHost) this.http.set(scheme, (byHost = new Map()));
    let byPort = byHost.get(host);
    if (!byPort) byHost.set(host, (byPort = new Map()));
    let name = byPort.get(p);
    if (name === undefined) {
      const h = host.toLowerCase();
      name = `${scheme}://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${p}`;
      this.count();
      byPort.set(p, name);
    }
    return name;
  }

  /** The service's own route a SERVER span served: `GET /items/:id` (or the method alone). */
  route(a: Attributes): string {
    const method = str(a['http.request.method']) ?? str(a['http.method']) ?? 'REQUEST';
    const route = str(a['http.route']) ?? '(unmatched route)';
    let byRoute = this.routes.get(method);
    if (!byRoute) this.routes.set(method, (byRoute = new Map()));
    let name = byRoute.get(route);
    if (name === undefined) {
      name = `${method} ${route}`;
      this.count();
      byRoute.set(route, name);
    }
    return name;
  }

  private count(): void {
    if (++this.size <= this.max) return;
    this.http.clear();
    this.db.clear();
    this.routes.clear();
    this.size = 1;
  }
}
