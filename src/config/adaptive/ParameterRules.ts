import type { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../validate.js';
import type { ConfigValue, ParameterConstraint } from './types.js';

/** What notifications and logs show instead of a sensitive value. */
export const REDACTED = '[redacted]';

export interface Problem {
  path: string;
  message: string;
}

/** `config.parameters["breaker.failureThreshold"]`: keys hold dots, so they are quoted. */
export function parameterPath(key: string, base = 'config.parameters'): string {
  return `${base}[${JSON.stringify(key)}]`;
}

interface Rule {
  schema: z.ZodType<ConfigValue>;
  sensitive: boolean;
}

function isSchema(value: unknown): value is z.ZodType<ConfigValue> {
  return typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

function isConfigValue(value: unknown): value is ConfigValue {
  return typeof value === 'boolean' || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** The constraints of every known parameter; a key without one is unknown. */
export class ParameterRules {
  private readonly rules = new Map<string, Rule>();

  constructor(constraints: Readonly<Record<string, ParameterConstraint>>) {
    const problems: Problem[] = [];
    for (const [key, c] of Object.entries(constraints)) {
      if (key === '__proto__') {
        problems.push({ path: 'adaptiveConfig.constraints', message: 'adaptiveConfig.constraints["__proto__"] is not a usable parameter name' });
      } else if (isSchema(c)) this.rules.set(key, { schema: c, sensitive: false });
      else if (typeof c === 'object' && c !== null && isSchema(c.schema)) this.rules.set(key, { schema: c.schema, sensitive: c.sensitive === true });
      else {
        const path = parameterPath(key, 'adaptiveConfig.constraints');
        problems.push({ path, message: `${path} must be a zod schema or { schema, sensitive? }` });
      }
    }
    if (problems.length) throw new ConfigValidationError(problems);
  }

  has(key: string): boolean {
    return this.rules.has(key);
  }

  isSensitive(key: string): boolean {
    return this.rules.get(key)?.sensitive === true;
  }

  /** `value`, or {@link REDACTED} when the key is sensitive. */
  redact(key: string, value: ConfigValue): ConfigValue {
    return this.isSensitive(key) ? REDACTED : value;
  }

  /** `(known: a, b and 3 more)`, for messages about an unknown key. */
  knownHint(): string {
    const known = [...this.rules.keys()];
    const list = known.length > 8 ? `${known.slice(0, 8).join(', ')} and ${known.length - 8} more` : known.join(', ') || 'none';
    return `(known: ${list})`;
  }

  unknownKey(key: string, base = 'config.parameters'): Problem {
    const path = parameterPath(key, base);
    return { path, message: `${path} is not a known parameter ${this.knownHint()}` };
  }

  /**
   * The value to store for `key` (the schema's output), or undefined with the reasons added to
   * `problems`. A sensitive value never appears in a message.
   */
  check(key: string, value: unknown, problems: Problem[], base = 'config.parameters'): ConfigValue | undefined {
    const rule = this.rules.get(key);
    if (rule === undefined) {
      problems.push(this.unknownKey(key, base));
      return undefined;
    }
    const path = parameterPath(key, base);
    let out: unknown;
    if (rule.sensitive) {
      const result = rule.schema.safeParse(value);
      if (!result.success) {
        for (const issue of result.error.issues) problems.push({ path, message: `${path} ${issue.message} (value not shown: sensitive)` });
        return undefined;
      }
      out = result.data;
    } else {
      try {
        out = parseOptions(rule.schema, value, path);
      } catch (err) {
        if (!(err instanceof ConfigValidationError)) throw err;
        problems.push(...err.problems);
        return undefined;
      }
    }
    if (!isConfigValue(out)) {
      const got = rule.sensitive ? '' : `, got ${typeof out === 'number' ? String(out) : typeof out}`;
      problems.push({ path, message: `${path} must be a boolean, a finite number or a string${got}` });
      return undefined;
    }
    return out;
  }

  /**
   * Values saved by an earlier run, checked again: one that no longer fits goes back to its
   * default (or is dropped without one), a key no longer known is dropped; each with a message.
   */
  revalidate(
    saved: Readonly<Record<string, ConfigValue>>,
    defaults: Readonly<Record<string, ConfigValue>>,
  ): { parameters: Record<string, ConfigValue>; problems: string[] } {
    const parameters: Record<string, ConfigValue> = {};
    const problems: string[] = [];
    for (const [key, value] of Object.entries(saved)) {
      const found: Problem[] = [];
      const checked = this.check(key, value, found);
      if (checked !== undefined) {
        parameters[key] = checked;
        continue;
      }
      const fallback = Object.hasOwn(defaults, key) ? defaults[key] : undefined;
      if (fallback !== undefined) parameters[key] = fallback;
      problems.push(`${found[0]!.message}; ${fallback === undefined ? 'dropped' : 'using its default instead'}`);
    }
    return { parameters, problems };
  }
}
