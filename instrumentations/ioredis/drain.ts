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
    const done = (error?: unknown) => {
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
