import { CircuitOpenError } from '../../src/breaker/index.js';
import type { Admission, DbCall, MethodSlot } from '../shared/index.js';
import { internalCalls } from './internal.js';
import type { CommandLike, PipelineLike, PipelineResult, PipelineStream, RedisLike } from './types.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** What the wrappers ask the active instrumentation; each method never throws (undefined: pass through). */
export interface RedisGuard {
  decideCommand(redis: RedisLike, command: CommandLike, stream: PipelineStream | undefined): Admission | undefined;
  decideConnect(redis: RedisLike): Error | undefined;
  decideBatch(pipeline: PipelineLike): Admission | undefined;
  /** The first error among a batch's results that counts against the server, if any. */
  failureIn(results: readonly PipelineResult[], call: DbCall): Error | undefined;
}

export type Slot = MethodSlot<RedisGuard>;

/**
 * `Redis#sendCommand(command, stream?)`: every command of a standalone client (and of each
 * Cluster node) passes here. Refused: rejected through `command.reject`, ioredis' own way to
 * fail a command (promise and callback styles alike). Admitted: settled from the command's
 * own `resolve`/`reject`, so neither the application's promise nor its handled-ness changes.
 */
export function sendCommandWrapper(slot: Slot): Fn {
  const original = slot.original;
  return function sendCommand(this: unknown, cmd: unknown, stream?: unknown) {
    const guard = slot.active;
    if (guard === undefined || internalCalls.depth > 0) return Reflect.apply(original, this, arguments);
    const command = cmd as CommandLike;
    const a = guard.decideCommand(this as RedisLike, command, stream as PipelineStream | undefined);
    if (a === undefined) return Reflect.apply(original, this, arguments);
    if (a.refused) {
      // Next tick: an official ioredis instrumentation wrapped around this call hooks
      // command.reject only once this returns; rejecting now would leave its span open.
      process.nextTick(rejectCommand, command, a.refused);
      return command.promise;
    }
    watchCommand(command, a.call);
    internalCalls.depth++;
    try {
      return Reflect.apply(original, this, arguments);
    } catch (err) {
      a.call.settle(err);
      throw err;
    } finally {
      internalCalls.depth--;
    }
  };
}

/**
 * `Redis#connect()`: refused while the breaker is open when it would open a socket (a new
 * client, or `connect()` on a closed one), so the client stays in `wait`/`end` and connects
 * with its next admitted command. ioredis' own reconnections pass.
 */
export function connectWrapper(slot: Slot): Fn {
  const original = slot.original;
  return function connect(this: unknown, callback?: unknown) {
    const guard = slot.active;
    if (guard === undefined || internalCalls.depth > 0) return Reflect.apply(original, this, arguments);
    const refused = guard.decideConnect(this as RedisLike);
    if (refused === undefined) return Reflect.apply(original, this, arguments);
    const p = Promise.reject(refused);
    if (typeof callback === 'function') {
      p.catch(noop); // as ioredis does: with a callback, the error goes there
      process.nextTick(callback as Fn, refused);
    }
    return p;
  };
}

/**
 * `Pipeline#exec()`, for `pipeline()`, `multi()` and auto-pipelining: the batch is one call.
 * Its commands then reach `sendCommand` with the pipeline's stream and pass. Refused: every
 * command is rejected, as when the connection fails under a batch, so `exec()` resolves with
 * `[[CircuitOpenError, undefined], …]` and a `multi()`'s `exec()` rejects with it.
 */
export function execWrapper(slot: Slot): Fn {
  const original = slot.original;
  return function exec(this: unknown, callback?: unknown) {
    const guard = slot.active;
    if (guard === undefined || internalCalls.depth > 0) return Reflect.apply(original, this, arguments);
    const pipeline = this as PipelineLike;
    const a = guard.decideBatch(pipeline);
    if (a === undefined) return Reflect.apply(original, this, arguments);
    if (a.refused) {
      refuseBatch(pipeline, a.refused, callback);
      return pipeline.promise;
    }
    const call = a.call;
    // A pipeline's promise only resolves (per-command errors are in the results), and it is the
    // one exec returns: watching it changes nothing for the application.
    pipeline.promise.then(
      (results) => call.settle(guard.failureIn(results, call)),
      (error: unknown) => call.settle(error),
    );
    internalCalls.depth++;
    try {
      return Reflect.apply(original, this, arguments);
    } catch (err) {
      call.settle(err);
      throw err;
    } finally {
      internalCalls.depth--;
    }
  };
}

/**
 * A method of ioredis' own connection handling (`handleReconnection`) or a factory of one
 * (`readyHandler`): what it sends (SELECT, re-subscriptions, resent commands) is internal.
 */
export function internalWrapper(factory: boolean): (slot: Slot) => Fn {
  return (slot) => {
    const original = slot.original;
    const internal = (fn: Fn): Fn =>
      function (this: unknown) {
        internalCalls.depth++;
        try {
          return Reflect.apply(fn, this, arguments);
        } finally {
          internalCalls.depth--;
        }
      };
    if (!factory) return internal(original);
    return function (this: unknown) {
      const handler: unknown = Reflect.apply(original, this, arguments);
      return typeof handler === 'function' ? internal(handler as Fn) : handler;
    };
  };
}

function rejectCommand(command: CommandLike, error: Error): void {
  command.reject(error);
}

function watchCommand(command: CommandLike, call: DbCall): void {
  const resolve = command.resolve;
  const reject = command.reject;
  command.resolve = (value: unknown) => {
    call.settle();
    return resolve(value);
  };
  command.reject = (error: unknown) => {
    call.settle(error);
    reject(error);
  };
}

function refuseBatch(pipeline: PipelineLike, error: CircuitOpenError, callback: unknown): void {
  if (typeof callback === 'function' && !pipeline.nodeifiedPromise) {
    pipeline.nodeifiedPromise = true;
    pipeline.promise.then(
      (results) => process.nextTick(callback as Fn, null, results),
      (e: unknown) => process.nextTick(callback as Fn, e),
    );
  }
  const queue = pipeline._queue;
  pipeline.replyPending = queue.length;
  const last = queue.length - 1;
  // One error object per command: multi's exec lists the others in its error's
  // `previousErrors`, which must not contain that error itself.
  for (let i = 0; i < queue.length; i++) {
    queue[i]!.reject(i === last ? error : CircuitOpenError.withoutStack(error.breaker, error.state, error.retryAt));
  }
}

function noop(): void {}
