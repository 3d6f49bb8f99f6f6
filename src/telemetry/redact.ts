/**
 * Secret-free forms of the strings instrumentations put on spans. Pure functions that never
 * throw and allocate nothing when there is nothing to take out (the input is returned as is).
 */

/** What a URL's credentials become (the semantic conventions' form for `url.full`). */
export const REDACTED_USERINFO = 'REDACTED:REDACTED';

/**
 * `url` with any credentials replaced by `REDACTED:REDACTED`, and its fragment (and, unless
 * `keepQuery`, its query) dropped. Works on absolute URLs and on targets (`/path?query`); the
 * authority is what lies between `//` and the first `/`, `?` or `#`, so an `@` in a path or a
 * query is left alone and IPv6 hosts (`[::1]`) are not taken apart.
 */
export function redactUrl(url: string, keepQuery = false): string {
  if (typeof url !== 'string') return '';
  const at = url.indexOf('@');
  const hash = url.indexOf('#');
  const question = keepQuery ? -1 : url.indexOf('?');
  if (at === -1 && hash === -1 && question === -1) return url;
  let end = url.length;
  if (hash !== -1) end = hash;
  if (question !== -1 && question < end) end = question;
  let out = end === url.length ? url : url.slice(0, end);
  if (at !== -1 && at < end) {
    // `scheme://` or a scheme-relative `//host`; a `//` inside a path starts no authority.
    const scheme = out.indexOf('//');
    if (scheme === 0 || (scheme > 0 && out.charCodeAt(scheme - 1) === 58)) {
      const from = scheme + 2;
      const to = authorityEnd(out, from);
      const userinfoEnd = out.lastIndexOf('@', to - 1);
      if (userinfoEnd >= from && out.slice(from, userinfoEnd) !== REDACTED_USERINFO) {
        out = `${out.slice(0, from)}${REDACTED_USERINFO}${out.slice(userinfoEnd)}`;
      }
    }
  }
  return out;
}

/** End (exclusive) of the authority starting at `from`: the first `/`, `?` or `#`, or the end. */
function authorityEnd(url: string, from: number): number {
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) return i;
  }
  return url.length;
}

/** How a SQL dialect reads double quotes: identifiers (standard SQL, PostgreSQL) or strings (MySQL). */
export type SqlDialect = 'standard' | 'mysql';

// Character codes the scanners test.
const QUOTE = 39; // '
const DOUBLE_QUOTE = 34; // "
const BACKTICK = 96;
const DOLLAR = 36;
const HASH = 35;
const MINUS = 45;
const SLASH = 47;
const STAR = 42;
const DOT = 46;
const PLUS = 43;
const COLON = 58;
const QUESTION = 63;
const BACKSLASH = 92;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Letters, digits, `_`, `$` and anything non-ASCII: the characters of an identifier or keyword. */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === DOLLAR || c > 127;
}

/**
 * End (exclusive) of a quoted run opened at `start`; doubled quotes stay inside, and with
 * `escapes` (MySQL strings, PostgreSQL E'' strings) so do backslash escapes. Reading a backslash
 * as an escape where it is not one would move the end of every later string and unmask values.
 */
function quotedEnd(text: string, start: number, quote: number, escapes: boolean): number {
  const n = text.length;
  let i = start + 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (escapes && c === BACKSLASH) i += 2;
    else if (c === quote) {
      if (text.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return n; // unterminated: everything to the end is the literal
}

/** `$tag$` (or `$$`) opening at `start`, PostgreSQL's dollar quoting, or undefined. */
function dollarTag(text: string, start: number): string | undefined {
  let i = start + 1;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === DOLLAR) return text.slice(start, i + 1);
    if (!isWordChar(c) || c === DOLLAR || (i === start + 1 && isDigit(c))) return undefined;
    i++;
  }
  return undefined;
}

/** End (exclusive) of a block comment opened at `start`; nested comments count (PostgreSQL), so this only errs towards more. */
function blockCommentEnd(text: string, start: number): number {
  const n = text.length;
  let depth = 1;
  let i = start + 2;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === STAR && text.charCodeAt(i + 1) === SLASH) {
      i += 2;
      if (--depth === 0) return i;
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      depth++;
      i += 2;
    } else i++;
  }
  return n;
}

/** End (exclusive) of a numeric literal starting at `start` (`12`, `1.5e-3`, `.5`, `0x1F`). */
function numberEnd(text: string, start: number): number {
  const n = text.length;
  let i = start;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWordChar(c) || c === DOT) i++;
    else if ((c === PLUS || c === MINUS) && (text.charCodeAt(i - 1) | 32) === 101 && isDigit(text.charCodeAt(i + 1))) i++;
    else break;
  }
  return i;
}

const IN_LIST = /\bIN\s*\(\s*\?(?:\s*,\s*\?)+\s*\)/gi;

/**
 * `sql` with every literal replaced by `?`: strings (`'...'`, `E'...'`, dollar-quoted, and
 * `"..."` in MySQL), numbers, and `IN (?, ?, ?)` lists folded to `IN (?)`. Comments are
 * dropped (they may hold anything). Identifiers (`"Users"`, `` `t1` ``, `col_2`), keywords and
 * placeholders (`?`, `$1`, `:name`) are kept. Unterminated literals and comments run to the end.
 */
