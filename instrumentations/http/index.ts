export { HttpBreakerInstrumentation } from './HttpBreakerInstrumentation.js';
