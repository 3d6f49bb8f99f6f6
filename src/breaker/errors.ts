import type { CircuitState } from './state.js';

/** The `code` of every {@link CircuitOpenError}, in the style of Node's system errors. */
export const CIRCUIT_OPEN_CODE = 'ECIRCUITOPEN';

/**
 * The error a call gets when its circuit breaker does not let it through (open, or half-open
 * with every probe slot taken). No request was sent.
 */
export class CircuitOpenError extends Error {
  readonly code = CIRCUIT_OPEN_CODE;
  override readonly name = 'CircuitOpenError';

  /**
   * Without a stack trace: a refused call's stack would only show this package's internals, and
   * capturing it is most of what an Error costs (~4 µs of a refused request's ~5 µs).
   */
  static withoutStack(breaker: string, state: Exclude<CircuitState, 'closed'>, retryAt?: number): CircuitOpenError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new CircuitOpenError(breaker, state, retryAt);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  constructor(
    /** The breaker's name: for auto-wrapped calls, the destination (`http://host:port`). */
    readonly breaker: string,
    /** The state that rejected the call. */
    readonly state: Exclude<CircuitState, 'closed'>,
    /** When the breaker will next let a probe through (epoch ms), if known. */
    readonly retryAt?: number,
  ) {
    super(
      state === 'open'
        ? `circuit breaker "${breaker}" is open: the call was not sent`
        : `circuit breaker "${breaker}" is half-open and all probe slots are taken: the call was not sent`,
    );
  }
}

/**
 * True for a {@link CircuitOpenError}, also when it arrives as the `cause` of another error
 * (as `fetch` reports it: `TypeError: fetch failed` with `cause`), and across copies of this
 * package (the check is by `code`, not by class).
 */
export function isCircuitOpenError(err: unknown): err is Error & { code: typeof CIRCUIT_OPEN_CODE; breaker: string } {
  return findCircuitOpenError(err) !== undefined;
}

/** The {@link CircuitOpenError} itself, from the error or from its `cause` chain. */
export function findCircuitOpenError(err: unknown): CircuitOpenError | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === CIRCUIT_OPEN_CODE) return e as CircuitOpenError;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
