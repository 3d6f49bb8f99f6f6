/**
 * Waits `ms` on an unref'd timer. Rejects with the signal's reason when it aborts; the timer and
 * the abort listener are gone either way, so a stopped manager leaves nothing behind.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `promise`, or a rejection with the signal's reason as soon as the signal aborts: an action or
 * a dependency that ignores the signal cannot hold the recovery (its late result is dropped).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A controller that aborts with its parent, and after `timeoutMs` with `timeoutReason()`; `dispose()` lets go of both. */
export function linkedController(
  parent: AbortSignal,
  timeoutMs?: number,
  timeoutReason?: () => unknown,
): { signal: AbortSignal; abort(reason: unknown): void; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  let timer: NodeJS.Timeout | undefined;
  if (parent.aborted) controller.abort(parent.reason);
  else {
    // A listener, not AbortSignal.any(): any() keeps dependants of a long-lived signal alive on Node 20.
    parent.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => controller.abort(timeoutReason?.()), timeoutMs);
      timer.unref();
    }
  }
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose() {
      parent.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The wait before retry `retry` (1-based) of a strategy: `base × multiplier^(retry-1)`, capped at
 * `maxMs`, less a random share of up to `jitter` of it, so that components that failed together do
 * not retry in step (the "equal jitter" family: the wait never drops below `1 - jitter` of the backoff).
 */
export function backoffDelay(retry: number, baseMs: number, multiplier: number, jitter: number, maxMs: number, random: () => number): number {
  if (retry <= 0 || baseMs <= 0) return 0;
  const backoff = Math.min(maxMs, baseMs * multiplier ** (retry - 1));
  return Math.max(0, Math.round(backoff * (1 - jitter * random())));
}

/** The message of whatever was thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}
