// scheme://[userinfo@]host/path[?query][#fragment]: the userinfo, query and fragment go. The same
// rule as the recovery telemetry's (which telemetry/index.ts does not export).
const URL_IN_TEXT = /\b([a-z][a-z\d+.-]*:\/\/)(?:[^\s/?#@]*@)?([^\s?#]*)(?:\?[^\s#]*)?(?:#\S*)?/gi;

/** `text` with credentials, queries and fragments taken out of every URL in it. */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, '$1$2');
}

/**
 * Configuration keys whose values are hidden even when their parameter was not declared
 * sensitive: a second line of defence for a secret someone forgot to mark.
 */
const SECRET_KEY = /(pass(word|wd)?|secret|token|credential|api[-_.]?key|private[-_.]?key|auth)/i;

export function looksSecret(key: string): boolean {
  return SECRET_KEY.test(key);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe to put in HTML text or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON made safe to put inside a `<script type="application/json">` element: nothing in it can
 * close the element or start markup (`<`, `>`, `&` become \u escapes; so do U+2028/9).
 */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
