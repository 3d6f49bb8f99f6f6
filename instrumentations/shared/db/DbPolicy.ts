import { diag } from '@opentelemetry/api';
import type { DbBreakerOptions, DbDestination, DbFailureRule, DbSystem } from './types.js';

const TARGET_CACHE_MAX = 1024;

/** A guarded database destination and the name of its breaker. */
export interface DbTarget {
  readonly destination: DbDestination;
  readonly name: string;
}

/** `system://host:port/database`, lower-cased host, IPv6 in brackets. */
export function dbName(system: DbSystem, host: string, port: number, database: string): string {
  const h = host.toLowerCase();
  return `${system}://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}/${database}`;
}

/**
 * The decisions a database instrumentation makes per call, cached per destination: which
 * calls to guard, under which breaker name, and which errors count against the server.
 * User callbacks run once per destination (ignore, breakerKey) and never throw into a call.
 */
export class DbPolicy {
  private readonly ignoredNames = new Set<string>();
  private readonly ignoredHosts = new Set<string>();
  private readonly ignoredPatterns: RegExp[] = [];
  private readonly ignoredBy: Array<(d: DbDestination) => boolean> = [];
  private readonly targets = new Map<string, DbTarget | null>();

  constructor(
    readonly system: DbSystem,
    private readonly options: DbBreakerOptions,
    private readonly defaultRule: DbFailureRule,
  ) {
    for (const entry of options.ignore ?? []) {
      if (typeof entry === 'function') this.ignoredBy.push(entry);
      else if (entry instanceof RegExp) this.ignoredPatterns.push(entry);
      else if (entry.includes('://')) this.ignoredNames.add(entry.toLowerCase());
      else this.ignoredHosts.add(entry.toLowerCase());
    }
  }

  /** The target of a call to `host:port/database`, or null when it is not guarded. */
  target(host: string | undefined, port: number | string | undefined, database: string | number | undefined): DbTarget | null {
    const key = `${host ?? ''}\u0000${port ?? ''}\u0000${database ?? ''}`;
    let t = this.targets.get(key);
    if (t === undefined) {
      t = this.resolve(host, port, database);
      if (this.targets.size >= TARGET_CACHE_MAX) this.targets.clear();
      this.targets.set(key, t);
    }
    return t;
  }

  /** Whether an error counts against the server. Never throws: a throwing user rule falls back to the default. */
  isFailure(error: unknown, destination: DbDestination): boolean {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.options.isFailure) {
      try {
        const verdict = this.options.isFailure(err, destination);
        if (verdict !== undefined) return verdict === true;
      } catch (e) {
        diag.error('otel-self-heal: db.isFailure threw; using the default rule', e);
      }
    }
    try {
      return this.defaultRule(err);
    } catch {
      return false;
    }
  }

  private resolve(host: string | undefined, port: number | string | undefined, database: string | number | undefined): DbTarget | null {
    const h = (host || 'localhost').replace(/^\[|\]$/g, '').toLowerCase();
    const p = Number(port) || DEFAULT_PORT[this.system];
    const db = database === undefined || database === null ? DEFAULT_DATABASE[this.system] : String(database);
    const destination: DbDestination = { system: this.system, host: h, port: p, database: db, name: dbName(this.system, h, p, db) };
    if (this.isIgnored(destination)) return null;
    let name = destination.name;
    if (this.options.breakerKey) {
      try {
        const k = this.options.breakerKey(destination);
        if (typeof k === 'string' && k !== '') name = k;
        else diag.warn(`otel-self-heal: db.breakerKey returned ${JSON.stringify(k)} for ${destination.name}; using the name`);
      } catch (err) {
        diag.error(`otel-self-heal: db.breakerKey threw for ${destination.name}; using the name`, err);
      }
    }
    return { destination, name };
  }

  private isIgnored(d: DbDestination): boolean {
    if (this.ignoredNames.has(d.name) || this.ignoredHosts.has(d.host)) return true;
    for (const re of this.ignoredPatterns) {
      re.lastIndex = 0;
      if (re.test(d.name)) return true;
    }
    for (const fn of this.ignoredBy) {
      try {
        if (fn(d)) return true;
      } catch (err) {
        diag.error('otel-self-heal: a db.ignore predicate threw; the destination is guarded', err);
      }
    }
    return false;
  }
}

const DEFAULT_PORT: Record<DbSystem, number> = { postgresql: 5432, mysql: 3306, redis: 6379 };
const DEFAULT_DATABASE: Record<DbSystem, string> = { postgresql: '', mysql: '', redis: '0' };
