import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';

/** Browsers watching at once, at most; more get 503. */
export const MAX_STREAMS = 32;
/** How often every stream gets a full snapshot (also the keep-alive), ms. */
export const SNAPSHOT_INTERVAL_MS = 2_000;
/** A client this far behind (bytes buffered) is dropped: a stuck tab must not grow our memory. */
const MAX_BUFFERED = 1 << 20;
/** What a browser waits before reconnecting a dropped stream, ms. */
const RETRY_MS = 2_000;

/**
 * The server-sent events of `/api/events`: a full `snapshot` on connect and every two seconds,
 * and `breaker`, `health`, `recovery` and `config` events as they happen. Events are queued and
 * written on the next turn, never in the caller's stack (a breaker transition happens inside a
 * user's call), and only while someone watches. The timer runs only while a stream is open, and
 * is unref'ed.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private queue: Array<() => string | undefined> = [];
  private flushing: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly snapshot: () => unknown) {}

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream; false (and a 503) when there are too many. */
  open(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): boolean {
    if (this.closed || this.clients.size >= MAX_STREAMS) return false;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // (The server unrefs every socket: an open tab does not keep the process alive.)
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 10_000);
    res.write(`retry: ${RETRY_MS}\n\n`);
    res.write(frame('snapshot', JSON.stringify(this.snapshot())));
    this.clients.add(res);
    res.on('close', () => this.drop(res));
    this.timer ??= setInterval(() => this.publish('snapshot', this.snapshot), SNAPSHOT_INTERVAL_MS).unref();
    return true;
  }

  /**
   * Queues an event for every stream. `data` is called when the event is written (next turn),
   * once for all streams; returning undefined skips it. Costs nothing when nobody watches.
   */
  publish(event: string, data: () => unknown): void {
    if (this.clients.size === 0 || this.closed) return;
    this.queue.push(() => {
      const value = data();
      return value === undefined ? undefined : frame(event, JSON.stringify(value));
    });
    this.flushing ??= setImmediate(() => this.flush()).unref();
  }

  /** Ends every stream (the browser will try to reconnect) and stops the timer. */
  close(): void {
    this.closed = true;
    this.stopTimer();
    if (this.flushing) clearImmediate(this.flushing);
    this.queue = [];
    for (const res of this.clients) {
      res.end();
      res.socket?.destroy();
    }
    this.clients.clear();
  }

  private flush(): void {
    this.flushing = undefined;
    const queued = this.queue;
    this.queue = [];
    let chunk = '';
    for (const make of queued) {
      try {
        chunk += make() ?? '';
      } catch (err) {
        // Skipped; the next snapshot (at most 2 s away) carries the state anyway.
        diag.error('otel-self-heal: a status event could not be built', err);
      }
    }
    if (!chunk) return;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) res.destroy();
      else res.write(chunk);
    }
  }

  private drop(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** One SSE message. JSON has no raw newlines, so `data` is one line. */
function frame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
