import { diag } from '@opentelemetry/api';
// Types only (erased at build): sdk-metrics is loaded at run time, and only when a bridge is made.
import type { AggregationOption, IMetricReader, InstrumentType } from '@opentelemetry/sdk-metrics';
import { loadOptional } from '../../load.js';
import type { MetricsCollector } from '../collector/MetricsCollector.js';
import { feedCollector } from './convert.js';
import { resolveSdkMetricsBridgeOptions, type ResolvedSdkMetricsBridgeOptions, type SdkMetricsBridgeOptions } from './options.js';

type SdkMetricsModule = typeof import('@opentelemetry/sdk-metrics');

/** Exponential buckets per histogram point (the SDK's default): ~1–4 % relative error over the spreads seen in 5 s. */
const EXPONENTIAL_MAX_SIZE = 160;

/**
 * A MetricReader for the NodeSDK's (or a MeterProvider's) `metricReaders`, beside the user's own
 * readers, that feeds the SDK's metrics into a {@link MetricsCollector}. The user's readers keep
 * all their data: without Views the SDK keeps one storage per reader (research/otel.md §4).
 */
export interface SdkMetricsBridge extends IMetricReader {
  readonly collector: MetricsCollector;
  /**
   * Collects from the SDK now and feeds the collector; resolves to the number of data points fed
   * (0 on failure, reported through `diag`). Never rejects; concurrent calls share one collection.
   */
  poll(): Promise<number>;
  /** Same as `shutdown()`: stops the timer after a last poll. */
  close(): Promise<void>;
}

const classes = new WeakMap<SdkMetricsModule, new (c: MetricsCollector, o: ResolvedSdkMetricsBridgeOptions) => SdkMetricsBridge>();

/**
 * Makes a bridge from the application's `@opentelemetry/sdk-metrics`, or returns undefined (with a
 * `diag` warning) when that package is not installed. Choices of the bridge's reader, which apply
 * to its own storage only:
 * - DELTA temporality (CUMULATIVE for up-down counters, whose level is what matters), so each
 *   collection is one window of values;
 * - exponential histograms for histogram instruments: log-scale buckets map onto the collector's
 *   sketch with a few % error whatever the unit, where explicit default buckets (0, 5, 10, … for
 *   seconds) would lose everything under 5 s;
 * - a cardinality limit of `cardinalityLimit` attribute sets per instrument.
 * It collects every `intervalMs` on one unref'd timer, started when the SDK binds it and cleared
 * on shutdown. Throws a ConfigValidationError for bad options.
 */
export function createSdkMetricsBridge(collector: MetricsCollector, options?: SdkMetricsBridgeOptions): SdkMetricsBridge | undefined {
  const resolved = resolveSdkMetricsBridgeOptions(options);
  let sdk: SdkMetricsModule | undefined;
  try {
    sdk = loadOptional<SdkMetricsModule>('@opentelemetry/sdk-metrics');
  } catch (err) {
    diag.warn('otel-self-heal: @opentelemetry/sdk-metrics could not be loaded; no SDK metrics bridge', err);
    return undefined;
  }
  if (typeof sdk?.MetricReader !== 'function') {
    diag.warn('otel-self-heal: @opentelemetry/sdk-metrics is not installed; no SDK metrics bridge (install it or @opentelemetry/sdk-node)');
    return undefined;
  }
  let Bridge = classes.get(sdk);
  if (!Bridge) classes.set(sdk, (Bridge = bridgeClass(sdk)));
  return new Bridge(collector, resolved);
}

function bridgeClass(sdk: SdkMetricsModule) {
  const { AggregationTemporality, AggregationType, DataPointType, InstrumentType: Kind } = sdk;
  const histogram: AggregationOption = {
    type: AggregationType.EXPONENTIAL_HISTOGRAM,
    options: { maxSize: EXPONENTIAL_MAX_SIZE, recordMinMax: true },
  };
  const byDefault: AggregationOption = { type: AggregationType.DEFAULT };

  return class SdkMetricsBridgeReader extends sdk.MetricReader implements SdkMetricsBridge {
    private timer: NodeJS.Timeout | undefined;
    private pending: Promise<number> | undefined;
    private closed = false;

    constructor(
      readonly collector: MetricsCollector,
      private readonly bridgeOptions: ResolvedSdkMetricsBridgeOptions,
    ) {
      super({
        aggregationTemporalitySelector: (t: InstrumentType) =>
          t === Kind.UP_DOWN_COUNTER || t === Kind.OBSERVABLE_UP_DOWN_COUNTER
            ? AggregationTemporality.CUMULATIVE
            : AggregationTemporality.DELTA,
        aggregationSelector: (t: InstrumentType) => (t === Kind.HISTOGRAM ? histogram : byDefault),
        cardinalitySelector: () => bridgeOptions.cardinalityLimit,
      });
    }

    protected override onInitialized(): void {
      const ms = this.bridgeOptions.intervalMs;
      if (ms > 0 && !this.timer && !this.closed) {
        this.timer = setInterval(() => void this.poll(), ms);
        this.timer.unref();
      }
    }

    protected override async onShutdown(): Promise<void> {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      await this.poll(); // the last window, so a short-lived process still reports it
      this.closed = true;
    }

    protected override async onForceFlush(): Promise<void> {
      await this.poll();
    }

    poll(): Promise<number> {
      if (this.closed) return Promise.resolve(0);
      return (this.pending ??= this.collectOnce().finally(() => {
        this.pending = undefined;
      }));
    }

    close(): Promise<void> {
      if (this.closed) return Promise.resolve();
      return this.shutdown().catch((err: unknown) => diag.debug('otel-self-heal: metrics bridge shutdown failed', err));
    }

    private async collectOnce(): Promise<number> {
      try {
        const { resourceMetrics, errors } = await this.collect({ timeoutMillis: this.bridgeOptions.timeoutMs });
        if (errors.length > 0) diag.debug('otel-self-heal: metrics bridge collection had errors', errors);
        return feedCollector(this.collector, resourceMetrics, DataPointType, this.bridgeOptions.include);
      } catch (err) {
        // Not bound yet, already shut down, or a timeout: nothing to feed this time.
        diag.debug('otel-self-heal: metrics bridge collection failed', err);
        return 0;
      }
    }
  };
}
