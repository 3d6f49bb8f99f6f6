export { UndiciBreakerInstrumentation } from './UndiciBreakerInstrumentation.js';
