/** The `code` of every {@link HealthCheckTimeoutError}. */
export const HEALTH_CHECK_TIMEOUT_CODE = 'EHEALTHCHECKTIMEOUT';

/**
 * The reason a check's `AbortSignal` is aborted with when the check ran past its timeout. The
 * run already counts as failed by then; the abort only tells the check to let go of its socket.
 */
export class HealthCheckTimeoutError extends Error {
  readonly code = HEALTH_CHECK_TIMEOUT_CODE;
  override readonly name = 'HealthCheckTimeoutError';

  constructor(
    /** The timeout that was exceeded, ms. */
    readonly timeoutMs: number,
  ) {
    super(`health check timed out after ${timeoutMs} ms`);
  }
}
