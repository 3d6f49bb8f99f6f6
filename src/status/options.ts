import { z } from 'zod';

/** The port the status server listens on when none is given. */
export const DEFAULT_STATUS_PORT = 9470;

/** Options of the live status server (`statusServer` in the plugin's options). */
export interface StatusServerOptions {
  /** Start it. Default true when the object is given (`statusServer: true` means all defaults). */
  enabled?: boolean;
  /** TCP port; 0 picks a free one (read it from `statusServer.url`). Default 9470. */
  port?: number;
  /**
   * Address to bind. Default `127.0.0.1`: only this machine can reach the page. Bind wider only
   * with a `token` (the server warns otherwise).
   */
  host?: string;
  /**
   * A shared secret of at least 16 characters. When set, every route but `/healthz` wants it:
   * `Authorization: Bearer <token>`, or the cookie that `/?token=<token>` sets for a browser.
   */
  token?: string;
  /** Jaeger UI address (e.g. `http://localhost:16686`): recovery trace ids link into it. */
  jaegerUrl?: string;
  /** Recoveries kept for the page's timeline. Default 50. */
  recent?: number;
}

/** Options with every default filled in. */
export interface ResolvedStatusServerOptions {
  readonly port: number;
  readonly host: string;
  readonly token: string | undefined;
  /** Without a trailing slash. */
  readonly jaegerUrl: string | undefined;
  readonly recent: number;
}

// A token is a secret: its checks say what is wrong without ever repeating the value.
const HIDDEN = '(not shown: a secret)';
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

const objectSchema = z
  .object(
    {
      enabled: z.boolean({ error: 'must be true or false' }).optional(),
      port: z
        .number({ error: 'must be a port number' })
        .int({ error: 'must be a whole number from 0 to 65535 (0 picks a free port)' })
        .min(0, { error: 'must be a whole number from 0 to 65535 (0 picks a free port)' })
        .max(65535, { error: 'must be a whole number from 0 to 65535 (0 picks a free port)' })
        .optional(),
      host: z.string({ error: 'must be an address to bind, like "127.0.0.1"' }).min(1, { error: 'must be an address to bind, like "127.0.0.1"' }).optional(),
      token: z.unknown().optional(),
      jaegerUrl: z
        .string({ error: 'must be the Jaeger UI address, like "http://localhost:16686"' })
        .refine(isHttpUrl, { error: 'must be an http(s) URL without credentials, like "http://localhost:16686"' })
        .optional(),
      recent: z
        .number({ error: 'must be a number of recoveries' })
        .int({ error: 'must be a whole number from 1 to 1000' })
        .min(1, { error: 'must be a whole number from 1 to 1000' })
        .max(1000, { error: 'must be a whole number from 1 to 1000' })
        .optional(),
    },
    { error: 'must be true, false or an object of status server options ({ port, host, token, jaegerUrl, recent })' },
  )
  .strict()
  .superRefine((o, ctx) => {
    const t = o.token;
    if (t === undefined) return;
    const problem =
      typeof t !== 'string'
        ? 'must be a string'
        : t.length < 16
          ? 'must be at least 16 characters (e.g. from `openssl rand -hex 16`)'
          : !TOKEN_CHARS.test(t)
            ? 'must be printable ASCII without spaces (it travels in an Authorization header)'
            : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['token'], message: problem, input: HIDDEN });
  });

/**
 * The zod schema of the `statusServer` option: `true` (all defaults), `false`, or an object.
 * Booleans become objects, so the parsed value is always an object.
 */
export const statusServerSchema = z.preprocess((v) => (v === true ? {} : v === false ? { enabled: false } : v), objectSchema);

/** Fills in the defaults; undefined when the server is not wanted. Expects validated input. */
export function resolveStatusServerOptions(o: boolean | StatusServerOptions | undefined): ResolvedStatusServerOptions | undefined {
  if (o === undefined || o === false) return undefined;
  const v = o === true ? {} : o;
  if (v.enabled === false) return undefined;
  return {
    port: v.port ?? DEFAULT_STATUS_PORT,
    host: v.host ?? '127.0.0.1',
    token: v.token,
    jaegerUrl: v.jaegerUrl?.replace(/\/+$/, ''),
    recent: v.recent ?? 50,
  };
}
