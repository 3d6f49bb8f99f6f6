import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { InstrumentationBase, type InstrumentationConfig, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import type { EventLoggerProvider } from '../../src/telemetry/index.js';
import type { BreakerRuntime } from './types.js';

/** What every breaker instrumentation is made with. */
export interface BreakerInstrumentationConfig {
  runtime: BreakerRuntime;
  enabled?: boolean;
}

export const PACKAGE_VERSION = '0.1.0';

/**
 * Base of our instrumentations: an OTel `Instrumentation` (so NodeSDK hands it the tracer,
 * meter and logger providers) that patches prototypes or dispatchers itself rather than module
 * exports, with plain wrappers that the official instrumentations' shimmer cannot unwrap
 * (research/otel.md §2.3).
 */
export abstract class BreakerInstrumentation<C extends BreakerInstrumentationConfig = BreakerInstrumentationConfig> extends InstrumentationBase<
  InstrumentationConfig & C
> {
  protected readonly runtime: BreakerRuntime;
  private on = false;

  constructor(name: string, config: C) {
    // InstrumentationBase calls enable() from its constructor, before our fields exist:
    // start disabled; the subclass enables at the end of its constructor.
    super(name, PACKAGE_VERSION, { ...config, enabled: false });
    this.runtime = config.runtime;
    this.setConfig({ ...config, enabled: config.enabled ?? true });
  }

  /**
   * Subclasses call this last in their constructor: enabling from here would run before their
   * own field initializers, which would then reset what `install()` set.
   */
  protected enableIfConfigured(): void {
    if (this.getConfig().enabled) this.enable();
  }

  protected override init(): InstrumentationModuleDefinition[] {
    return [];
  }

  override enable(): void {
    if (this.on || !this.runtime) return;
    this.on = true;
    this.install();
  }

  override disable(): void {
    if (!this.on) return;
    this.on = false;
    this.uninstall();
  }

  get enabled(): boolean {
    return this.on;
  }

  override setTracerProvider(provider: TracerProvider): void {
    super.setTracerProvider(provider);
    this.runtime?.telemetry.useTracerProvider(provider);
  }

  override setMeterProvider(provider: MeterProvider): void {
    super.setMeterProvider(provider);
    this.runtime?.telemetry.useMeterProvider(provider);
  }

  override setLoggerProvider(provider: Parameters<InstrumentationBase['setLoggerProvider']>[0]): void {
    super.setLoggerProvider(provider);
    this.runtime?.telemetry.useLoggerProvider(provider as unknown as EventLoggerProvider);
  }

  protected abstract install(): void;
  protected abstract uninstall(): void;
}

/**
 * Patches nothing: it only receives NodeSDK's providers for the plugin's telemetry, for when
 * both HTTP instrumentations are turned off (health and metrics still report).
 */
export class TelemetryInstrumentation extends BreakerInstrumentation {
  constructor(config: BreakerInstrumentationConfig) {
    super('otel-self-heal/telemetry', config);
    this.enableIfConfigured();
  }

  protected install(): void {}

  protected uninstall(): void {}
}
