import type { DbCall } from '../shared/index.js';

type Callback = (this: unknown, err: unknown, ...rest: unknown[]) => unknown;

/** What `Client#query` and `Client#connect` need from a pg client. */
export interface PgClient {
  connectionParameters?: { host?: string; port?: number | string; database?: string };
  connection?: unknown;
  /** The Promise class a client (`_Promise`) or pool (`Promise`) was given. */
  _Promise?: PromiseConstructor;
  Promise?: PromiseConstructor;
}

/** A pg `Submittable` (pg.Query, pg-cursor, pg-query-stream): pg drives it through these methods. */
interface Submittable {
  submit(connection: unknown): unknown;
  handleError(err: unknown, connection: unknown): unknown;
  handleReadyForQuery?(connection: unknown): unknown;
  callback?: unknown;
}

/** `client.query(config, values?, callback?)` arguments as pg reads them. */
type QueryArgs = ArrayLike<unknown> & { [i: number]: unknown };

export function isSubmittable(config: unknown): config is Submittable {
  return typeof (config as { submit?: unknown } | null)?.submit === 'function';
}

/**
 * Where the query's callback is, as pg's `normalizeQueryConfig` picks it: the third argument,
 * else a function second argument, else `config.callback` (-1); none: -2 (the promise form).
 */
function callbackIndex(args: QueryArgs, config: unknown): number {
  if (typeof args[2] === 'function') return 2;
  if (typeof args[1] === 'function') return 1;
  return typeof (config as { callback?: unknown }).callback === 'function' ? -1 : -2;
}

/**
 * Runs an admitted query and settles `call` with its outcome, keeping every form pg supports
 * (and the exact arguments, which the official instrumentation reads): a callback is wrapped
 * in place, a promise is chained, a Submittable has its own error and ready hooks wrapped.
 */
export function runQuery(client: PgClient, original: (...a: unknown[]) => unknown, args: QueryArgs, call: DbCall): unknown {
  const config = args[0];
  if (isSubmittable(config)) {
    watchSubmittable(config, call);
    return original.apply(client, args as unknown[]);
  }
  const at = callbackIndex(args, config);
  if (at === -2) {
    const result = original.apply(client, args as unknown[]) as PromiseLike<unknown> | undefined;
    if (!result || typeof result.then !== 'function') {
      call.release();
      return result;
    }
    return result.then(
      (value) => {
        call.settle();
        return value;
      },
      (err: unknown) => {
        call.settle(err);
        throw err;
      },
    );
  }
  const copy = Array.prototype.slice.call(args);
  if (at >= 0) copy[at] = settling(call, copy[at] as Callback);
  else copy[0] = withCallback(config as object, settling(call, (config as { callback: Callback }).callback));
  return original.apply(client, copy);
}

/**
 * Fails a refused query through pg's own error path, on the next tick as pg does for a client
 * that is not queryable: the callback gets the error, the promise rejects with it, a
 * Submittable gets `handleError` (so pg-cursor and pg-query-stream emit `'error'`).
 */
export function refuseQuery(client: PgClient, args: QueryArgs, error: Error): unknown {
  const config = args[0];
  if (isSubmittable(config)) {
    if (!config.callback) {
      if (typeof args[1] === 'function') config.callback = args[1];
      else if (args[2]) config.callback = args[2];
    }
    process.nextTick(() => config.handleError(error, client.connection));
    return config;
  }
  const at = callbackIndex(args, config);
  if (at !== -2) {
    const cb = (at >= 0 ? args[at] : (config as { callback: unknown }).callback) as Callback;
    process.nextTick(() => cb.call(undefined, error));
    return undefined;
  }
  return promiseOf(client).reject(error);
}

/** Fails a refused `connect` the way a failed connection would: callback or rejection. */
export function refuseConnect(owner: PgClient, callback: unknown, error: Error): unknown {
  if (typeof callback === 'function') {
    process.nextTick(() => (callback as Callback).call(undefined, error));
    return undefined;
  }
  return promiseOf(owner).reject(error);
}

function promiseOf(owner: PgClient): PromiseConstructor {
  const P = owner._Promise ?? owner.Promise;
  return typeof P?.reject === 'function' ? P : Promise;
}

/** A callback that settles `call` first; errors pass through untouched. */
export function settling(call: DbCall, cb: Callback): Callback {
  return function (this: unknown, err: unknown) {
    call.settle(err ?? undefined);
    // eslint-disable-next-line prefer-rest-params
    return cb.apply(this, arguments as unknown as [unknown]);
  };
}

/** The query's SQL command (`SELECT`), for the span of a refused call. */
export function operationOf(config: unknown): string {
  const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') return 'query';
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  let j = i;
  while (j < text.length && j - i < 20 && isLetter(text.charCodeAt(j))) j++;
  return j > i ? text.slice(i, j).toUpperCase() : 'query';
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** A copy of a query config object (prototype and property descriptors kept) with another callback. */
function withCallback(config: object, callback: Callback): object {
  const copy = Object.defineProperties(Object.create(Object.getPrototypeOf(config) as object | null) as object, Object.getOwnPropertyDescriptors(config));
  (copy as { callback: Callback }).callback = callback;
  return copy;
}

/** pg calls `handleError` when the query fails and `handleReadyForQuery` when it is done. */
function watchSubmittable(q: Submittable, call: DbCall): void {
  const handleError = q.handleError;
  const handleReady = q.handleReadyForQuery;
  q.handleError = function (this: unknown, err: unknown, connection: unknown) {
    call.settle(err);
    return handleError.call(this, err, connection);
  };
  if (typeof handleReady === 'function') {
    q.handleReadyForQuery = function (this: unknown, connection: unknown) {
      call.settle();
      return handleReady.call(this, connection);
    };
  }
}
