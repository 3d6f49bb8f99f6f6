/**
 * A fault-injecting TCP proxy for tests: clients connect to the proxy, the proxy pipes bytes to a
 * real upstream (PostgreSQL, MariaDB, Redis, an HTTP server) and can, on demand:
 *
 * - `latency(ms)`: delay every chunk in both directions by `ms`;
 * - `reset()`: reset every open connection (RST), new ones still work;
 * - `blackhole()`: accept and keep connections but forward nothing (calls hang until their timeout);
 * - `refuse()`: stop listening, so new connections get ECONNREFUSED (open ones are reset);
 * - `stopUpstream()` / `startUpstream()`: new and open connections behave as if the server were down
 *   (reset on connect), then as if it came back: a server restart;
 * - `resetRequests(share, random?)`: reset the connection instead of forwarding, for `share` of the
 *   chunks clients send (a broken middlebox: calls in flight fail with ECONNRESET);
 * - `heal()`: back to a transparent pipe (and listening again).
 *
 * Binds 127.0.0.1 on a free port; `close()` releases everything. No timers are left behind.
 */
import net from 'node:net';

export type FaultMode = 'pass' | 'blackhole' | 'down';

export interface FaultProxyOptions {
  /** Upstream host; default 127.0.0.1. */
  upstreamHost?: string;
  upstreamPort: number;
  /** Fixed listen port; default a free one. */
  port?: number;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
}

export class FaultProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** Connections accepted since start (or the last `resetCounters()`). */
  accepted = 0;
  private server: net.Server | undefined;
  private readonly pairs = new Set<Pair>();
  private mode: FaultMode = 'pass';
  private delayMs = 0;
  private resetShare = 0;
  private random: () => number = Math.random;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly options: FaultProxyOptions) {}

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await proxy.listen(options.port ?? 0);
    return proxy;
  }

  /** Connections currently open through the proxy. */
  get openConnections(): number {
    return this.pairs.size;
  }

  get currentMode(): FaultMode {
    return this.mode;
  }

  latency(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  reset(): void {
    for (const pair of [...this.pairs]) this.destroyPair(pair, true);
  }

  /** Resets the connection instead of forwarding `share` (0..1) of client chunks; 0 stops. */
  resetRequests(share: number, random: () => number = Math.random): void {
    this.resetShare = Math.min(1, Math.max(0, share));
    this.random = random;
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  stopUpstream(): void {
    this.mode = 'down';
    this.reset();
  }

  startUpstream(): void {
    this.mode = 'pass';
  }

  async refuse(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.reset();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async heal(): Promise<void> {
    this.mode = 'pass';
    this.delayMs = 0;
    this.resetShare = 0;
    if (!this.server) await this.listen(this.port);
  }

  resetCounters(): void {
    this.accepted = 0;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.refuse();
  }

  private async listen(port: number): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const pair: Pair = { client, upstream: undefined };
    this.pairs.add(pair);
    client.on('error', () => this.destroyPair(pair, false));
    client.on('close', () => this.destroyPair(pair, false));
    if (this.mode === 'down') {
      this.destroyPair(pair, true);
      return;
    }
    if (this.mode === 'blackhole') {
      // Hold the connection; read and drop whatever the client sends.
      client.on('data', () => undefined);
      return;
    }
    const upstream = net.connect({
      host: this.options.upstreamHost ?? '127.0.0.1',
      port: this.options.upstreamPort,
      noDelay: true,
    });
    pair.upstream = upstream;
    upstream.on('error', () => this.destroyPair(pair, true));
    upstream.on('close', () => this.destroyPair(pair, false));
    this.pipe(client, upstream, pair);
    this.pipe(upstream, client);
  }

  /** `pair` is given for the client-to-upstream direction, where `resetRequests` acts. */
  private pipe(from: net.Socket, to: net.Socket, pair?: Pair): void {
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') return;
      if (pair && this.resetShare > 0 && this.random() < this.resetShare) {
        this.destroyPair(pair, true);
        return;
      }
      if (this.delayMs === 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      // Keep order: pause the source while a delayed chunk waits.
      from.pause();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!to.destroyed) to.write(chunk);
        if (!from.destroyed) from.resume();
      }, this.delayMs);
      timer.unref();
      this.timers.add(timer);
    });
    from.on('end', () => {
      if (!to.destroyed) to.end();
    });
  }

  private destroyPair(pair: Pair, hard: boolean): void {
    if (!this.pairs.delete(pair)) return;
    for (const s of [pair.client, pair.upstream]) {
      if (!s || s.destroyed) continue;
      if (hard) s.resetAndDestroy();
      else s.destroy();
    }
  }
}
