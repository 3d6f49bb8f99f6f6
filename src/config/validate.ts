import type { z } from 'zod';

/**
 * Thrown for any invalid option. The message names the field path and what to do, e.g.
 * `breaker.failureThreshold must be between 0 and 1, got 1.5`.
 */
export class ConfigValidationError extends Error {
  readonly code = 'ESELFHEALCONFIG';
  override readonly name = 'ConfigValidationError';
  /** One entry per problem: the dotted field path and the message for it. */
  readonly problems: ReadonlyArray<{ path: string; message: string }>;

  constructor(problems: ReadonlyArray<{ path: string; message: string }>) {
    super(problems.map((p) => p.message).join('; '));
    this.problems = problems;
  }
}

function formatPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(options)';
}

function formatInput(input: unknown): string {
  if (typeof input === 'function') return 'a function';
  if (typeof input === 'string') return JSON.stringify(input);
  if (input === undefined) return 'nothing';
  if (typeof input === 'number' || typeof input === 'bigint') return String(input); // keeps NaN and Infinity readable
  try {
    const s = JSON.stringify(input);
    return s && s.length > 60 ? `${s.slice(0, 57)}...` : String(s);
  } catch {
    return String(input);
  }
}

/**
 * Parses `input` with `schema`, or throws a {@link ConfigValidationError} whose message names
 * each bad field under `prefix` (e.g. `breaker`) with the value that was given.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, prefix: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = formatPath(prefix, issue.path);
      const keys = issue.keys.map((k) => `${where}.${k}`).join(', ');
      return { path: where, message: `${keys} is not a known option (check the spelling in the README's options table)` };
    }
    const path = formatPath(prefix, issue.path);
    const got = 'input' in issue ? `, got ${formatInput(issue.input)}` : '';
    return { path, message: `${path} ${issue.message}${got}` };
  });
  throw new ConfigValidationError(problems);
}
