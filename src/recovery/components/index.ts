export { HttpPoolComponent } from './HttpPoolComponent.js';
export type { HttpPoolComponentOptions, PoolRestart } from './HttpPoolComponent.js';
