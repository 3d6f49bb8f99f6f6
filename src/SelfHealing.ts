import { diag } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import {
  DB_INSTRUMENTATIONS,
  HttpBreakerInstrumentation,
  TelemetryInstrumentation,
  UndiciBreakerInstrumentation,
  destinationFromOrigin,
  type BreakerRuntime,
  type PoolTracker,
} from '../instrumentations/index.js';
import { CircuitBreakerRegistry } from './breaker/index.js';
import type { Clock } from './clock.js';
import { validateOptions, type SelfHealingOptions } from './options.js';
import { HealthMonitor } from './health/index.js';
import { MetricsCollector, createAnomalyDetector, type SdkMetricsBridge } from './metrics/index.js';
import { AdaptiveConfigManager, bindBreakers, breakerParameters } from './config/adaptive/index.js';
import { DbPoolComponent, HttpPoolComponent, RecoveryManager } from './recovery/index.js';
import { BreakerTelemetry, ConfigTelemetry, HealthTelemetry, RecoveryTelemetry } from './telemetry/index.js';
import type { SpanContext } from '@opentelemetry/api';
import { RecoveryTraces, StatusServer, resolveStatusServerOptions } from './status/index.js';

export const VERSION = '0.1.0';
const INSTANCE = Symbol.for('otel-self-heal.instance');
const slots = globalThis as unknown as Record<symbol, SelfHealing | undefined>;

/**
 * The running plugin: its breakers and instrumentations, and later components (health,
 * recovery, configuration, optimizer, coordination) hang off it. One per process; reach it with
 * {@link getSelfHealing}.
 */
export class SelfHealing {
  /** Every circuit breaker, by name (for HTTP: the destination origin). */
  readonly breakers: CircuitBreakerRegistry;
  /** Our instrumentations, already enabled; NodeSDK hands them its providers. */
  readonly instrumentations: readonly Instrumentation[];
  readonly options: Readonly<SelfHealingOptions>;
  /** Metrics: record your own, query aggregations, trends and correlations (spec 2.6). */
  readonly metrics: MetricsCollector;
  /** Automatic recovery of registered components, triggered by health (spec 2.4). */
  readonly recovery: RecoveryManager;
  /** Live configuration: the breaker options as `breaker.*` parameters, versioned (spec 2.5). */
  readonly config: AdaptiveConfigManager;
  /** Health of downstreams, routes and custom components (spec 2.2). */
  readonly health: HealthMonitor;
  /** The live status page (`statusServer` option), or undefined; its `url` once listening. */
  readonly statusServer: StatusServer | undefined;
  private readonly telemetry: BreakerTelemetry;
  private readonly healthTelemetry: HealthTelemetry;
  private readonly recoveryTelemetry: RecoveryTelemetry;
  private readonly configTelemetry: ConfigTelemetry;
  private stopped = false;
  private readonly disposers: Array<() => void> = [];
  private readonly pools: HttpPoolComponent[] = [];
  private readonly dbPools = new Map<string, DbPoolComponent>();
  /**
   * Database systems (`db.system.name`) whose calls health takes from our instrumentations'
   * verdicts rather than from spans (see `HealthSpanProcessor`).
   */
  readonly directDbSystems = new Set<string>();
  /** The reader that feeds the SDK's metrics into {@link metrics}, once withSelfHealing made it. */
  sdkMetrics: SdkMetricsBridge | undefined;

