import type { BatchObservableCallback, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import { systemClock, type Clock } from '../clock.js';
import type { RecoveryManager } from '../recovery/index.js';
import { MeterBinding } from './MeterBinding.js';
import * as N from './names.js';

/**
 * Components kept at 0 after their hold is lifted, at most; past it the ones released longest ago
 * go. Held components themselves are bounded by the registered ones (the manager holds only those).
 */
export const MAX_RELEASED_HOLDS = 1000;

/**
 * A released component is reported at 0 for at least this long before it may go, so that every
 * reader sees the 0: the SDK keeps exporting the last value of a series a callback stops reporting
 * (open-telemetry/opentelemetry-js#4096), and a component dropped at 1 would page for good.
 */
export const RELEASED_HOLD_MIN_MS = 10 * 60_000;

/**
 * The recovery manager's metrics, all observable and read from the manager at collection time:
 * `selfheal.recovery.attempts` (per strategy, failure type and outcome) and
 * `selfheal.recovery.on_hold` (per component ever held: 1 while it waits for `acknowledge()`, 0
 * after; only past MAX_RELEASED_HOLDS released ones do the oldest go). Observable, so a provider
 * set late still gets what happened before it.
 */
export class RecoveryMetrics {
  /**
   * Every component seen held, in the order last seen held (a Map keeps insertion order): undefined
   * while held, else when a collection first found it released (ms).
   */
  private readonly everHeld = new Map<string, number | undefined>();
  private readonly binding: MeterBinding;

  constructor(
    private readonly recovery: Pick<RecoveryManager, 'stats'>,
    version: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.binding = new MeterBinding(version, (meter) => this.instruments(meter));
  }

  /** Registers the instruments on `provider`'s meter, dropping them from the previous one. */
  bind(provider: MeterProvider): void {
    this.binding.bind(provider);
  }

  private instruments(meter: Meter): { observables: Observable[]; callback: BatchObservableCallback } {
    const attempts = meter.createObservableCounter(N.METRIC_RECOVERY_ATTEMPTS, {
      description: 'Recovery attempts, by strategy, failure type and outcome (success, failure, rolled-back)',
      unit: '{attempt}',
    });
    const onHold = meter.createObservableGauge(N.METRIC_RECOVERY_ON_HOLD, {
      description: 'Held for manual intervention: 1 until acknowledged, then 0 (components ever held only)',
      unit: '1',
    });
    const callback: BatchObservableCallback = (result) => {
      const stats = this.recovery.stats();
      // Bounded: the manager folds failure types past its limit into one row.
      for (const s of stats.strategies) {
        const base = { [N.ATTR_RECOVERY_STRATEGY]: s.strategy, [N.ATTR_RECOVERY_FAILURE_TYPE]: s.failureType };
        // A rolled-back attempt is never a success, so the three add up to the attempts.
        result.observe(attempts, s.successes, { ...base, [N.ATTR_OUTCOME]: 'success' });
        result.observe(attempts, s.attempts - s.successes - s.rollbacks, { ...base, [N.ATTR_OUTCOME]: 'failure' });
        result.observe(attempts, s.rollbacks, { ...base, [N.ATTR_OUTCOME]: 'rolled-back' });
      }
      this.remember(stats.onHold, this.clock.now());
      for (const [name, releasedAt] of this.everHeld) result.observe(onHold, releasedAt === undefined ? 1 : 0, { [N.ATTR_COMPONENT_NAME]: name });
    };
    return { observables: [attempts, onHold], callback };
  }

  /** Marks `held` (moved last) and new releases, then drops the oldest releases past the limit. */
  private remember(onHold: readonly string[], now: number): void {
    const held = new Set(onHold);
    for (const name of held) {
      this.everHeld.delete(name);
      this.everHeld.set(name, undefined);
    }
    let excess = this.everHeld.size - held.size - MAX_RELEASED_HOLDS;
    for (const [name, releasedAt] of this.everHeld) {
      if (held.has(name)) continue;
      if (releasedAt === undefined) this.everHeld.set(name, now);
      else if (excess > 0 && now - releasedAt >= RELEASED_HOLD_MIN_MS) {
        this.everHeld.delete(name);
        excess--;
      }
    }
  }
}
