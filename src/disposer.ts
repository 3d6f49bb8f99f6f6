/** What every subscription returns: call it (or `using` it) to unsubscribe. Idempotent. */
export interface Disposer {
  (): void;
  [Symbol.dispose](): void;
}

export function disposer(fn: () => void): Disposer {
  let done = false;
  const d = (() => {
    if (done) return;
    done = true;
    fn();
  }) as Disposer;
  d[Symbol.dispose] = d;
  return d;
}

/**
 * A listener list that costs nothing when nobody listens and never lets a listener's
 * exception escape into the code that emitted (a state change must not fail a user's call).
 */
export class Listeners<T> {
  private fns: Array<(event: T) => void> = [];

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  get size(): number {
    return this.fns.length;
  }

  add(fn: (event: T) => void): Disposer {
    // Copy on write, so a listener that unsubscribes during emit does not skip its neighbour.
    this.fns = [...this.fns, fn];
    return disposer(() => {
      this.fns = this.fns.filter((f) => f !== fn);
    });
  }

  emit(event: T): void {
    const fns = this.fns;
    for (let i = 0; i < fns.length; i++) {
      try {
        fns[i]!(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  clear(): void {
    this.fns = [];
  }
}
