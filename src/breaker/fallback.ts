/**
 * What a call returns instead of failing (spec 2.3.2 item 4): a fixed default, the last good
 * result while it is fresh enough, or the result of a function. By default a fallback answers
 * only calls the breaker rejected; with `on: 'open-or-failure'` it also answers calls that ran
 * and failed.
 */
export type Fallback<T = unknown> =
  | { readonly kind: 'value'; readonly value: T; readonly on?: FallbackTrigger }
  | {
      readonly kind: 'last-good';
      /** How old (ms) the cached result may be; older ones are not used. */
      readonly maxAgeMs: number;
      readonly on?: FallbackTrigger;
    }
  | {
      readonly kind: 'function';
      /** Gets the {@link CircuitOpenError} or the call's own error. May return a promise. */
      readonly fn: (error: unknown) => T | PromiseLike<T>;
      readonly on?: FallbackTrigger;
    };

export type FallbackTrigger = 'open' | 'open-or-failure';
