import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The status server's access rule. With a token, a request must carry it as
 * `Authorization: Bearer <token>`, or carry the session cookie a browser gets from
 * `/?token=<token>`. The cookie holds an HMAC of the token, not the token, and every comparison
 * runs in constant time (both sides are hashed to the same length first).
 */
export class StatusAuth {
  /**
   * The cookie's name carries the port the server listens on (see {@link listeningOn}): browsers
   * share cookies between the ports of a host.
   */
  cookieName = 'selfheal_status';
  private readonly tokenDigest: Buffer | undefined;
  private readonly session: string | undefined;

  constructor(token: string | undefined) {
    if (token === undefined) return;
    this.tokenDigest = sha256(token);
    this.session = createHmac('sha256', token).update('otel-self-heal status session').digest('base64url');
  }

  /** The port the server got (the configured one may be 0). */
  listeningOn(port: number): void {
    this.cookieName = `selfheal_status_${port}`;
  }

  get required(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** Whether `candidate` is the token (constant time). */
  tokenMatches(candidate: string): boolean {
    return this.tokenDigest !== undefined && timingSafeEqual(sha256(candidate), this.tokenDigest);
  }

  /** Whether the request may read the status: no token needed, a good bearer token, or the session cookie. */
  allows(req: IncomingMessage): boolean {
    if (!this.required) return true;
    const header = req.headers.authorization;
    if (typeof header === 'string') {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
      if (m && this.tokenMatches(m[1]!)) return true;
    }
    const cookie = readCookie(req.headers.cookie, this.cookieName);
    return cookie !== undefined && timingSafeEqual(sha256(cookie), sha256(this.session!));
  }

  /** The `Set-Cookie` value that opens a browser session (no Max-Age: it ends with the browser). */
  sessionCookie(): string {
    return `${this.cookieName}=${this.session}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The value of cookie `name` in a Cookie header, if there is exactly such a pair. */
function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether an address to bind is a loopback one. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether the Host header names this machine. Without a token, a loopback-bound server answers
 * only such requests: a web page whose own domain was rebound to 127.0.0.1 (DNS rebinding) sends
 * its own name and is refused.
 */
export function hostIsLoopback(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1]!;
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