  constructor(options: SelfHealingOptions = {}, internals: { clock?: Clock } = {}) {
    this.options = validateOptions(options);
    const o = this.options;
    this.breakers = new CircuitBreakerRegistry({
      defaults: o.breaker,
      overrides: normalizeOverrideNames(o.overrides),
      maxBreakers: o.maxBreakers,
      idleTimeoutMs: o.breakerIdleTimeoutMs,
      clock: internals.clock,
    });
    const { enabled: _me, fromSdk: _mf, sdkIntervalMs: _mi, ...metricsOptions } = o.metrics ?? {};
    this.metrics = new MetricsCollector({ ...metricsOptions, ...(internals.clock ? { clock: internals.clock } : {}) });
    const { enabled: _e, fromSpans: _s, recordUnsampled: _r, anomalies, ...healthOptions } = o.health ?? {};
    this.health = new HealthMonitor(healthOptions, {
      registry: this.breakers,
      clock: internals.clock,
      detector: anomalies === false ? undefined : () => createAnomalyDetector(),
    });
    this.healthTelemetry = new HealthTelemetry(this.health, VERSION);

    const { enabled: recoveryOn, httpPools, maxHttpPools, dbPools, maxDbPools, ...recoveryOptions } = o.recovery ?? {};
    this.recovery = new RecoveryManager({ ...recoveryOptions, ...(internals.clock ? { clock: internals.clock } : {}) }, { breakers: this.breakers });
    const params = breakerParameters(o.breaker);
    this.config = new AdaptiveConfigManager({ ...params, persistPath: o.config?.persistPath, historySize: o.config?.historySize, clock: internals.clock });
    this.disposers.push(bindBreakers(this.config, this.breakers));
    // A recovery's trace links to the calls that made its breaker open: keep each breaker's last evidence.
    const evidence = new Map<string, readonly SpanContext[]>();
    this.disposers.push(
      this.breakers.onStateChange((c) => {
        if (c.to === 'open' && c.evidence.length) {
          if (evidence.size >= 1000) evidence.clear();
          evidence.set(c.breaker, c.evidence);
        }
      }),
    );

    this.telemetry = new BreakerTelemetry(this.breakers, VERSION, o.http?.captureQueryString ?? false, [this.healthTelemetry]);
    const statusOptions = resolveStatusServerOptions(o.statusServer);
    // The status page links each recovery's trace: it watches the tracer recovery telemetry uses.
    const traces = statusOptions ? new RecoveryTraces() : undefined;
    this.recoveryTelemetry = new RecoveryTelemetry(this.recovery, traces?.watch(this.telemetry) ?? this.telemetry, VERSION, (name) => evidence.get(name) ?? []);
    this.configTelemetry = new ConfigTelemetry(this.config, this.telemetry, VERSION);
    // One instance per process. Everything that can reject the options has run: the previous
    // instance unpatches now, before ours patches, so ours is not layered on it.
    const previous = slots[INSTANCE];
    if (previous && !previous.stopped) {
      diag.warn('otel-self-heal: a second instance was created; the first one is shut down');
      previous.stopSync();
    }
    const pools = recoveryOn !== false && dbPools !== false ? this.dbPoolTracker(maxDbPools ?? 100) : undefined;
    const healthOn = o.health?.enabled !== false;
    const runtime: BreakerRuntime = {
      registry: this.breakers,
      telemetry: this.telemetry,
      ...(pools ? { pools } : {}),
      ...(healthOn ? { observe: (name: string, failed: boolean, ms: number) => this.health.observe(name, 'downstream', failed, ms) } : {}),
    };
    const http = { ...o.http, runtime };
    const list: Instrumentation[] = [];
    if (o.http?.node !== false) list.push(new HttpBreakerInstrumentation(http));
    if (o.http?.fetch !== false) list.push(new UndiciBreakerInstrumentation(http));
    const { pg: _pg, mysql2: _my, ioredis: _io, ...dbOptions } = o.db ?? {};
    for (const db of DB_INSTRUMENTATIONS) {
      if (o.db?.[db.client] === false) continue;
      list.push(db.create({ ...dbOptions, runtime }));
      if (healthOn) this.directDbSystems.add(db.system);
    }
    if (list.length === 0) list.push(new TelemetryInstrumentation(http)); // still receives NodeSDK's providers
    this.instrumentations = list;
    if (o.health?.enabled !== false) this.health.start();
    if (recoveryOn !== false) {
      this.disposers.push(this.recovery.attach(this.health));
      // A verified recovery makes the old failures in the component's window history, so they do
      // not set off a second recovery of a component that is already fixed.
      this.disposers.push(
        this.recovery.on('recovery-completed', (e) => {
          if (e.outcome.outcome === 'recovered') this.health.signal({ kind: 'component-updated', component: e.outcome.component });
        }),
      );
      this.recovery.start();
      if (httpPools !== false) this.registerHttpPools(maxHttpPools ?? 100);
    }
    this.config.start().catch((err: unknown) => diag.error('otel-self-heal: the saved configuration could not be loaded', err));
    if (o.metrics?.enabled !== false) this.metrics.start();
    else this.metrics.stop();
    this.statusServer = statusOptions && new StatusServer(statusOptions, this, { version: VERSION, traces });

    slots[INSTANCE] = this;
  }

  /**
   * One number for "how healthy is everything" (higher is better; 0 when all is healthy): minus
   * the sum of the components' levels (degraded 1, critical 2, failed 3). Made to be a config
   * change's `verify.healthScore`, so a change that makes health worse is rolled back.
   */
  healthScore(): number {
    const c = this.health.systemHealth().counts;
    return 0 - (c.degraded + 2 * c.critical + 3 * c.failed);
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return this.stopped;
  }

