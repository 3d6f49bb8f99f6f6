export { createSdkMetricsBridge, type SdkMetricsBridge } from './SdkMetricsBridge.js';
export {
  DEFAULT_SDK_METRICS_BRIDGE_OPTIONS,
  resolveSdkMetricsBridgeOptions,
  sdkMetricsBridgeOptionsSchema,
  type ResolvedSdkMetricsBridgeOptions,
  type SdkMetricsBridgeOptions,
} from './options.js';
