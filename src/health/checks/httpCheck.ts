import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../../config/index.js';
import { HEALTHY, type HealthStatus } from '../types.js';
import { failed, reasonOf } from './reading.js';
import type { HealthCheck } from './types.js';
import { markUnguarded, runUnguarded } from './unguarded.js';

/** Options of {@link httpCheck}; every field is optional. */
export interface HttpCheckOptions {
  /** The status the answer must have, or a test of it. Default: any 2xx or 3xx (redirects are not followed). */
  expectStatus?: number | ((status: number) => boolean);
  /** Request method. Default `GET`. */
  method?: string;
  /** Request headers (e.g. an `authorization` the health endpoint needs). Never put in a reason. */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
}

const optionsSchema = z
  .object({
    expectStatus: z
      .union([
        z
          .number({ error: 'must be an HTTP status (100 to 599) or a function (status) => boolean' })
          .int({ error: 'must be a whole HTTP status (100 to 599)' })
          .min(100, { error: 'must be an HTTP status (100 to 599)' })
          .max(599, { error: 'must be an HTTP status (100 to 599)' }),
        z.custom<(status: number) => boolean>((v) => typeof v === 'function'),
      ], { error: 'must be an HTTP status (100 to 599) or a function (status) => boolean' })
      .optional(),
    method: z
      .string({ error: "must be an HTTP method such as 'GET' or 'HEAD'" })
      .regex(/^[A-Za-z]+$/, { error: "must be an HTTP method such as 'GET' or 'HEAD'" })
      .optional(),
    headers: z
      .record(z.string(), z.union([z.string(), z.number(), z.array(z.string())]), {
        error: 'must be an object of header names to string values',
      })
      .optional(),
  })
  .strict();

/** Parses the URL without ever echoing it: it may hold credentials. */
function parseUrl(url: string | URL): URL {
  let u: URL | undefined;
  try {
    u = new URL(String(url));
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new ConfigValidationError([{ path: 'httpCheck.url', message: 'httpCheck.url must be an absolute http:// or https:// URL' }]);
  }
  return u;
}

/** Takes the URL's password and query out of a text (Node's messages rarely hold them; a reason never may). */
function redact(text: string, url: URL): string {
  let out = text;
  for (const secret of [url.password, url.search.slice(1), url.username]) {
    if (secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}

/**
 * A check that sends one request to `url` and judges the answer by its status line (the body is
 * not read). It runs with tracing suppressed, so neither the circuit breakers nor the HTTP
 * instrumentation see it (see {@link runUnguarded}), and on a connection of its own, closed after
 * the answer or when the signal aborts. Reasons name the method, origin and path: never the
 * URL's credentials (which are still sent, as basic auth) nor its query.
 */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): HealthCheck {
  const target = parseUrl(url);
  const o = parseOptions(optionsSchema, options, 'httpCheck');
  const method = (o.method ?? 'GET').toUpperCase();
  const expect = o.expectStatus ?? ((s: number) => s >= 200 && s <= 399);
  const accepts = typeof expect === 'number' ? (s: number) => s === expect : expect;
  const label = `${method} ${target.protocol}//${target.host}${target.pathname}`;
  const transport = target.protocol === 'https:' ? https : http;
  const headers = o.headers as http.OutgoingHttpHeaders | undefined;

  return (signal) =>
    new Promise<HealthStatus>((resolve) => {
      const fail = (err: unknown) => resolve(failed(`${label}: ${redact(reasonOf(err), target)}`));
      // Aborted by us: the signal's reason says why (timeout, stop) better than Node's AbortError.
      const onError = (err: unknown) => fail(signal.aborted ? signal.reason : err);
      if (signal.aborted) return onError(signal.reason);
      let req: http.ClientRequest;
      try {
        // An agent of its own, with no keep-alive: nothing pooled outlives the check. It is marked
        // unguarded too, for when no context manager can carry the suppress flag.
        const agent = markUnguarded(new (target.protocol === 'https:' ? https : http).Agent({ keepAlive: false }));
        req = runUnguarded(() =>
          transport.request(target, { method, headers, agent, signal }, (res) => {
            const status = res.statusCode ?? 0;
            res.destroy(); // the status line is the answer; this also closes the connection
            let ok: boolean;
            try {
              ok = accepts(status);
            } catch (err) {
              return fail(`expectStatus threw: ${reasonOf(err)}`);
            }
            resolve(ok ? HEALTHY : failed(`${label} answered ${status}`));
          }),
        );
      } catch (err) {
        return onError(err); // e.g. an invalid header value
      }
      req.on('error', onError);
      req.end();
    });
}
