import { diag } from '@opentelemetry/api';
import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../validate.js';
import type { Verification, VerifyOptions } from './types.js';

const verifySchema = z.strictObject({
  windowMs: z.number().finite().min(0, { error: 'must be 0 or more milliseconds' }),
  healthScore: z.custom<() => number>((f) => typeof f === 'function', { error: 'must be a function returning the health score' }),
  tolerance: z.number().finite().min(0, { error: 'must be 0 or more' }).optional(),
});

/** What a verification needs from the manager it watches. */
export interface VerifiedConfig {
  isCurrent(version: number): boolean;
  record(version: number, verification: Verification): void;
  /** Restores the version before `version`. */
  rollBack(version: number, reason: string): void;
}

/**
 * Rolls back a version whose health score, read again `windowMs` after it was applied, fell by
 * more than the tolerance. One unref'd timer per watched version, none otherwise.
 */
export class HealthVerifier {
  private readonly pending = new Map<number, { timer: NodeJS.Timeout; before: number }>();

  constructor(private readonly config: VerifiedConfig) {}

  /** Validates the options and reads the score before the change; throws (so nothing is applied) if it cannot. */
  static prepare(options: unknown): { verify: VerifyOptions; before: number } {
    const verify = parseOptions(verifySchema, options, 'verify');
    const before = verify.healthScore();
    if (!Number.isFinite(before)) {
      throw new ConfigValidationError([{ path: 'verify.healthScore', message: `verify.healthScore must return a finite number, got ${before}` }]);
    }
    return { verify, before };
  }

  watch(version: number, before: number, verify: VerifyOptions): void {
    const timer = setTimeout(() => this.judge(version, before, verify), verify.windowMs);
    timer.unref();
    this.pending.set(version, { timer, before });
    this.config.record(version, { before, outcome: 'pending' });
  }

  cancelAll(): void {
    for (const [version, { timer, before }] of this.pending) {
      clearTimeout(timer);
      this.config.record(version, { before, outcome: 'cancelled' });
    }
    this.pending.clear();
  }

  /** The end of the window: keep the version, or roll it back if health fell or cannot be read. */
  private judge(version: number, before: number, verify: VerifyOptions): void {
    this.pending.delete(version);
    if (!this.config.isCurrent(version)) {
      this.config.record(version, { before, outcome: 'superseded' });
      return;
    }
    let after: number | undefined;
    let failure: string | undefined;
    try {
      after = verify.healthScore();
      if (!Number.isFinite(after)) failure = `the health score read ${after} after version ${version}`;
    } catch (err) {
      failure = `the health score could not be read after version ${version} (${err instanceof Error ? err.message : String(err)})`;
    }
    if (failure === undefined && after! >= before - (verify.tolerance ?? 0)) {
      this.config.record(version, { before, after: after!, outcome: 'kept' });
      return;
    }
    this.config.record(version, failure === undefined ? { before, after: after!, outcome: 'rolled-back' } : { before, outcome: 'rolled-back' });
    const reason = failure ?? `the health score fell from ${before} to ${after} within ${verify.windowMs} ms of version ${version}`;
    diag.warn(`otel-self-heal: rolling back configuration version ${version}: ${reason}`);
    try {
      this.config.rollBack(version, reason);
    } catch (err) {
      diag.error(`otel-self-heal: configuration version ${version} made health worse (${reason}) but could not be rolled back`, err);
    }
  }
}
