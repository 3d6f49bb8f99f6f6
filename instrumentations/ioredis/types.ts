/**
 * The slice of ioredis 5 internals the breaker reads and calls (`built/Redis.js`,
 * `built/Pipeline.js`, `built/Command.js`), kept local so that no ioredis types are needed at
 * run time. Checked against ioredis 5.11.
 */

/** `Redis#status`: wait → connecting → connect → ready → close → reconnecting | end. */
export type RedisStatus = 'wait' | 'connecting' | 'connect' | 'ready' | 'close' | 'reconnecting' | 'end' | 'monitoring';

/** A queued Redis command (`built/Command.js`). */
export interface CommandLike {
  name: string;
  args?: unknown[];
  promise: Promise<unknown>;
  resolve(value: unknown): unknown;
  reject(error: unknown): void;
}

/** The options a client was made with (after URL parsing and defaults). */
export interface RedisOptionsLike {
  host?: string;
  port?: number;
  path?: string;
  db?: number;
  retryStrategy?: unknown;
}

/** A standalone client (`built/Redis.js`); Cluster nodes are instances of it too. */
export interface RedisLike {
  status: RedisStatus;
  options: RedisOptionsLike;
  /** Bumped at each connection attempt: tells one connection from the next. */
  connectionEpoch: number;
  connect(callback?: unknown): Promise<void>;
  disconnect(reconnect?: boolean): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A pipeline or a `multi()` transaction (`built/Pipeline.js`). */
export interface PipelineLike {
  redis: RedisLike;
  isCluster: boolean;
  _queue: CommandLike[];
  _transactions: number;
  replyPending: number;
  nodeifiedPromise?: boolean;
  promise: Promise<PipelineResult[]>;
}

/** One entry of a pipeline's result: `[error, reply]`. */
export type PipelineResult = [Error | null, unknown];

/** The second argument of `Redis#sendCommand` when a pipeline writes through it. */
export interface PipelineStream {
  isPipeline?: boolean;
}
