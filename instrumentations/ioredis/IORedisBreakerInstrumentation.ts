import { admit, DbBreakerInstrumentation, unguarded, wrapMethod } from '../shared/index.js';
import type { Admission, DbBreakerInstrumentationConfig, DbCall, DbPolicy, DbTarget, PatchPoint } from '../shared/index.js';
import { drainRedis } from './drain.js';
import { isRedisFailure } from './rule.js';
import type { CommandLike, PipelineLike, PipelineResult, PipelineStream, RedisLike } from './types.js';
import { connectWrapper, execWrapper, internalWrapper, sendCommandWrapper, type RedisGuard, type Slot } from './wrappers.js';

/** ioredis 5 (`built/Redis.js`, `built/Pipeline.js`); 4.x had another layout. */
const VERSIONS = ['>=5.0.0 <6'];

/** On a client: its target under a policy (looked up once per client, not per command). */
const TARGET = Symbol.for('otel-self-heal.ioredis.target');
/** On a command or pipeline: already decided (ioredis resends queued commands through sendCommand). */
const DECIDED = Symbol.for('otel-self-heal.ioredis.decided');
/** On a client: the connection epoch of a `multi({ pipeline: false })` transaction in progress. */
const IN_MULTI = Symbol.for('otel-self-heal.ioredis.multi');

/** Commands ioredis sends itself while a connection is being set up (status `connect`). */
const HANDSHAKE = new Set(['auth', 'hello', 'select', 'client', 'info']);

type Marked<T> = T & Record<symbol, unknown>;
type Wrapper = (slot: Slot) => (this: unknown, ...args: unknown[]) => unknown;

/**
 * Puts ioredis calls behind the breaker of their server and database (`redis://host:port/db`,
 * from the client's options). Guarded: every command (`Redis#sendCommand`, which Cluster
 * nodes use too), every pipeline, `multi()` and auto-pipelined batch as one call
 * (`Pipeline#exec`), and `connect()` when it would open a socket. Not guarded, because
 * ioredis sends them itself: its reconnections (`retryStrategy`), the connection handshake,
 * the SELECT and re-subscriptions after a reconnect, and resent commands; nor `quit`, nor the
 * commands inside a `multi({ pipeline: false })` (a refusal there would commit half a
 * transaction). Commands of a client that has ended fail at once with ioredis' own
 * "Connection is closed." and are not counted: the client is closed, not the server.
 */
export class IORedisBreakerInstrumentation extends DbBreakerInstrumentation implements RedisGuard {
  private readonly slots = new Map<object, Map<string, Slot>>();

  constructor(config: DbBreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-ioredis', 'redis', isRedisFailure, config);
    this.enableIfConfigured();
  }

  protected patchPoints(): PatchPoint[] {
    return [
      // restack: the official instrumentation wraps sendCommand and connect from its hook on the
      // package's main module, which runs after this file's hook.
      { module: 'ioredis', file: 'built/Redis.js', versions: VERSIONS, restack: true, patch: (exports) => this.wrapRedis(classOf(exports).prototype) },
      { module: 'ioredis', file: 'built/Pipeline.js', versions: VERSIONS, patch: (exports) => this.wrap(classOf(exports).prototype, 'exec', execWrapper) },
      {
        module: 'ioredis',
        file: 'built/redis/event_handler.js',
        versions: VERSIONS,
        patch: (exports) => this.wrap(exports as object, 'readyHandler', internalWrapper(true)),
      },
    ];
  }

  protected activate(on: boolean): void {
    for (const byMethod of this.slots.values()) {
      for (const slot of byMethod.values()) {
        if (on) slot.active = this;
        else if (slot.active === this) slot.active = undefined;
      }
    }
  }

  decideCommand(redis: RedisLike, command: CommandLike, stream: PipelineStream | undefined): Admission | undefined {
    try {
      const c = command as Marked<CommandLike>;
      if (c[DECIDED] === true || stream?.isPipeline === true) return undefined;
      const status = redis.status;
      const name = command.name;
      if (status === 'end' || name === 'quit' || (status === 'connect' && HANDSHAKE.has(name))) return undefined;
      const r = redis as Marked<RedisLike>;
      if (r[IN_MULTI] === redis.connectionEpoch) {
        if (name === 'exec' || name === 'discard') r[IN_MULTI] = undefined;
        return undefined;
      }
      const target = this.targetOf(redis);
      if (target === null) return undefined;
      c[DECIDED] = true;
      const a = admit(this.runtime, this.policy, target, name);
      if (a.call && isBlocking(name, command.args)) a.call.untimed();
      // The transaction runs on the connection this MULTI will be written to.
      if (a.call && name === 'multi') r[IN_MULTI] = redis.connectionEpoch + (status === 'ready' || status === 'connect' || status === 'connecting' ? 0 : 1);
      return a;
    } catch (err) {
      this._diag.error('otel-self-heal: guarding an ioredis command failed; it goes through unguarded', err);
      return undefined;
    }
  }

