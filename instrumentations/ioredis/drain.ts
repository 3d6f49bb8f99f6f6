import { internalCalls } from './internal.js';
import type { RedisLike } from './types.js';

/**
 * Recovery's drain for one ioredis client: drops its connection and waits until a fresh one is
 * ready (rejects when the client ends for good, or when `signal` aborts). It is
 * `disconnect(true)`: ioredis reconnects as after any lost connection, restores the selected
 * database and subscriptions, and resends the commands that were waiting for a reply. When the
 * client's `retryStrategy` declines to reconnect (or there is none), the client would end:
 * it is connected again once, here (commands in flight then fail with "Connection is
 * closed."). Clients that never connected (`lazyConnect`) or were ended (by their owner, or when
 * their `retryStrategy` gave up) are left as they are.
 */
export function drainRedis(client: object, signal: AbortSignal): Promise<void> | undefined {
  const redis = client as RedisLike;
  if (signal.aborted || redis.status === 'wait' || redis.status === 'end') return undefined;
  const epoch = redis.connectionEpoch;
  return new Promise<void>((resolve, reject) => {
    let connected = false;
    const restore = watchOwnerClose(redis, () => done(new Error('the ioredis client was closed by its owner during the recovery')));
    let settled = false;
    const done = (error?: unknown) => {
      if (settled) return;
      settled = true;
      restore.undo();
      redis.off('ready', ready);
      redis.off('end', ended);
      signal.removeEventListener('abort', aborted);
      if (error === undefined) resolve();
      else reject(error);
    };
    // A 'ready' still queued from the connection being dropped is not the new one.
    const ready = () => {
      if (redis.connectionEpoch !== epoch) done();
    };
    const ended = () => {
      // The application closed it meanwhile (disconnect(), quit()): it stays closed.
      if (restore.closedByOwner) {
        done(new Error('the ioredis client was closed by its owner during the recovery'));
        return;
      }
      if (connected) {
        done(new Error('the ioredis client ended instead of reconnecting'));
        return;
      }
      connected = true;
      // The recovery's own connect: not an application call for the breaker to refuse.
      internalCalls.depth++;
      try {
        redis.connect().catch(() => undefined); // its outcome arrives as 'ready' or 'end'
      } finally {
        internalCalls.depth--;
      }
    };
    const aborted = () => done(signal.reason);
    redis.on('ready', ready);
    redis.on('end', ended);
    signal.addEventListener('abort', aborted, { once: true });
    redis.disconnect(true);
  });
}

/**
 * Notes, until `undo()`, whether the client's owner closes it (`disconnect()` without reconnect,
 * `quit()`): ioredis clears its own flag before 'end', so it cannot be read there.
 */
function watchOwnerClose(redis: RedisLike, onClose: () => void): { readonly closedByOwner: boolean; undo(): void } {
  const r = redis as unknown as Record<string, unknown>;
  const had = { disconnect: Object.hasOwn(r, 'disconnect'), quit: Object.hasOwn(r, 'quit') };
  const saved = { disconnect: r.disconnect, quit: r.quit };
  const state = {
    closedByOwner: false,
    undo(): void {
      for (const k of ['disconnect', 'quit'] as const) {
        if (had[k]) r[k] = saved[k];
        else delete r[k];
      }
    },
  };
  const disconnect = saved.disconnect as ((this: unknown, ...a: unknown[]) => unknown) | undefined;
  const quit = saved.quit as ((this: unknown, ...a: unknown[]) => unknown) | undefined;
  if (typeof disconnect === 'function') {
    r.disconnect = function (this: unknown, ...args: unknown[]) {
      const result = disconnect.apply(this, args);
      if (args[0] !== true) {
        state.closedByOwner = true;
        onClose();
      }
      return result;
    };
  }
  if (typeof quit === 'function') {
    r.quit = function (this: unknown, ...args: unknown[]) {
      const result = quit.apply(this, args);
      state.closedByOwner = true;
      onClose();
      return result;
    };
  }
  return state;
}
