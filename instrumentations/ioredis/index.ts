export { IORedisBreakerInstrumentation } from './IORedisBreakerInstrumentation.js';
export { isRedisFailure } from './rule.js';
export { drainRedis } from './drain.js';
