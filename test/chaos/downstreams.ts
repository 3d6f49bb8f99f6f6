/**
 * The HTTP downstreams of the chaos service: real servers on 127.0.0.1 in the test process whose
 * behaviour the fault schedule switches. Each keeps its port across a kill and restart, so the
 * service's breaker, health component and pool component stay the same (`http://127.0.0.1:PORT`).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How a downstream answers, set by the faults. */
interface Behaviour {
  /** Added to every answer, ms. */
  latencyMs: number;
  /** Answer every request with this status at once. */
  failStatus: number | undefined;
  /** Hold every request unanswered until the behaviour changes. */
  hang: boolean;
  /** Retain this many bytes per request (a leak), and slow down by `leakMsPerMiB` per MiB held. */
  leakBytesPerRequest: number;
  leakMsPerMiB: number;
}

const NORMAL: Behaviour = { latencyMs: 0, failStatus: undefined, hang: false, leakBytesPerRequest: 0, leakMsPerMiB: 0 };

/**
 * What a downstream does with a request it will answer normally: resolve with the status and body
 * (A of the cascade pair calls B here).
 */
export type Answer = (req: http.IncomingMessage) => Promise<{ status: number; body: string }>;

export class Downstream {
  port = 0;
  /** Requests received, by the second they arrived in (epoch seconds). */
  readonly perSecond = new Map<number, number>();
  /** Bytes the current leak holds. */
  leakedBytes = 0;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<http.ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private leak: Buffer[] = [];
  private behaviour: Behaviour = { ...NORMAL };
  private resetShare = 0;
  private random: () => number = Math.random;

  private constructor(
    readonly name: string,
    private readonly answer: Answer,
  ) {}

  static async start(name: string, answer: Answer = async () => ({ status: 200, body: JSON.stringify({ name }) })): Promise<Downstream> {
    const d = new Downstream(name, answer);
    await d.listen(0);
    return d;
  }

  /** `http://127.0.0.1:PORT`, the name the plugin gives it. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Changes how it answers from now on; requests held by `hang` are answered 503 when it stops hanging. */
  behave(change: Partial<Behaviour>): void {
    this.behaviour = { ...this.behaviour, ...change };
    if (!this.behaviour.hang) this.releaseHeld();
  }

  /** Back to normal answers; the leak (if any) stays until the process "restarts" (`kill` then `revive`). */
  heal(): void {
    this.behave({ ...NORMAL });
    this.resetShare = 0;
  }

  /** Resets the connection of `share` (0..1) of the requests instead of answering; 0 stops. */
  resets(share: number, random: () => number): void {
    this.resetShare = share;
    this.random = random;
  }

  /** The process dies: the port stops listening, open connections are reset, the leak is gone. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.leak = [];
    this.leakedBytes = 0;
    this.releaseHeld();
    for (const s of this.sockets) s.resetAndDestroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The process is back on the same port, with normal behaviour. */
  async revive(): Promise<void> {
    this.heal();
    // The port was free while it was down: a connection elsewhere may hold it as its local port for a moment.
    for (let attempt = 1; !this.server; attempt++) {
      try {
        await this.listen(this.port);
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.kill();
  }

  private async listen(port: number): Promise<void> {
    const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const second = Math.floor(Date.now() / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    req.resume();
    if (this.resetShare > 0 && this.random() < this.resetShare) {
      req.socket.resetAndDestroy(); // a broken middlebox: the call in flight dies with ECONNRESET
      return;
    }
    const b = this.behaviour;
    if (b.hang) {
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    if (b.failStatus !== undefined) {
      res.statusCode = b.failStatus;
      res.end('failing');
      return;
    }
    if (b.leakBytesPerRequest > 0) {
      // Really held memory (filled, so the pages are committed), as a leak in the process would be.
      this.leak.push(Buffer.alloc(b.leakBytesPerRequest, 1));
      this.leakedBytes += b.leakBytesPerRequest;
    }
    // GC pressure grows with the heap the leak holds: answers get slower as it grows.
    const delay = b.latencyMs + (b.leakMsPerMiB * this.leakedBytes) / 1_048_576;
    const respond = (): void => {
      this.answer(req).then(
        ({ status, body }) => {
          if (res.writableEnded || res.destroyed) return;
          res.statusCode = status;
          res.setHeader('content-type', 'application/json');
          res.end(body);
        },
        () => {
          if (!res.destroyed) res.destroy();
        },
      );
    };
    if (delay <= 0) return respond();
    const t = setTimeout(() => {
      this.timers.delete(t);
      respond();
    }, delay);
    t.unref();
    this.timers.add(t);
    res.on('close', () => {
      clearTimeout(t);
      this.timers.delete(t);
    });
  }

  private releaseHeld(): void {
    for (const res of this.held) {
      if (res.destroyed || res.writableEnded) continue;
      res.statusCode = 503;
      res.end('gave up');
    }
    this.held.clear();
  }
}

/**
 * A of the cascade pair: answers with what B answers, calling B with a generous timeout of its
 * own, so a slow or hanging B makes A slow, and a failing B makes A fail.
 */
export function relayTo(b: Downstream, timeoutMs: number): Answer {
  const agent = new http.Agent({ keepAlive: true });
  return () =>
    new Promise((resolve) => {
      const req = http.get(`${b.origin}/relay`, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: (res.statusCode ?? 502) >= 500 ? 502 : 200, body: Buffer.concat(chunks).toString() || '{}' }));
        res.on('error', () => resolve({ status: 502, body: '{"error":"B aborted"}' }));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error('B timed out')));
      req.on('error', () => resolve({ status: 502, body: '{"error":"B failed"}' }));
    });
}
