// The door into the metrics component: collection (spec 2.6), the SDK bridge, anomaly detection.
export * from './collector/index.js';
export * from './reader/index.js';
export * from './anomaly/index.js';
