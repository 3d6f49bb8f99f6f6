import { DbBreakerInstrumentation, admit, wrapMethod, type DbCall, type DbTarget, type MethodSlot, type PatchPoint } from '../shared/index.js';
import { isMySqlFailure } from './failure.js';
import type { Callback, MySqlCommand, MySqlConfig, MySqlConnection, MySqlPool, MySql2BreakerInstrumentationConfig } from './types.js';
import { callbackIndex, drainPool, operationOf, ownerOf, queuedOnRefused, refusedCommand, reporting, reportingConnect, watchEmits, watchHandshake } from './utils.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Slot = MethodSlot<MySql2BreakerInstrumentation>;

/** mysql2 lines whose internals this reads (tested on 3.24). */
const VERSIONS = ['>=3.0.0 <4'];
const KEY = 'mysql2';

/** Per connection or pool: its target under one policy (and the config it was read from). */
const TARGET = Symbol('otel-self-heal.mysql2.target');
/** Per standalone connection: its handshake's call while pending, or REFUSED. */
const HANDSHAKE = Symbol('otel-self-heal.mysql2.handshake');
const REFUSED = 'refused';
/** Per pool: the tracker it was reported to. */
const TRACKED = Symbol('otel-self-heal.mysql2.tracked');

interface CachedTarget {
  policy: unknown;
  config: MySqlConfig;
  database: unknown;
  target: DbTarget | null;
}
type Marked<T> = T & { [TARGET]?: CachedTarget; [HANDSHAKE]?: DbCall | typeof REFUSED; [TRACKED]?: unknown };

/** The wrappers of this module, current ones only (a re-wrap on top replaces an entry): what `activate` switches. */
const slots = new Map<object, Map<string, Slot>>();

const HANDLERS: Record<string, (slot: Slot) => Fn> = {
  query: (slot) =>
    function query(this: unknown) {
      const inst = slot.active;
      // eslint-disable-next-line prefer-rest-params
      return inst === undefined ? slot.original.apply(this, arguments as never) : inst.command(this as MySqlConnection, slot.original, arguments, 'QUERY');
    },
  execute: (slot) =>
    function execute(this: unknown) {
      const inst = slot.active;
      // eslint-disable-next-line prefer-rest-params
      return inst === undefined ? slot.original.apply(this, arguments as never) : inst.command(this as MySqlConnection, slot.original, arguments, 'EXECUTE');
    },
  addCommand: (slot) =>
    function addCommand(this: unknown, cmd: unknown) {
      const inst = slot.active;
      const conn = this as MySqlConnection;
      // The first command of a client connection, added by its constructor: the handshake.
      if (inst !== undefined && conn._handshakePacket === null && conn._command === null && (cmd as object | null)?.constructor?.name === 'ClientHandshake') {
        return inst.handshake(conn, slot.original, cmd as MySqlCommand);
      }
      return slot.original.call(this, cmd);
    },
  getConnection: (slot) =>
    function getConnection(this: unknown, cb: unknown) {
      const inst = slot.active;
      // eslint-disable-next-line prefer-rest-params
      if (inst === undefined || typeof cb !== 'function') return slot.original.apply(this, arguments as never);
      return inst.getConnection(this as MySqlPool, slot.original, cb as Callback);
    },
};

/**
 * Puts mysql2 calls behind the breaker of their server and database (`mysql://host:port/db`):
 * `query` and `execute` (callback, event-emitter and `mysql2/promise` forms, which delegate to
 * the core connection), the connect handshake of standalone connections (`createConnection`
 * connects in its constructor) and `getConnection` of pools (so `pool.query`/`pool.execute`,
 * `PoolCluster` and the promise pools make no connection while the breaker is open). A refused
 * call fails with a `CircuitOpenError` through mysql2's own error path and opens no socket.
 */
export class MySql2BreakerInstrumentation extends DbBreakerInstrumentation {
  constructor(config: MySql2BreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-mysql2', 'mysql', isMySqlFailure, config);
    this.enableIfConfigured();
  }

  protected patchPoints(): PatchPoint[] {
    return [
      // restack: the official instrumentation wraps query/execute when this same file has loaded, maybe after us.
      { module: 'mysql2', file: 'lib/connection.js', versions: VERSIONS, restack: true, patch: (exports) => patchOwner(exports, ['query', 'execute', 'addCommand']) },
      { module: 'mysql2', file: 'lib/pool.js', versions: VERSIONS, patch: (exports) => patchOwner(exports, ['getConnection']) },
    ];
  }

  protected activate(on: boolean): void {
    for (const methods of slots.values()) {
      for (const slot of methods.values()) {
        if (on) slot.active = this;
        else if (slot.active === this) slot.active = undefined;
      }
    }
  }

