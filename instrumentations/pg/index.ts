export { PgBreakerInstrumentation } from './PgBreakerInstrumentation.js';
export { isPgFailure } from './failure.js';
