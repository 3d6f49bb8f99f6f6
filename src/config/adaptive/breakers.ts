import { diag } from '@opentelemetry/api';
import {
  DEFAULT_BREAKER_OPTIONS,
  breakerOptionsSchema,
  resolveBreakerOptions,
  type BreakerOptions,
  type CircuitBreaker,
  type CircuitBreakerRegistry,
  type ResolvedBreakerOptions,
} from '../../breaker/index.js';
import { disposer, type Disposer } from '../../disposer.js';
import { ConfigValidationError } from '../validate.js';
import type { AdaptiveConfigManager } from './AdaptiveConfigManager.js';
import { changedKeys, own } from './planChange.js';
import type { ConfigParameters, ConfigValue, ParameterConstraint } from './types.js';

type Field = keyof BreakerOptions;
let fields: Field[] | undefined;
/** Read on first use, not at import: src/config and src/breaker import each other. */
const allFields = (): Field[] => (fields ??= Object.keys(breakerOptionsSchema.shape) as Field[]);

/**
 * A name no breaker has: `optionsFor` of it is the registry's defaults. (A `registry.defaults`
 * getter would say this directly; the registry is not ours to change here.)
 */
const DEFAULTS_PROBE = '\u0000otel-self-heal:registry-defaults';

export interface BreakerBindingOptions {
  /** What the configuration keys of breaker options start with. Default `breaker.`. */
  prefix?: string;
}

/**
 * Initial values and constraints for every breaker option under `prefix`
 * (`breaker.failureThreshold`, ...), to spread into an {@link AdaptiveConfigManager}'s options.
 * `values` are the starting options (default {@link DEFAULT_BREAKER_OPTIONS}); pass the registry's defaults.
 */
export function breakerParameters(
  values: BreakerOptions = {},
  prefix = 'breaker.',
): { initial: Record<string, ConfigValue>; constraints: Record<string, ParameterConstraint> } {
  const resolved = resolveBreakerOptions(values, DEFAULT_BREAKER_OPTIONS, prefix.replace(/\.$/, '') || 'breaker');
  const initial: Record<string, ConfigValue> = {};
  const constraints: Record<string, ParameterConstraint> = {};
  for (const f of allFields()) {
    initial[prefix + f] = resolved[f];
    constraints[prefix + f] = breakerOptionsSchema.shape[f];
  }
  return { initial, constraints };
}

/**
 * Makes the breaker options under `prefix` live: a change of `breaker.failureThreshold` reconfigures
 * every breaker of the registry, those it creates later too. A change the breakers would refuse
 * (e.g. `minimumRequests` above a count window's `windowSize`) is refused by the manager before
 * anything changes. A field a breaker's per-name registry override sets (one that differs from the
 * registry defaults) keeps the override's value. Removing a key gives the registry's value back.
 * Throws a {@link ConfigValidationError} if the current configuration does not fit the breakers.
 * Disposing the binding leaves the breakers as they are.
 */