  /** @internal A `query`/`execute` call on a connection. */
  command(conn: Marked<MySqlConnection>, original: Fn, args: IArguments, kind: string): unknown {
    let call: DbCall | undefined;
    try {
      const hs = conn[HANDSHAKE];
      if (hs === REFUSED) return queuedOnRefused(conn, args);
      // Queued behind a handshake under way: its fate is the handshake's, which holds the permit.
      if (hs === undefined || hs.isSettled) {
        const target = this.targetOf(conn, conn.config);
        if (target !== null) {
          const op = this.runtime.registry.get(target.name).peekState() === 'closed' ? kind : operationOf(args[0], kind);
          const a = admit(this.runtime, this.policy, target, op);
          if (a.refused) return refusedCommand(conn, args, a.refused);
          call = a.call;
          const at = callbackIndex(args);
          if (at > 0) args[at] = reporting(call, args[at] as Callback);
          else if (at === 0) (args[0] as MySqlCommand).onResult = reporting(call, (args[0] as MySqlCommand).onResult!);
        }
      }
    } catch (err) {
      this._diag.error('otel-self-heal: guarding a mysql2 call failed; it goes through unguarded', err);
    }
    if (call === undefined) return original.apply(conn, args as never);
    let cmd: unknown;
    try {
      cmd = original.apply(conn, args as never);
    } catch (err) {
      call.release(); // mysql2 rejected the arguments: nothing was sent
      throw err;
    }
    if (!call.isSettled && callbackIndex(args) === -1 && cmd && typeof (cmd as MySqlCommand).emit === 'function') watchEmits(cmd as MySqlCommand, call);
    return cmd;
  }

  /** @internal The handshake a standalone connection's constructor starts. */
  handshake(conn: Marked<MySqlConnection>, original: Fn, cmd: MySqlCommand): unknown {
    try {
      const config = conn.config;
      // Pooled connections are the pool's getConnection call, which holds their permit.
      const target = config.pool || config.isServer ? null : this.targetOf(conn, config);
      if (target !== null) {
        const a = admit(this.runtime, this.policy, target, 'connect');
        if (a.refused) {
          conn[HANDSHAKE] = REFUSED;
          // Net.connect starts connecting on the next tick (after a DNS lookup for a name): destroyed
          // now, no SYN is sent, and the socket reports the error the way a refused connect does.
          conn.stream.destroy(a.refused);
        } else {
          conn[HANDSHAKE] = a.call;
          watchHandshake(conn, cmd, a.call, () => {
            conn[HANDSHAKE] = undefined;
          });
        }
      }
    } catch (err) {
      this._diag.error('otel-self-heal: guarding a mysql2 connect failed; it goes through unguarded', err);
    }
    return original.call(conn, cmd);
  }

  /** @internal `pool.getConnection(cb)`: refused, or followed when it makes a new connection. */
  getConnection(pool: Marked<MySqlPool>, original: Fn, cb: Callback): unknown {
    let call: DbCall | undefined;
    try {
      const config = pool.config.connectionConfig;
      const target = pool._closed ? null : this.targetOf(pool, config);
      if (target !== null) {
        const tracker = this.runtime.pools;
        if (tracker && pool[TRACKED] !== tracker) {
          pool[TRACKED] = tracker;
          tracker.track(target.name, pool, drainPool);
        }
        const a = admit(this.runtime, this.policy, target, 'connect');
        if (a.refused) {
          process.nextTick(cb, a.refused);
          return undefined;
        }
        // Only a new connection talks to the server: an idle one is handed out without a word to
        // it, and a queued caller comes back here when a connection is freed.
        const limit = pool.config.connectionLimit;
        if (pool._freeConnections.length === 0 && (limit === 0 || pool._allConnections.length < limit)) call = a.call;
        else a.call.release();
      }
    } catch (err) {
      this._diag.error('otel-self-heal: guarding a mysql2 pool failed; it goes through unguarded', err);
    }
    if (call === undefined) return original.call(pool, cb);
    try {
      return original.call(pool, reportingConnect(call, cb));
    } catch (err) {
      call.release();
      throw err;
    }
  }

  /** The target of a connection or pool, kept on it (re-read if its config or database changed). */
  private targetOf(owner: Marked<object>, config: MySqlConfig): DbTarget | null {
    const cached = owner[TARGET];
    if (cached !== undefined && cached.policy === this.policy && cached.config === config && cached.database === config.database) return cached.target;
    // A Unix socket has no host:port: not a network destination (like node:http's socketPath).
    const target = config.socketPath ? null : this.policy.target(config.host, config.port, config.database);
    owner[TARGET] = { policy: this.policy, config, database: config.database, target };
    return target;
  }
}

/** Wraps `methods` on the prototype (of the exported class) that owns them; returns it. */
function patchOwner(exports: unknown, methods: string[]): object {
  const proto = ownerOf((exports as { prototype?: object } | undefined)?.prototype, methods[0]!);
  if (!proto) throw new Error(`mysql2 has no ${methods[0]} method where it is expected`);
  patchMethods(proto, methods);
  return proto;
}

function patchMethods(proto: object, methods: string[]): void {
  let byMethod = slots.get(proto);
  if (!byMethod) slots.set(proto, (byMethod = new Map()));
  for (const method of methods) {
    if (!Object.prototype.hasOwnProperty.call(proto, method)) continue;
    const slot = wrapMethod<MySql2BreakerInstrumentation>(proto, method, KEY, HANDLERS[method]!);
    if (slot) byMethod.set(method, slot);
  }
}

