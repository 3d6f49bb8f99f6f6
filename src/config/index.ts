export { ConfigValidationError, parseOptions } from './validate.js';
