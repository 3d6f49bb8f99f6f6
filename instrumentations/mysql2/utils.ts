import { EventEmitter } from 'node:events';
import type { DbCall } from '../shared/index.js';
import type { Callback, CreateQuery, MySqlCommand, MySqlConnection, MySqlPool } from './types.js';

/** The prototype on `proto`'s chain that owns `method` (mysql2 >= 3.11.5 keeps it on the base class). */
export function ownerOf(proto: object | undefined, method: string): object | undefined {
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | undefined) {
    if (Object.prototype.hasOwnProperty.call(p, method)) return p;
  }
  return undefined;
}

/** Where the callback of a `query`/`execute` call is: its argument index, 0 for a command's `onResult`, -1 for none (event-emitter form). */
export function callbackIndex(args: IArguments): number {
  if (typeof args[1] === 'function') return 1;
  if (typeof args[2] === 'function') return 2;
  const first = args[0] as MySqlCommand | undefined;
  if (args.length === 1 && isCommand(first) && typeof first.onResult === 'function') return 0;
  return -1;
}

/** A command object handed to `query()` (what `pool.query()` does), as opposed to SQL or options. */
export function isCommand(value: unknown): value is MySqlCommand {
  return typeof value === 'object' && value !== null && typeof (value as MySqlCommand).emit === 'function';
}

/** `cb`, reporting to `call` first. The error is the call's outcome; results are passed on untouched. */
export function reporting(call: DbCall, cb: Callback): Callback {
  return function (this: unknown, err: unknown) {
    call.settle(err ?? undefined);
    // eslint-disable-next-line prefer-rest-params
    return cb.apply(this, arguments as unknown as [unknown]);
  };
}

/**
 * `cb` of `pool.getConnection`, reporting to `call` first: a failed connect counts (if the policy
 * says so); a connection handed out gives no verdict, the query that follows on it does. So a
 * `pool.query` is one call to the breaker, and takes one probe slot when half-open.
 */
export function reportingConnect(call: DbCall, cb: Callback): Callback {
  return function (this: unknown, err: unknown) {
    if (err) call.settle(err);
    else call.release();
    // eslint-disable-next-line prefer-rest-params
    return cb.apply(this, arguments as unknown as [unknown]);
  };
}

/**
 * Follows a command in the event-emitter form through its own emits: an `error` listener of ours
 * would swallow an error the application does not handle (and mysql2 would not crash as it should).
 */
export function watchEmits(cmd: MySqlCommand, call: DbCall): void {
  const emit = cmd.emit;
  cmd.emit = function (this: MySqlCommand, event: string | symbol, payload?: unknown): boolean {
    if (!call.isSettled) {
      if (event === 'error') call.settle(payload);
      else if (event === 'end') call.settle();
    }
    // eslint-disable-next-line prefer-rest-params
    return emit.apply(this, arguments as unknown as [string]);
  } as typeof cmd.emit;
}

/**
 * The command a refused `query`/`execute` returns: the command the caller handed in, or a real
 * `Query` built from the arguments (so `.stream()`, `.on()` and the `.then()` guard work as
 * usual). On the next tick it fails like a command the server answered with an error: the
 * callback (or an `error` event), then `end`.
 */
export function refusedCommand(conn: MySqlConnection, args: IArguments, error: Error): MySqlCommand {
  const cmd = commandOf(conn, args);
  process.nextTick(failCommand, cmd, error);
  return cmd;
}

/**
 * A `query`/`execute` on a connection whose connect was refused: queued on it as mysql2 queues
 * commands behind a connect under way, so mysql2 fails it with the connect's error and, as
 * after any failed connect, emits no `error` on a connection whose queued commands all have a
 * callback. It goes around the official instrumentation, which would make a failed span of it.
 */
export function queuedOnRefused(conn: MySqlConnection, args: IArguments): MySqlCommand {
  return conn.addCommand(commandOf(conn, args));
}

function commandOf(conn: MySqlConnection, args: IArguments): MySqlCommand {
  const first = args[0];
  if (isCommand(first)) return first;
  const at = callbackIndex(args);
  const cb = at > 0 ? args[at] : undefined;
  try {
    const create = (conn.constructor as { createQuery?: CreateQuery }).createQuery!;
    return create(first, at === 1 ? undefined : args[1], cb, conn.config);
  } catch {
    // Arguments mysql2 itself would reject: a plain command still reports the error.
    return Object.assign(new EventEmitter(), { onResult: cb as Callback | undefined });
  }
}

function failCommand(cmd: MySqlCommand, error: Error): void {
  if (typeof cmd.onResult === 'function') cmd.onResult(error);
  else cmd.emit('error', error);
  cmd.emit('end');
}

/** The SQL verb of a `query`/`execute` call (`SELECT`), never its text: for the span of a refused call. */
export function operationOf(sql: unknown, fallback: string): string {
  const text = typeof sql === 'string' ? sql : typeof sql === 'object' && sql !== null ? (sql as { sql?: unknown }).sql : undefined;
  if (typeof text !== 'string') return fallback;
  const m = /^\s*([A-Za-z]+)/.exec(text.length > 64 ? text.slice(0, 64) : text);
  return m ? m[1]!.toUpperCase() : fallback;
}

/**
 * Follows a standalone connection's handshake to its outcome: the server's hello and login
 * (`end` with a handshake and no error), an error packet (`error`: auth failure, too many
 * connections), or the socket failing or closing first (refused, reset, connect timeout).
 * Listeners of ours only where mysql2 already listens, so no error changes its handling.
 */
export function watchHandshake(conn: MySqlConnection, cmd: MySqlCommand, call: DbCall, done: () => void): void {
  const stream = conn.stream;
  const finish = (error?: unknown): void => {
    cmd.removeListener('error', onError);
    cmd.removeListener('end', onEnd);
    stream.removeListener('error', onError);
    stream.removeListener('close', onClose);
    if (error === null) call.release();
    else call.settle(error);
    done();
  };
  const onError = (err: unknown): void => finish(err ?? null);
  const onEnd = (): void => {
    const err = conn._fatalError ?? conn._protocolError;
    finish(err ?? (cmd.handshake ? undefined : null));
  };
  const onClose = (): void => finish(conn._fatalError ?? conn._protocolError ?? null);
  cmd.once('error', onError);
  cmd.once('end', onEnd);
  stream.once('error', onError);
  stream.once('close', onClose);
}

/**
 * Recovery's drain of a pool: closes its idle connections (their sockets at once, they may be
 * half-dead), so the next `getConnection` makes fresh ones. Connections in use finish their
 * work; mysql2 drops those whose socket fails on its own.
 */
export function drainPool(pool: object): void {
  const free = (pool as MySqlPool)._freeConnections;
  if (!free) return;
  const idle: MySqlConnection[] = [];
  for (let i = 0; i < free.length; i++) idle.push(free.get(i));
  for (const conn of idle) {
    conn.destroy();
    conn.stream?.destroy();
  }
}
