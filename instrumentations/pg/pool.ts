/** The parts of a pg-pool `Pool` (3.x) a drain uses; underscored ones are internal but stable across 3.x. */
interface PgPool {
  ending?: boolean;
  ended?: boolean;
  _clients?: PooledClient[];
  _idle?: Array<{ client: PooledClient }>;
  /** Clients to replace at their next release (how `maxLifetimeSeconds` retires clients). */
  _expired?: WeakSet<PooledClient>;
  _remove?(client: PooledClient, callback: () => void): void;
  _pulseQueue?(): void;
}

interface PooledClient {
  connection?: { stream?: { destroy(): void } };
}

/** How long an idle client may take to say goodbye before its socket is destroyed. */
const GOODBYE_MS = 1_000;

/**
 * Drains a pg pool so its next calls get fresh connections: idle clients are ended and removed
 * now (a dead or half-open one too: its socket is destroyed if the goodbye does not finish in
 * time or `signal` aborts), and clients checked out now are retired when released, as pg-pool
 * retires clients past `maxLifetimeSeconds`. The pool makes new clients on demand. Nothing is
 * emitted on the pool (no `'error'` the application would have to handle).
 */
export async function drainPool(pool: object, signal: AbortSignal): Promise<void> {
  const p = pool as PgPool;
  if (p.ending || p.ended || typeof p._remove !== 'function' || !Array.isArray(p._idle)) return;
  const idle = p._idle.map((item) => item.client);
  if (p._expired instanceof WeakSet && Array.isArray(p._clients)) {
    for (const client of p._clients) if (!idle.includes(client)) p._expired.add(client);
  }
  await Promise.all(idle.map((client) => remove(p, client, signal)));
  // Waiters, if any, get new clients now rather than at the next release.
  if (!p.ending) p._pulseQueue?.();
}

function remove(pool: PgPool, client: PooledClient, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', destroy);
      resolve();
    };
    // end() is under way, so destroying the socket now raises no 'error' on the client.
    const destroy = () => {
      client.connection?.stream?.destroy();
      finish();
    };
    const timer = setTimeout(destroy, GOODBYE_MS);
    timer.unref();
    if (signal.aborted) return finish();
    signal.addEventListener('abort', destroy, { once: true });
    pool._remove!(client, finish);
  });
}
