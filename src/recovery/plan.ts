import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../config/index.js';
import { STRATEGIES, type RecoveryPlan, type RecoveryStrategy, type ResolvedRecoveryPlan } from './types.js';

/** Node's longest timer (2^31 - 1 ms); a longer delay would fire after 1 ms. */
export const MAX_DELAY_MS = 2_147_483_647;

const strategy = z.enum(STRATEGIES, { error: `must be one of ${STRATEGIES.join(', ')}` });
const millis = (hint: string) =>
  z
    .number({ error: `must be a number of milliseconds (${hint})` })
    .min(0, { error: `must be 0 or more milliseconds (${hint})` })
    .max(MAX_DELAY_MS, { error: `must be at most ${MAX_DELAY_MS} ms (the longest Node timer)` });

const planSchema = z
  .object({
    failureType: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
    primary: strategy,
    fallbacks: z.array(strategy, { error: 'must be a list of strategies' }).optional(),
    maxRetries: z
      .number({ error: 'must be a whole number, 0 or more' })
      .int({ error: 'must be a whole number, 0 or more' })
      .min(0, { error: 'must be 0 or more' })
      .max(100, { error: 'must be at most 100' })
      .optional(),
    retryDelayMs: millis('e.g. 1000').optional(),
    backoffMultiplier: z
      .number({ error: 'must be a number, 1 or more (1 keeps the delay constant)' })
      .min(1, { error: 'must be 1 or more (1 keeps the delay constant)' })
      .max(100, { error: 'must be at most 100' })
      .optional(),
    verifyWindowMs: millis('e.g. 2000').optional(),
    metadata: z.record(z.string(), z.string({ error: 'must be a string' }), { error: 'must be an object of strings' }).optional(),
  })
  .strict();

/** Used for a failure type with no plan of its own, unless a `*` plan is added. */
export const DEFAULT_PLAN: ResolvedRecoveryPlan = Object.freeze({
  failureType: '*',
  primary: 'restart',
  fallbacks: Object.freeze(['reconfigure', 'fallback', 'scale-resources'] as RecoveryStrategy[]),
  maxRetries: 1,
  retryDelayMs: 500,
  backoffMultiplier: 2,
  verifyWindowMs: undefined,
  metadata: Object.freeze({}),
});

/** `plans["connection-refused"]`: where a plan's problems are reported. */
function prefixOf(input: unknown): string {
  const ft = typeof input === 'object' && input !== null ? (input as { failureType?: unknown }).failureType : undefined;
  return typeof ft === 'string' && ft !== '' ? `plans[${JSON.stringify(ft)}]` : 'plans';
}

/**
 * Validates a plan and fills in its defaults, or throws a {@link ConfigValidationError} naming
 * the field (`plans["connection-refused"].maxRetries must be 0 or more, got -1`).
 */
export function resolvePlan(input: unknown): ResolvedRecoveryPlan {
  const prefix = prefixOf(input);
  const p = parseOptions(planSchema, input, prefix) as RecoveryPlan;
  const fallbacks = p.fallbacks ?? [];
  // The chain is read as written: a repeat would only retry (that is maxRetries), and nothing
  // after manual intervention could ever run.
  const seen = new Set<RecoveryStrategy>([p.primary]);
  const problems: Array<{ path: string; message: string }> = [];
  fallbacks.forEach((s, i) => {
    const path = `${prefix}.fallbacks[${i}]`;
    if (seen.has('manual-intervention')) {
      problems.push({ path, message: `${path} comes after manual-intervention, which ends the chain, got ${JSON.stringify(s)}` });
    } else if (seen.has(s)) {
      problems.push({ path, message: `${path} repeats ${JSON.stringify(s)} (use maxRetries to try a strategy again)` });
    }
    seen.add(s);
  });
  if (problems.length) throw new ConfigValidationError(problems);
  return Object.freeze({
    failureType: p.failureType,
    primary: p.primary,
    fallbacks: Object.freeze([...fallbacks]),
    maxRetries: p.maxRetries ?? 0,
    retryDelayMs: p.retryDelayMs ?? 1_000,
    backoffMultiplier: p.backoffMultiplier ?? 2,
    verifyWindowMs: p.verifyWindowMs,
    metadata: Object.freeze({ ...p.metadata }),
  });
}

/** Validates every plan before any is used: one bad plan rejects the batch, naming each problem. */
export function resolvePlans(inputs: unknown): ResolvedRecoveryPlan[] {
  if (!Array.isArray(inputs)) {
    throw new ConfigValidationError([{ path: 'plans', message: 'plans must be a list of recovery plans' }]);
  }
  const out: ResolvedRecoveryPlan[] = [];
  const problems: Array<{ path: string; message: string }> = [];
  const types = new Set<string>();
  for (const input of inputs) {
    try {
      const plan = resolvePlan(input);
      if (types.has(plan.failureType)) {
        const path = prefixOf(plan);
        problems.push({ path, message: `${path} is given twice: one plan per failure type` });
      }
      types.add(plan.failureType);
      out.push(plan);
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length) throw new ConfigValidationError(problems);
  return out;
}

/** The plan's strategies in its order, ending with manual intervention (listed or not). */
export function chainOf(plan: ResolvedRecoveryPlan): RecoveryStrategy[] {
  const chain = [plan.primary, ...plan.fallbacks];
  if (!chain.includes('manual-intervention')) chain.push('manual-intervention');
  return chain;
}

/** The plans by failure type. */
export class PlanTable {
  private readonly plans = new Map<string, ResolvedRecoveryPlan>();

  add(plan: unknown): ResolvedRecoveryPlan {
    const resolved = resolvePlan(plan);
    this.plans.set(resolved.failureType, resolved);
    return resolved;
  }

  /** All or none: every plan is validated before any is added. */
  addAll(plans: unknown): ResolvedRecoveryPlan[] {
    const resolved = resolvePlans(plans);
    for (const p of resolved) this.plans.set(p.failureType, p);
    return resolved;
  }

  remove(failureType: string): boolean {
    return this.plans.delete(failureType);
  }

  list(): ResolvedRecoveryPlan[] {
    return [...this.plans.values()];
  }

  /** The failure type's own plan, else the `*` plan, else {@link DEFAULT_PLAN}. */
  for(failureType: string): ResolvedRecoveryPlan {
    return this.plans.get(failureType) ?? this.plans.get('*') ?? DEFAULT_PLAN;
  }
}