export function bindBreakers(manager: AdaptiveConfigManager, registry: CircuitBreakerRegistry, options: BreakerBindingOptions = {}): Disposer {
  const prefix = options.prefix ?? 'breaker.';
  const label = prefix.replace(/\.$/, '') || 'breaker';
  const keyOf = new Map(allFields().map((f) => [prefix + f, f] as const));
  /** The last plan checked, reused when that configuration is the one applied. */
  let checked: { params: ConfigParameters; plan: Map<CircuitBreaker, ResolvedBreakerOptions> } | undefined;

  const fieldsIn = (keys: Iterable<string>): Field[] => {
    const out: Field[] = [];
    for (const k of keys) {
      const f = keyOf.get(k);
      if (f !== undefined) out.push(f);
    }
    return out;
  };

  /** `fields` from `params` (the registry's value when a key is unset), minus those an override sets. */
  const optionsFor = (name: string | undefined, params: ConfigParameters, fields: readonly Field[]): BreakerOptions => {
    const defaults = registry.optionsFor(DEFAULTS_PROBE);
    const base = name === undefined ? defaults : registry.optionsFor(name);
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (base !== defaults && base[f] !== defaults[f]) continue;
      out[f] = own(params, prefix + f) ?? base[f];
    }
    return out as BreakerOptions;
  };

  const resolve = (options: BreakerOptions, base: ResolvedBreakerOptions, breaker?: string): ResolvedBreakerOptions => {
    try {
      return resolveBreakerOptions(options, base, label);
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      const where = breaker === undefined ? '' : ` (for breaker ${JSON.stringify(breaker)} with its own options)`;
      throw new ConfigValidationError(err.problems.map((p) => ({ path: `config.parameters`, message: `config.parameters: ${p.message}${where}` })));
    }
  };

  /** The options each breaker gets for `fields` of `params`; throws, changing nothing, if one is refused. */
  const plan = (params: ConfigParameters, fields: readonly Field[]): Map<CircuitBreaker, ResolvedBreakerOptions> => {
    // Breakers created later take every set key over the registry's defaults: that must resolve too.
    resolve(optionsFor(undefined, params, fieldsIn(Object.keys(params))), registry.optionsFor(DEFAULTS_PROBE));
    const out = new Map<CircuitBreaker, ResolvedBreakerOptions>();
    const shared = new Map<ResolvedBreakerOptions, ResolvedBreakerOptions>(); // breakers with the same options share the result
    for (const b of registry) {
      const overridden = registry.optionsFor(b.name) !== registry.optionsFor(DEFAULTS_PROBE);
      let next = overridden ? undefined : shared.get(b.options);
      if (next === undefined) {
        next = resolve(optionsFor(b.name, params, fields), b.options, overridden ? b.name : undefined);
        if (!overridden) shared.set(b.options, next);
      }
      out.set(b, next);
    }
    return out;
  };

  const apply = (planned: Map<CircuitBreaker, ResolvedBreakerOptions>) => {
    for (const [b, next] of planned) if (registry.find(b.name) === b && b.options !== next) b.reconfigure(next);
  };

  // Now, before subscribing: a configuration the breakers refuse throws here and binds nothing.
  const initial = manager.currentConfig().parameters;
  apply(plan(initial, fieldsIn(Object.keys(initial))));

  const removeCheck = manager.addCheck((next, previous) => {
    const fields = fieldsIn(changedKeys(previous, next));
    checked = fields.length === 0 ? undefined : { params: next, plan: plan(next, fields) };
  });
  const removeListener = manager.onChange((event) => {
    const fields = fieldsIn(event.changedKeys);
    if (fields.length === 0) return;
    const params = manager.currentConfig().parameters;
    try {
      apply(checked?.params === params ? checked.plan : plan(params, fields));
    } catch (err) {
      diag.error('otel-self-heal: the breakers could not take the new configuration', err); // checked before the swap: not expected
    } finally {
      checked = undefined;
    }
  });
  // Creation is warm (once per new name): breakers made from the registry defaults share one result.
  let created: { params: ConfigParameters; base: ResolvedBreakerOptions; next: ResolvedBreakerOptions } | undefined;
  const removeCreate = registry.onCreate((b) => {
    const params = manager.currentConfig().parameters;
    if (created !== undefined && created.params === params && created.base === b.options) {
      b.reconfigure(created.next);
      return;
    }
    const fields = fieldsIn(Object.keys(params));
    if (fields.length === 0) return;
    try {
      const next = resolve(optionsFor(b.name, params, fields), b.options, b.name);
      if (b.options === registry.optionsFor(DEFAULTS_PROBE)) created = { params, base: b.options, next };
      b.reconfigure(next);
    } catch (err) {
      diag.warn(`otel-self-heal: breaker ${JSON.stringify(b.name)} keeps its registry options: the live configuration does not fit them`, err);
    }
  });
  return disposer(() => {
    removeCheck();
    removeListener();
    removeCreate();
  });
}