  decideConnect(redis: RedisLike): Error | undefined {
    try {
      // Only a connect that opens a socket; reconnections and "already connected" pass.
      if (redis.status !== 'wait' && redis.status !== 'end') return undefined;
      const target = this.targetOf(redis);
      if (target === null) return undefined;
      const a = admit(this.runtime, this.policy, target, 'connect');
      if (a.refused) return a.refused;
      // A gate, not a call: the commands waiting for this connection carry its outcome, and a
      // connection retried in a loop must not count as many calls.
      a.call.release();
      return undefined;
    } catch (err) {
      this._diag.error('otel-self-heal: guarding an ioredis connect failed; it goes through unguarded', err);
      return undefined;
    }
  }

  decideBatch(pipeline: PipelineLike): Admission | undefined {
    try {
      const p = pipeline as Marked<PipelineLike>;
      // Cluster pipelines go to a node picked inside exec (not guarded); a multi's first exec
      // only queues EXEC; an empty pipeline sends nothing.
      if (p[DECIDED] === true || pipeline.isCluster || pipeline._transactions > 0 || !pipeline._queue?.length) return undefined;
      const redis = pipeline.redis;
      if (!redis || redis.status === 'end') return undefined;
      const target = this.targetOf(redis);
      if (target === null) return undefined;
      p[DECIDED] = true;
      return admit(this.runtime, this.policy, target, pipeline._queue[0]!.name === 'multi' ? 'MULTI' : 'PIPELINE');
    } catch (err) {
      this._diag.error('otel-self-heal: guarding an ioredis pipeline failed; it goes through unguarded', err);
      return undefined;
    }
  }

  failureIn(results: readonly PipelineResult[], call: DbCall): Error | undefined {
    if (!Array.isArray(results)) return undefined;
    for (const entry of results) {
      const error = Array.isArray(entry) ? entry[0] : undefined;
      if (error && this.policy.isFailure(error, call.target.destination)) return error;
    }
    return undefined;
  }

  private wrapRedis(proto: object): void {
    this.wrap(proto, 'sendCommand', sendCommandWrapper);
    this.wrap(proto, 'connect', connectWrapper);
    this.wrap(proto, 'handleReconnection', internalWrapper(false));
  }

  private wrap(target: object, method: string, handler: Wrapper): void {
    const slot = wrapMethod<RedisGuard>(target, method, 'ioredis', handler);
    if (slot === undefined) throw new Error(`ioredis ${method} is not a function: unsupported version`);
    let byMethod = this.slots.get(target);
    if (!byMethod) this.slots.set(target, (byMethod = new Map()));
    const previous = byMethod.get(method);
    if (previous !== undefined && previous !== slot && previous.active === this) previous.active = undefined;
    byMethod.set(method, slot);
  }

  /** The client's target, resolved at its first call; the client is reported for recovery then. */
  private targetOf(redis: RedisLike): DbTarget | null {
    const r = redis as Marked<RedisLike>;
    const cached = r[TARGET] as { policy: DbPolicy; target: DbTarget | null } | undefined;
    if (cached !== undefined && cached.policy === this.policy) return cached.target;
    const o = redis.options ?? {};
    const db = typeof o.db === 'number' && Number.isInteger(o.db) && o.db >= 0 ? o.db : 0;
    const target = o.path ? this.policy.target(o.path, undefined, db) : this.policy.target(o.host, o.port, db);
    r[TARGET] = { policy: this.policy, target };
    if (target !== null) this.runtime.pools?.track(target.name, redis, drainRedis, pingRedis);
    return target;
  }
}

/** The class a compiled ioredis file exports as `default`. */
function classOf(exports: unknown): { prototype: object } {
  const cls: unknown = (exports as { default?: unknown } | undefined)?.default;
  const prototype: unknown = typeof cls === 'function' ? cls.prototype : undefined;
  if (typeof prototype !== 'object' || prototype === null) throw new Error('ioredis: unexpected exports (unsupported version)');
  return { prototype };
}

/** Commands that wait on the server by design, for as long as their caller asked. */
const BLOCKING = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof']);

/** True for a blocking command: those above, and XREAD / XREADGROUP with a BLOCK argument. */
export function isBlocking(name: string, args: ReadonlyArray<unknown> | undefined): boolean {
  const n = name.toLowerCase();
  if (BLOCKING.has(n)) return true;
  if ((n !== 'xread' && n !== 'xreadgroup') || !args) return false;
  return args.some((a) => typeof a === 'string' && a.toLowerCase() === 'block');
}

/** Recovery's check of a client: PING, outside the breakers. */
function pingRedis(client: object): Promise<unknown> {
  return unguarded(() => (client as { ping(): Promise<unknown> }).ping());
}
