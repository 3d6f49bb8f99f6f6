/**
 * A URL as telemetry may carry it: never credentials; no query string or fragment unless
 * `keepQuery` (query strings often hold tokens). Returns undefined for what is not a URL.
 */
export function redactUrl(url: string | URL, keepQuery = false): string | undefined {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return undefined;
  }
  u.username = '';
  u.password = '';
  u.hash = '';
  if (!keepQuery) u.search = '';
  return u.href;
}
