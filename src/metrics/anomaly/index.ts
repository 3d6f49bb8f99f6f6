// Streaming anomaly detection, one detector per series. Pure computation: no timers, no I/O, no
// OpenTelemetry. See AnomalyDetector for the method, and `npm run bench:nab` (bench/nab.mjs) for
// its score on the Numenta Anomaly Benchmark data in ../shared/nab.
import { AnomalyDetector } from './AnomalyDetector.js';
import type { AnomalyDetectorOptions } from './options.js';

export { AnomalyDetector, type AnomalyDetectorFootprint, type AnomalyResult } from './AnomalyDetector.js';
export {
  DEFAULT_ANOMALY_DETECTOR_OPTIONS,
  anomalyDetectorOptionsSchema,
  resolveAnomalyDetectorOptions,
  type AnomalyDetectorOptions,
  type ResolvedAnomalyDetectorOptions,
} from './options.js';

/**
 * A new detector for one series. Options are validated (zod); a bad one throws a
 * ConfigValidationError naming the field, e.g. `anomaly.window must be a whole number ...`.
 */
export function createAnomalyDetector(options?: AnomalyDetectorOptions): AnomalyDetector {
  return new AnomalyDetector(options);
}
