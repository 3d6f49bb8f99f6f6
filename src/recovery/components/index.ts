export { HttpPoolComponent } from './HttpPoolComponent.js';
export type { HttpPoolComponentOptions, PoolRestart } from './HttpPoolComponent.js';
export { DbPoolComponent } from './DbPoolComponent.js';
export type { Drain } from './DbPoolComponent.js';
