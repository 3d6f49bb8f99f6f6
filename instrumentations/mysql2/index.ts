export { MySql2BreakerInstrumentation } from './MySql2BreakerInstrumentation.js';
export { isMySqlFailure } from './failure.js';
export type { MySql2BreakerInstrumentationConfig } from './types.js';
