import type { ParameterRules } from './ParameterRules.js';
import { changedKeys, own } from './planChange.js';
import type { AdaptiveConfig, ConfigCause, ConfigChangeEvent, ConfigValue } from './types.js';

/** The notification of a move from `from` to `to`: changed keys with their values, sensitive ones redacted. */
export function changeEvent(
  type: ConfigChangeEvent['type'],
  from: AdaptiveConfig,
  to: AdaptiveConfig & { cause: ConfigCause },
  rules: ParameterRules,
  reason?: string,
): ConfigChangeEvent {
  const keys = changedKeys(from.parameters, to.parameters);
  const previous: Record<string, ConfigValue> = {};
  const current: Record<string, ConfigValue> = {};
  for (const k of keys) {
    const a = own(from.parameters, k);
    const b = own(to.parameters, k);
    if (a !== undefined) previous[k] = rules.redact(k, a);
    if (b !== undefined) current[k] = rules.redact(k, b);
  }
  return Object.freeze({
    type,
    from: from.version,
    to: to.version,
    source: to.source,
    cause: to.cause,
    changedKeys: Object.freeze(keys),
    previous: Object.freeze(previous),
    current: Object.freeze(current),
    ...(reason === undefined ? {} : { reason }),
  });
}

/** The log line of a change: versions, source, cause and keys, never values. */
export function describeChange(event: ConfigChangeEvent): string {
  const keys = event.changedKeys.join(', ') || 'no value changed';
  const what = `otel-self-heal: configuration version ${event.from} -> ${event.to} (${event.source}, ${event.cause}): ${keys}`;
  return event.reason === undefined ? what : `${what}; ${event.reason}`;
}
