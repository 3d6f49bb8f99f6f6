import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../validate.js';
import { chromosomeValues } from './chromosome.js';
import { parameterPath, type ParameterRules, type Problem } from './ParameterRules.js';
import type { ConfigCause, ConfigParameters, ConfigSource, ConfigValue } from './types.js';

const sourceSchema = z.enum(['static', 'dynamic', 'optimized'], { error: "must be 'static', 'dynamic' or 'optimized'" });
const key = z.string({ error: 'must be the name of a parameter' });

const changeSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('add'), key, value: z.unknown() }),
    z.strictObject({ kind: z.literal('update'), key, value: z.unknown() }),
    z.strictObject({ kind: z.literal('remove'), key }),
    z.strictObject({ kind: z.literal('reset-to-default') }),
    z.strictObject({
      kind: z.literal('apply-complete'),
      // Loose: an AdaptiveConfig (with its version and timestamp) may be passed back as it is.
      config: z.looseObject({
        parameters: z.record(z.string(), z.unknown(), { error: 'must be an object of parameter values' }),
        source: sourceSchema.optional(),
        fitnessScore: z.number().finite().optional(),
      }),
    }),
    z.strictObject({ kind: z.literal('apply-chromosome'), chromosome: z.unknown() }),
  ],
  { error: "must be a change of kind 'add', 'update', 'remove', 'reset-to-default', 'apply-complete' or 'apply-chromosome'" },
);

export interface Plan {
  parameters: Record<string, ConfigValue>;
  source: ConfigSource;
  fitnessScore: number | undefined;
  cause: ConfigCause;
}

export function own(params: ConfigParameters, key: string): ConfigValue | undefined {
  return Object.hasOwn(params, key) ? params[key] : undefined;
}

/** Keys whose value differs between `a` and `b` (set in one only, or set to another value), sorted. */
export function changedKeys(a: ConfigParameters, b: ConfigParameters): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => Object.hasOwn(a, k) !== Object.hasOwn(b, k) || !Object.is(a[k], b[k])).sort();
}

/**
 * The parameters after `changes`, applied in order over `current`, or a
 * {@link ConfigValidationError} naming every bad field. Nothing is changed here: the caller swaps.
 */
export function planChanges(
  changes: readonly unknown[],
  current: ConfigParameters,
  defaults: ConfigParameters,
  rules: ParameterRules,
): Plan {
  const problems: Problem[] = [];
  const params: Record<string, ConfigValue> = { ...current };
  let source: ConfigSource = 'dynamic';
  let fitnessScore: number | undefined;
  let cause: ConfigCause = 'batch';
  if (changes.length === 0) problems.push({ path: 'changes', message: 'changes must hold at least one change' });

  changes.forEach((raw, i) => {
    let change: z.output<typeof changeSchema>;
    try {
      change = parseOptions(changeSchema, raw, changes.length === 1 ? 'change' : `changes[${i}]`);
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problems.push(...err.problems);
      return;
    }
    if (changes.length === 1) cause = change.kind;
    source = 'dynamic';
    fitnessScore = undefined;
    switch (change.kind) {
      case 'add':
      case 'update': {
        if (!rules.has(change.key)) {
          problems.push(rules.unknownKey(change.key));
          return;
        }
        const isSet = Object.hasOwn(params, change.key);
        if (change.kind === 'add' && isSet) {
          const path = parameterPath(change.key);
          problems.push({ path, message: `${path} is already set: use an 'update' change` });
          return;
        }
        if (change.kind === 'update' && !isSet) {
          const path = parameterPath(change.key);
          problems.push({ path, message: `${path} is not set: use an 'add' change` });
          return;
        }
        const value = rules.check(change.key, change.value, problems);
        if (value !== undefined) params[change.key] = value;
        return;
      }
      case 'remove': {
        if (!rules.has(change.key)) problems.push(rules.unknownKey(change.key));
        else if (!Object.hasOwn(params, change.key)) {
          const path = parameterPath(change.key);
          problems.push({ path, message: `${path} is not set, so it cannot be removed` });
        } else delete params[change.key];
        return;
      }
      case 'reset-to-default':
        for (const k of Object.keys(params)) delete params[k];
        Object.assign(params, defaults);
        source = 'static';
        return;
      case 'apply-complete': {
        const next: Record<string, ConfigValue> = {};
        for (const [k, v] of Object.entries(change.config.parameters)) {
          const value = rules.check(k, v, problems);
          if (value !== undefined) next[k] = value;
        }
        for (const k of Object.keys(params)) delete params[k];
        Object.assign(params, next);
        source = change.config.source ?? 'dynamic';
        fitnessScore = change.config.fitnessScore;
        return;
      }
      case 'apply-chromosome': {
        const values = chromosomeValues(change.chromosome, params, defaults, rules, problems);
        for (const [k, v] of values) params[k] = v;
        source = 'optimized';
        const fitness = (change.chromosome as { fitness: number }).fitness;
        fitnessScore = Number.isFinite(fitness) ? fitness : undefined;
        return;
      }
    }
  });
  if (problems.length) throw new ConfigValidationError(problems);
  return { parameters: params, source, fitnessScore, cause };
}
