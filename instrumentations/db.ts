import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { DbBreakerInstrumentationConfig, DbSystem } from './shared/index.js';
import { PgBreakerInstrumentation } from './pg/index.js';
import { MySql2BreakerInstrumentation } from './mysql2/index.js';
import { IORedisBreakerInstrumentation } from './ioredis/index.js';

/** The database client switches of the plugin options (`db.pg`, `db.mysql2`, `db.ioredis`). */
export type DbClient = 'pg' | 'mysql2' | 'ioredis';

/** Every database breaker instrumentation, by the option that turns it off. */
export const DB_INSTRUMENTATIONS: ReadonlyArray<{
  client: DbClient;
  /** `db.system.name` of its calls. */
  system: DbSystem;
  create(config: DbBreakerInstrumentationConfig): Instrumentation;
}> = [
  { client: 'pg', system: 'postgresql', create: (c) => new PgBreakerInstrumentation(c) },
  { client: 'mysql2', system: 'mysql', create: (c) => new MySql2BreakerInstrumentation(c) },
  { client: 'ioredis', system: 'redis', create: (c) => new IORedisBreakerInstrumentation(c) },
];