export function maskSql(sql: string, dialect: SqlDialect = 'standard'): string {
  if (typeof sql !== 'string') return '';
  const mysql = dialect === 'mysql';
  const n = sql.length;
  let out = '';
  let copied = 0; // sql[copied, i) is still to be copied to out
  let changed = false;
  let i = 0;
  const replace = (from: number, to: number, by: string): void => {
    out += sql.slice(copied, from) + by;
    copied = to;
    changed = true;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === QUOTE || (c === DOUBLE_QUOTE && mysql)) {
      // A prefix letter (E'', N'', X'', B'') belongs to the literal.
      const p = sql.charCodeAt(i - 1) | 32;
      const prefixed = c === QUOTE && (p === 101 || p === 110 || p === 120 || p === 98) && i > 0 && !isWordChar(sql.charCodeAt(i - 2));
      const end = quotedEnd(sql, i, c, mysql || (prefixed && p === 101));
      const from = prefixed ? i - 1 : i;
      replace(from, end, '?');
      i = end;
    } else if (c === DOUBLE_QUOTE || c === BACKTICK) {
      i = quotedEnd(sql, i, c, false); // an identifier: kept
    } else if (c === DOLLAR) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++;
        while (isDigit(sql.charCodeAt(i))) i++; // $1: a placeholder
        continue;
      }
      const tag = i > 0 && isWordChar(sql.charCodeAt(i - 1)) ? undefined : dollarTag(sql, i);
      if (tag === undefined) {
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      const end = close === -1 ? n : close + tag.length;
      replace(i, end, '?');
      i = end;
    } else if ((c === MINUS && sql.charCodeAt(i + 1) === MINUS) || (c === HASH && mysql)) {
      let end = sql.indexOf('\n', i);
      if (end === -1) end = n;
      replace(i, end, '');
      i = end;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const end = blockCommentEnd(sql, i);
      replace(i, end, ' ');
      i = end;
    } else if ((c === COLON || c === QUESTION) && isDigit(sql.charCodeAt(i + 1))) {
      i++;
      while (isDigit(sql.charCodeAt(i))) i++; // :1, ?1: numbered placeholders
    } else if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      const end = numberEnd(sql, i);
      replace(i, end, '?');
      i = end;
    } else if (isWordChar(c)) {
      i++;
      while (i < n && isWordChar(sql.charCodeAt(i))) i++; // t1, col_2: digits inside a word are not numbers
    } else i++;
  }
  if (!changed) return sql;
  out += sql.slice(copied);
  return out.includes('?,') || out.includes('? ,') ? out.replace(IN_LIST, (m) => `${m.slice(0, 2)} (?)`) : out;
}

/** True when `c` may stand before an opening quote in prose (not a letter, so "can't" is not a quote). */
function opensAfter(c: number): boolean {
  return Number.isNaN(c) || !isWordChar(c);
}

/**
 * A database error message with the text of every quoted value replaced by `?`:
 * `invalid input syntax for type integer: "?"`, `Incorrect integer value: '?' for column ...`.
 * Servers quote the offending value, which may be a bound parameter; backquoted identifiers
 * (MySQL's `` `db`.`t` ``) are kept. A quote inside a word (`can't`) opens nothing.
 */
export function maskQuotedValues(message: string): string {
  if (typeof message !== 'string') return '';
  if (message.indexOf("'") === -1 && message.indexOf('"') === -1) return message;
  const n = message.length;
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < n) {
    const c = message.charCodeAt(i);
    if ((c === QUOTE || c === DOUBLE_QUOTE) && opensAfter(message.charCodeAt(i - 1))) {
      // The closing quote is the next one not followed by a word character (a value may hold quotes).
      let j = i + 1;
      while (j < n && !(message.charCodeAt(j) === c && opensAfter(message.charCodeAt(j + 1)))) j++;
      out += `${message.slice(copied, i + 1)}?`;
      if (j >= n) return out; // unterminated: masked to the end
      copied = j;
      i = j + 1;
    } else i++;
  }
  return copied === 0 ? message : out + message.slice(copied);
}

// Commands whose first argument is itself a secret or a payload, not a key.
const NO_ARGUMENT_SHOWN = new Set(['auth', 'echo', 'ping']);

/**
 * The `db.query.text` of a Redis command, for `@opentelemetry/instrumentation-ioredis`'s
 * `dbStatementSerializer`: the command, its first argument (the key, or a subcommand such as
 * `CONFIG SET`) and how many arguments follow. Values, members, script arguments and passwords
 * never appear (the official default shows `EVAL` arguments and set members).
 */
export function redisStatement(command: string, args: ReadonlyArray<unknown>): string {
  const name = String(command);
  if (!Array.isArray(args) || args.length === 0) return name;
  const shown = NO_ARGUMENT_SHOWN.has(name.toLowerCase()) ? 0 : 1;
  const first = shown === 1 ? ` ${String(args[0])}` : '';
  const rest = args.length - shown;
  return rest > 0 ? `${name}${first} [${rest} other arguments]` : `${name}${first}`;
}
