import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** What kind of thing a component is: a downstream the service calls, or one of its own routes. */
export type ComponentKind = 'downstream' | 'route' | 'custom';

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

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

/** Host and port from a URL string, for spans that only carry the old `http.url`. */
function hostPortOf(url: string): { host?: string; port?: number } {
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : undefined };
  } catch {
    return {};
  }
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
      const ns = str(a['db.namespace']) ?? str(a['db.name']) ?? str(String(num(a['db.redis.database_index']) ?? '')) ?? '';
      const p = port ?? 0;
      let byHost = this.db.get(dbSystem);
      if (!byHost) this.db.set(dbSystem, (byHost = new Map()));
      let byPort = byHost.get(host);
      if (!byPort) byHost.set(host, (byPort = new Map()));
      let byNs = byPort.get(p);
      if (!byNs) byPort.set(p, (byNs = new Map()));
      let name = byNs.get(ns);
      if (name === undefined) {
        name = `${dbSystem}://${host.toLowerCase()}${p ? `:${p}` : ''}/${ns}`;
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
    return this.cached(this.routes, method, route, () => `${method} ${route}`);
  }

  private cached(map: Map<string, Map<string, string>>, k1: string, k2: string, make: () => string): string {
    let inner = map.get(k1);
    if (!inner) map.set(k1, (inner = new Map()));
    let name = inner.get(k2);
    if (name === undefined) {
      name = make();
      this.count();
      inner.set(k2, name);
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
