import { EventEmitter } from 'node:events';
import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
import type { Disposer } from '../disposer.js';
import { StatusAuth, hostIsLoopback, isLoopback } from './auth.js';
import { EventStream } from './EventStream.js';
import type { ResolvedStatusServerOptions } from './options.js';
import { PAGE_CSP, renderPage } from './page.js';
import { RecoveryLog } from './RecoveryLog.js';
import type { RecoveryTraces } from './RecoveryTraces.js';
import { breakerView, buildSnapshot, componentView, configView, statusText, systemView, type StatusSnapshot, type StatusSource } from './snapshot.js';

/** Longest request target served, characters; longer gets 414 (longer than 8 KiB of headers, 431). */
const MAX_URL = 2048;
const ROUTES = new Set(['/', '/healthz', '/readyz', '/api/status', '/api/events']);

const BASE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};
const API_HEADERS: Readonly<Record<string, string>> = { ...BASE_HEADERS, 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" };
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...BASE_HEADERS,
  'content-security-policy': PAGE_CSP,
  'cross-origin-opener-policy': 'same-origin',
  'content-type': 'text/html; charset=utf-8',
};

/**
 * The opt-in live status page and its API (`statusServer` option), on node:http alone:
 * `GET /healthz` (liveness), `/readyz` (readiness), `/api/status` (JSON), `/api/events`
 * (server-sent events) and `/` (the page). It binds 127.0.0.1 by default, keeps nothing alive
 * (server, sockets and timer are unref'ed), and a failure to listen is reported through OTel's
 * diag logger, never thrown: the service runs on without its page.
 */