  /**
   * Unpatches every client and stops transition telemetry. NodeSDK's own `shutdown()` calls it;
   * calling it again does nothing. The breakers keep their last figures for the meter's final
   * export, and are released with the plugin.
   */
  async shutdown(): Promise<void> {
    this.stopSync();
    await this.statusServer?.close(); // its port is free once this resolves
  }

  /**
   * Each HTTP destination the plugin guards becomes a recoverable component (its pooled
   * keep-alive sockets are what a restart renews), up to `max`: a million distinct hosts must
   * not mean a million components.
   */
  private registerHttpPools(max: number): void {
    this.disposers.push(
      this.breakers.onCreate((b) => {
        if (this.pools.length >= max || !/^https?:\/\//.test(b.name)) return;
        try {
          const pool = new HttpPoolComponent(b.name);
          this.disposers.push(this.recovery.register(pool));
          this.pools.push(pool);
        } catch (err) {
          diag.debug(`otel-self-heal: ${b.name} is not registered for recovery`, err);
        }
      }),
    );
  }

  /**
   * Each database destination the instrumentations report becomes a recoverable component
   * (its pools are what a restart drains), up to `max`, registered at its first client.
   */
  private dbPoolTracker(max: number): PoolTracker {
    return {
      track: (name, client, drain, check) => {
        if (this.stopped) return;
        let component = this.dbPools.get(name);
        if (!component) {
          if (this.dbPools.size >= max) return;
          component = new DbPoolComponent(name);
          try {
            this.disposers.push(this.recovery.register(component));
          } catch (err) {
            diag.debug(`otel-self-heal: ${name} is not registered for recovery`, err);
            return;
          }
          this.dbPools.set(name, component);
        }
        component.track(client, drain, check);
      },
    };
  }

  private stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.statusServer?.close();
    for (const i of this.instrumentations) i.disable();
    this.health.stop();
    for (const d of this.disposers.splice(0)) d();
    void this.recovery.stop();
    for (const p of this.pools.splice(0)) p.close();
    for (const p of this.dbPools.values()) p.close();
    this.dbPools.clear();
    void this.config.stop();
    this.recoveryTelemetry.close();
    this.configTelemetry.close();
    // The bridge's last read must still land in the collector: stop the collector after it.
    const bridge = this.sdkMetrics;
    if (bridge) void bridge.close().finally(() => this.metrics.stop());
    else this.metrics.stop();
    this.telemetry.close();
    this.healthTelemetry.close();
    if (slots[INSTANCE] === this) slots[INSTANCE] = undefined;
  }
}

/**
 * Breaker names of HTTP destinations always carry the port and a lower-case host
 * (`https://api.example.com:443`): an override written as a URL is keyed the same way.
 */
function normalizeOverrideNames(overrides: SelfHealingOptions['overrides']): SelfHealingOptions['overrides'] {
  if (!overrides) return overrides;
  const out: NonNullable<SelfHealingOptions['overrides']> = {};
  for (const [name, o] of Object.entries(overrides)) {
    out[/^https?:\/\//i.test(name) ? (destinationFromOrigin(name)?.origin ?? name) : normalizeDbName(name)] = o;
  }
  return out;
}

const DB_DEFAULT_PORT: Record<string, number> = { postgresql: 5432, postgres: 5432, mysql: 3306, redis: 6379 };

/**
 * A database breaker name as the instrumentations make it (`postgresql://host:port/db`):
 * credentials dropped, host lower-cased, default port filled in; `postgres://` means postgresql.
 */
function normalizeDbName(name: string): string {
  const m = /^(postgresql|postgres|mysql|redis):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?(?:\/([^?#]*))?$/i.exec(name);
  if (!m) return name;
  const scheme = m[1]!.toLowerCase();
  const system = scheme === 'postgres' ? 'postgresql' : scheme;
  const port = m[3] ? Number(m[3]) : DB_DEFAULT_PORT[scheme]!;
  const db = m[4] ?? (system === 'redis' ? '0' : '');
  return `${system}://${m[2]!.toLowerCase()}:${port}/${db === '' && system === 'redis' ? '0' : db}`;
}

/** The running plugin, or undefined before {@link withSelfHealing} (or after shutdown). */
export function getSelfHealing(): SelfHealing | undefined {
  return slots[INSTANCE];
}
