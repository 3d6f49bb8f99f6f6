import type { Clock } from '../clock.js';
import { LEVEL_VALUE, type HealthLevel, type HealthStatus } from '../health/index.js';
import { RecoveryTimeoutError } from './errors.js';
import { linkedController, messageOf, raceAbort, sleep } from './timing.js';
import type { HealthSource, SelfHealingComponent, Verification } from './types.js';

export interface VerifyContext {
  readonly clock: Clock;
  /** The attached monitor that knows this component, if any. */
  readonly source: HealthSource | undefined;
  readonly windowMs: number;
  readonly intervalMs: number;
  readonly checkTimeoutMs: number;
  /** The worst level that still counts as recovered. */
  readonly recoveredAt: HealthLevel;
  readonly signal: AbortSignal;
}

export const isWorse = (after: HealthStatus, before: HealthStatus): boolean => LEVEL_VALUE[after.kind] > LEVEL_VALUE[before.kind];

/** One `checkHealth` call, bounded by `timeoutMs`; a throw or a timeout is a failed reading. */
export async function runCheck(component: SelfHealingComponent, timeoutMs: number, signal: AbortSignal): Promise<HealthStatus> {
  const link = linkedController(signal, timeoutMs, () => new RecoveryTimeoutError(timeoutMs));
  try {
    return await raceAbort(component.checkHealth!(link.signal), link.signal);
  } catch (err) {
    if (signal.aborted) throw err; // cancelled: not a reading
    return { kind: 'failed', reason: `checkHealth: ${messageOf(err)}` };
  } finally {
    link.dispose();
  }
}

/**
 * Waits (at most `windowMs`) for health to confirm an action: the component's own `checkHealth`,
 * polled every `intervalMs`, when it has one (first-hand and at once); else the attached
 * monitor's status, as it changes. With neither, the action's completion is all there is.
 * Rejects only when the signal aborts.
 */
export async function verify(component: SelfHealingComponent, before: HealthStatus, ctx: VerifyContext): Promise<Verification> {
  const start = ctx.clock.now();
  const deadline = start + ctx.windowMs;
  const ok = (s: HealthStatus) => LEVEL_VALUE[s.kind] <= LEVEL_VALUE[ctx.recoveredAt];
  const done = (source: Verification['source'], status: HealthStatus | undefined, verified: boolean): Verification => ({
    verified,
    status,
    source,
    durationMs: ctx.clock.now() - start,
    worse: !verified && status !== undefined && isWorse(status, before),
  });

  if (component.checkHealth) {
    for (;;) {
      const remaining = deadline - ctx.clock.now();
      const status = await runCheck(component, Math.min(ctx.checkTimeoutMs, Math.max(remaining, ctx.intervalMs)), ctx.signal);
      if (ok(status)) return done('check', status, true);
      if (ctx.clock.now() + ctx.intervalMs > deadline) return done('check', status, false);
      await sleep(ctx.intervalMs, ctx.signal);
    }
  }

  const source = ctx.source;
  const current = source?.component(component.name)?.status;
  if (!source || current === undefined) return done('none', undefined, true);
  if (ok(current)) return done('monitor', current, true);
  const remaining = deadline - ctx.clock.now();
  if (remaining <= 0) return done('monitor', current, false);
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const confirmed = await new Promise<HealthStatus | undefined>((resolve, reject) => {
    const cleanup = () => {
      off();
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(ctx.signal.reason);
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve(undefined);
    }, remaining);
    timer.unref();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const off = source.onChange((change) => {
      if (change.component !== component.name || !ok(change.to)) return;
      cleanup();
      resolve(change.to);
    });
  });
  if (confirmed) return done('monitor', confirmed, true);
  return done('monitor', source.component(component.name)?.status ?? current, false);
}
