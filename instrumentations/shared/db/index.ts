export { DbBreakerInstrumentation } from './DbBreakerInstrumentation.js';
export type { PatchPoint } from './DbBreakerInstrumentation.js';
export { DbCall, admit } from './DbCall.js';
export type { Admission } from './DbCall.js';
export { DbPolicy, dbName } from './DbPolicy.js';
export type { DbTarget } from './DbPolicy.js';
export { isOurs, wrapMethod } from './patch.js';
export type { MethodSlot } from './patch.js';
export type { DbBreakerInstrumentationConfig, DbBreakerOptions, DbDestination, DbFailureRule, DbSystem } from './types.js';
