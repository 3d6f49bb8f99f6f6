import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { DbBreakerInstrumentationConfig } from './shared/index.js';

/** The database client switches of the plugin options (`db.pg`, `db.mysql2`, `db.ioredis`). */
export type DbClient = 'pg' | 'mysql2' | 'ioredis';

/** Every database breaker instrumentation, by the option that turns it off. */
export const DB_INSTRUMENTATIONS: ReadonlyArray<{ client: DbClient; create(config: DbBreakerInstrumentationConfig): Instrumentation }> = [
  // one entry per client, e.g. { client: 'pg', create: (c) => new PgBreakerInstrumentation(c) },
];
