import { z } from 'zod';
import type { BreakerOptions } from './breaker/index.js';
import { parseOptions } from './config/index.js';
import type { DbBreakerOptions, HttpBreakerOptions } from '../instrumentations/index.js';
import type { HealthMonitorOptions } from './health/index.js';
import type { MetricsCollectorOptions } from './metrics/index.js';
import type { RecoveryManagerOptions } from './recovery/index.js';
import { statusServerSchema, type StatusServerOptions } from './status/index.js';

/** Options of {@link withSelfHealing}; every field is optional. */
export interface SelfHealingOptions {
  /** Set false to add nothing (the SDK config is returned as given). Default true. */
  enabled?: boolean;
  /** Options of every circuit breaker (see the README's table). */
  breaker?: BreakerOptions;
  /** Breaker options per breaker name (for HTTP: `http://host:port`), over `breaker`. */
  overrides?: Record<string, BreakerOptions>;
  /** Most breakers kept at once; least recently used beyond it are dropped. Default 10000. */
  maxBreakers?: number;
  /** A breaker unused this long (ms) is dropped and recreated closed on its next call. Default 600000. */
  breakerIdleTimeoutMs?: number;
  /** Outgoing HTTP: which calls are guarded, what is a failure. */
  http?: HttpBreakerOptions & {
    /** Guard node:http / node:https requests. Default true. */
    node?: boolean;
    /** Guard global fetch and undici requests. Default true. */
    fetch?: boolean;
  };
  /**
   * Database calls (pg, mysql2, ioredis): which clients are guarded, what is a failure. One
   * breaker per server and database, named `postgresql://host:port/db`, `mysql://host:port/db`,
   * `redis://host:port/db`.
   */
  db?: DbBreakerOptions & {
    /** Guard `pg` (Client, Pool). Default true. */
    pg?: boolean;
    /** Guard `mysql2` (connections, pools, promise and callback APIs). Default true. */
    mysql2?: boolean;
    /** Guard `ioredis` (commands, pipelines, multi). Default true. */
    ioredis?: boolean;
  };
  /**
   * Add the official instrumentations (http and undici always; pg, mysql2, ioredis when
   * installed) that the SDK config lacks, so guarded calls have spans. Default true; http and
   * undici must be installed (they are optional peers).
   */
  officialInstrumentations?: boolean;
  /**
   * Take secrets out of every exported span, whichever instrumentation made it: URL credentials
   * become `REDACTED:REDACTED`, query strings go (unless `http.captureQueryString`), SQL literals
   * and the values database errors quote become `?`; the official mysql2 and ioredis
   * instrumentations added by `officialInstrumentations` are set never to record values. Default
   * true; false leaves spans as the instrumentations made them.
   */
  redact?: boolean;
  /** Performance metrics collection (spec 2.6). */
  metrics?: MetricsCollectorOptions & {
    /** Collect at all. Default true. */
    enabled?: boolean;
    /** Feed the SDK's own metrics (HTTP and DB client durations, your instruments) into the collector. Default true. */
    fromSdk?: boolean;
    /** How often the SDK's metrics are read, ms. Default 5000. */
    sdkIntervalMs?: number;
  };
  /** Automatic recovery (spec 2.4). */
  recovery?: RecoveryManagerOptions & {
    /** Recover at all (health triggers recovery of registered components). Default true. */
    enabled?: boolean;
    /**
     * Register each HTTP destination the plugin guards as a recoverable component whose pooled
     * keep-alive sockets a restart destroys. Default true.
     */
    httpPools?: boolean;
    /** Most HTTP destinations registered so. Default 100. */
    maxHttpPools?: number;
    /**
     * Register each database destination the plugin guards as a recoverable component whose
     * pools a restart drains (dead connections closed, fresh ones made). Default true.
     */
    dbPools?: boolean;
    /** Most database destinations registered so. Default 100. */
    maxDbPools?: number;
  };
  /** Adaptive configuration (spec 2.5): the breaker options are live parameters `breaker.*`. */
  config?: {
    /** Keep the configuration and its history across restarts in this file (atomic writes). */
    persistPath?: string;
    /** Versions kept in the history. Default 100. */
    historySize?: number;
  };
  /** Health monitoring (spec 2.2). */
  health?: HealthMonitorOptions & {
    /** Monitor health at all. Default true. */
    enabled?: boolean;
    /** Judge downstreams and routes from ended CLIENT and SERVER spans. Default true. */
    fromSpans?: boolean;
    /**
     * Record (without exporting) the CLIENT and SERVER spans the user's sampler drops, so health
     * sees every call under a ratio sampler. Default true.
     */
    recordUnsampled?: boolean;
    /** Flag latency anomalies per downstream (they make it degraded). Default true. */
    anomalies?: boolean;
  };
  /**
   * A live status page and JSON/SSE API (breakers, health, recent healings, configuration) on
   * 127.0.0.1:9470 by default. Off by default; `true` means all defaults. See the README.
   */
  statusServer?: boolean | StatusServerOptions;
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' });
const record = z.record(z.string(), z.unknown(), { error: 'must be an object of breaker options' });

const optionsSchema = z
  .object({
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    breaker: record.optional(),
    overrides: z.record(z.string(), record, { error: 'must map breaker names to breaker options' }).optional(),
    maxBreakers: z.number().int().min(1, { error: 'must be a whole number of at least 1' }).optional(),
    breakerIdleTimeoutMs: z.number().min(1, { error: 'must be a positive number of milliseconds' }).optional(),
    http: z
      .object({
        node: z.boolean({ error: 'must be true or false' }).optional(),
        fetch: z.boolean({ error: 'must be true or false' }).optional(),
        ignore: z
          .array(z.union([z.string(), z.instanceof(RegExp), fn]), {
            error: 'must be a list of origins, host names, RegExps or predicates',
          })
          .optional(),
        failureStatusCodes: z
          .union([z.array(z.number().int().min(100).max(599)), fn], {
            error: 'must be a list of HTTP status codes (100-599) or a function (statusCode) => boolean',
          })
          .optional(),
        isFailure: fn.optional(),
        breakerKey: fn.optional(),
        captureQueryString: z.boolean({ error: 'must be true or false' }).optional(),
      })
      .strict()
      .optional(),
    db: z
      .object({
        pg: z.boolean({ error: 'must be true or false' }).optional(),
        mysql2: z.boolean({ error: 'must be true or false' }).optional(),
        ioredis: z.boolean({ error: 'must be true or false' }).optional(),
        ignore: z
          .array(z.union([z.string(), z.instanceof(RegExp), fn]), {
            error: "must be a list of names ('postgresql://host:port/db'), host names, RegExps or predicates",
          })
          .optional(),
        isFailure: fn.optional(),
        breakerKey: fn.optional(),
      })
      .strict()
      .optional(),
    officialInstrumentations: z.boolean({ error: 'must be true or false' }).optional(),
    redact: z.boolean({ error: 'must be true or false' }).optional(),
    // The recovery manager and the configuration manager check their own options.
    recovery: z
      .looseObject({
        enabled: z.boolean({ error: 'must be true or false' }).optional(),
        httpPools: z.boolean({ error: 'must be true or false' }).optional(),
        maxHttpPools: z.number().int().min(0, { error: 'must be a whole number, 0 or more' }).optional(),
        dbPools: z.boolean({ error: 'must be true or false' }).optional(),
        maxDbPools: z.number().int().min(0, { error: 'must be a whole number, 0 or more' }).optional(),
      })
      .optional(),
    config: z
      .object({
        persistPath: z.string().min(1, { error: 'must be a file path' }).optional(),
        historySize: z.number().int().min(2, { error: 'must be a whole number of at least 2' }).optional(),
      })
      .strict()
      .optional(),
    // The collector's own options are checked by MetricsCollector; these are the switches around it.
    metrics: z
      .looseObject({
        enabled: z.boolean({ error: 'must be true or false' }).optional(),
        fromSdk: z.boolean({ error: 'must be true or false' }).optional(),
        sdkIntervalMs: z
          .number()
          .int()
          .refine((v) => v === 0 || v >= 100, { error: 'must be 0 (read by hand with sdkMetrics.poll()) or at least 100 milliseconds' })
          .optional(),
      })
      .optional(),
    // The monitor's own options are checked by HealthMonitor; these are the switches around it.
    health: z
      .looseObject({
        enabled: z.boolean({ error: 'must be true or false' }).optional(),
        fromSpans: z.boolean({ error: 'must be true or false' }).optional(),
        recordUnsampled: z.boolean({ error: 'must be true or false' }).optional(),
        anomalies: z.boolean({ error: 'must be true or false' }).optional(),
      })
      .optional(),
    statusServer: statusServerSchema.optional(),
  })
  .strict();

/** Validates the plugin options; breaker option values are checked when the registry is built. */
export function validateOptions(options: unknown): SelfHealingOptions {
  return parseOptions(optionsSchema, options ?? {}, '') as SelfHealingOptions;
}
