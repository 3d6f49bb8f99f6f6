export { MetricsCollector } from './MetricsCollector.js';
export {
  DEFAULT_METRICS_COLLECTOR_OPTIONS,
  metricsCollectorOptionsSchema,
  resolveMetricsCollectorOptions,
  type CollectorLevel,
  type MetricsCollectorOptions,
  type ResolvedMetricsCollectorOptions,
} from './options.js';
export { OVERFLOW_TAGS } from './SeriesTable.js';
export { MAX_ABS_VALUE } from './handles.js';
export type { MetricDistribution } from './Series.js';
export type {
  AggregatedMetric,
  BucketStats,
  CollectorStats,
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  MetricCorrelation,
  MetricDataPoint,
  MetricHistory,
  MetricSelector,
  MetricTags,
  MetricTrend,
  MetricType,
  RealtimeMetric,
  TimerHandle,
} from './types.js';