export class StatusServer {
  /** Resolves with {@link url} once listening, or with undefined if it could not listen. Never rejects. */
  readonly ready: Promise<string | undefined>;
  private readonly server: http.Server;
  private readonly auth: StatusAuth;
  private readonly stream: EventStream;
  private readonly log: RecoveryLog;
  private readonly subscriptions: Disposer[];
  private readonly checkHost: boolean;
  private closing: Promise<void> | undefined;
  private readonly version: string;
  private address: string | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly options: ResolvedStatusServerOptions,
    private readonly source: StatusSource,
    deps: { version?: string; traces?: Pick<RecoveryTraces, 'get'> } = {},
  ) {
    this.version = deps.version ?? '';
    this.auth = new StatusAuth(options.token);
    // Without a token, a loopback-bound server answers only requests addressed to this machine.
    this.checkHost = !this.auth.required && isLoopback(options.host);
    if (!this.auth.required && !isLoopback(options.host)) {
      diag.warn(`otel-self-heal: the status server listens on ${options.host} without a token: anyone who can reach it can read it (set statusServer.token)`);
    }
    this.stream = new EventStream(() => this.snapshot());
    this.log = new RecoveryLog(
      source.recovery,
      options.recent,
      (view) => {
        // As it is now: the entry changes on, and the stream writes on the next turn.
        const copy = { ...view, attempts: [...view.attempts] };
        this.stream.publish('recovery', () => copy);
      },
      deps.traces,
    );
    this.subscriptions = [
      source.breakers.onStateChange((c) => {
        if (this.stream.size === 0) return; // inside a user's call: nothing to do when nobody watches
        const change = { name: c.breaker, from: c.from, to: c.to, reason: c.reason, failureRate: c.failureRate, timestamp: c.timestamp };
        this.stream.publish('breaker', () => {
          const b = source.breakers.find(change.name);
          return { change, breaker: b ? breakerView(b) : null };
        });
      }),
      source.health.onChange((c) =>
        this.stream.publish('health', () => {
          const now = source.health.component(c.component);
          return { component: now ? componentView(now) : null, system: systemView(source.health) };
        }),
      ),
      source.config.onChange(() => this.stream.publish('config', () => configView(source.config))),
    ];

    this.server = http.createServer({ maxHeaderSize: 8192 }, (req, res) => this.handle(req, res));
    // The official http instrumentation patches http.Server.prototype.emit to give every incoming
    // request a SERVER span. These requests are not the service's: an event stream open for
    // minutes would count as a slow route in its health, and fill its traces. This server emits
    // with the plain EventEmitter method, past the patch.
    this.server.emit = EventEmitter.prototype.emit as http.Server['emit'];
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxConnections = 64;
    this.server.on('connection', (socket: Socket) => socket.unref());
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
      const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    this.server.unref();
    this.ready = this.listen();
  }

  /** `http://host:port/` once listening. */
  get url(): string | undefined {
    return this.address;
  }

  /** Why it could not listen, if it could not. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** What `/api/status` answers: breakers, components, recent recoveries, configuration, optimizer. */
  snapshot(): StatusSnapshot {
    return buildSnapshot(this.source, this.log.list(), this.version, this.options.jaegerUrl);
  }

  /** Stops listening and ends every event stream and connection. Calling it again does nothing more. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const d of this.subscriptions) d();
      this.log.close();
      this.stream.close();
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private listen(): Promise<string | undefined> {
    const { host, port } = this.options;
    return new Promise((resolve) => {
      const failed = (err: NodeJS.ErrnoException) => {
        this.failure = err;
        const why = err.code === 'EADDRINUSE' ? 'the port is in use: set statusServer.port to a free one, or 0 to pick one' : err.message;
        diag.error(`otel-self-heal: the status server could not listen on ${host}:${port} (${why}); the service runs on without it`);
        void this.close();
        resolve(undefined);
      };
      this.server.once('error', failed);
      // exclusive: in a cluster worker, its own port, not a handle shared with the other workers.
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off('error', failed);
        this.server.on('error', (err) => diag.error('otel-self-heal: status server error', err));
        if (this.closing) {
          this.server.close();
          return resolve(undefined);
        }
        const a = this.server.address() as AddressInfo;
        this.auth.listeningOn(a.port);
        const name = a.address === '0.0.0.0' || a.address === '::' ? 'localhost' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
        this.address = `http://${name}:${a.port}/`;
        resolve(this.address);
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      req.resume(); // a GET has no body worth reading
      res.on('error', () => {}); // a client gone mid-write is not our error
      const target = req.url ?? '';
      if (target.length > MAX_URL) return this.text(res, 414, 'URL too long');
      if (!target.startsWith('/')) return this.text(res, 400, 'bad request target');
      const q = target.indexOf('?');
      const path = q < 0 ? target : target.slice(0, q);
      if (!ROUTES.has(path)) return this.text(res, 404, 'not found');
      if (req.method !== 'GET') return this.text(res, 405, 'only GET', { allow: 'GET' });
      if (path === '/healthz') return this.json(res, 200, { status: 'ok' });
      if (this.checkHost && !hostIsLoopback(req.headers.host)) return this.text(res, 403, 'this status server answers requests to localhost only');
      if (path === '/' && q >= 0 && this.auth.required) {
        const token = new URLSearchParams(target.slice(q + 1)).get('token');
        if (token !== null) {
          // The token leaves the address bar at once; the browser keeps a session cookie instead.
          if (!this.auth.tokenMatches(token)) return this.unauthorized(res);
          res.writeHead(303, { ...BASE_HEADERS, location: '/', 'set-cookie': this.auth.sessionCookie(), 'content-length': '0' });
          return void res.end();
        }
      }
      if (!this.auth.allows(req)) return this.unauthorized(res);
      switch (path) {
        case '/readyz': {
          const r = this.source.health.readiness();
          return this.json(res, r.ready ? 200 : 503, { ready: r.ready, ...statusText(r.status) });
        }
        case '/api/status':
          return this.json(res, 200, this.snapshot());
        case '/api/events':
          if (!this.stream.open(req, res, API_HEADERS)) this.text(res, 503, 'too many event streams', { 'retry-after': '10' });
          return;
        default:
          res.writeHead(200, PAGE_HEADERS);
          return void res.end(renderPage(this.snapshot()));
      }
    } catch (err) {
      diag.error('otel-self-heal: the status server failed to answer a request', err);
      if (!res.headersSent) this.text(res, 500, 'internal error');
      else res.destroy();
    }
  }

  private unauthorized(res: ServerResponse): void {
    this.text(res, 401, 'This status server needs its token: send "Authorization: Bearer <token>", or open /?token=<token> once in a browser.', {
      'www-authenticate': 'Bearer realm="otel-self-heal"',
    });
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { ...API_HEADERS, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private text(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(code, { ...API_HEADERS, ...headers, 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${body}\n`);
  }
}
