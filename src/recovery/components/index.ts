export { HttpPoolComponent } from './HttpPoolComponent.js';
export type { HttpPoolComponentOptions, PoolRestart } from './HttpPoolComponent.js';
export { DbPoolComponent } from './DbPoolComponent.js';
export type { Check, Drain } from './DbPoolComponent.js';
