/** Spec 2.3.4 `CircuitState`. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Why a breaker changed state; carried by every transition event. */
export type TransitionReason =
  | 'failure-rate'
  | 'slow-call-rate'
  | 'reset-timeout-elapsed'
  | 'probes-succeeded'
  | 'probes-failed'
  | 'probes-timed-out'
  | 'forced-open'
  | 'health-failed'
  | 'reset';

/** The state machine's state, with what each state needs and nothing more. */
export type BreakerState =
  | { readonly kind: 'closed' }
  | {
      readonly kind: 'open';
      readonly openedAt: number;
      /** When probes may start (epoch ms); Infinity while forced open. */
      readonly retryAt: number;
      /** Consecutive trips without closing in between: drives the backoff. */
      readonly trips: number;
    }
  | {
      readonly kind: 'half-open';
      readonly trips: number;
      /** When the breaker went half-open (epoch ms): probes outstanding for too long count as failed. */
      readonly since: number;
      /** Probes let through and not yet settled. */
      inFlight: number;
      successes: number;
      failures: number;
    };

/** Numeric encoding used by the `selfheal.breaker.state` gauge. */
export const STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };
