/**
 * The steady load on the chaos service: a fixed number of requests per second to each route, in a
 * seeded order, each accounted for. Nothing is fire-and-forget: every request ends as exactly one
 * outcome, and one that gets no answer by the deadline is counted as hanging and cut off.
 */
import http from 'node:http';
import { rng } from '../support/random.js';

/**
 * answered, fallback, fast-failed, error: the service's own words (`x-chaos-outcome`);
 * lost: the connection failed or broke with no answer; hanging: no answer by the deadline.
 */
export type Outcome = 'answered' | 'fallback' | 'fast-failed' | 'error' | 'lost' | 'hanging';
export const OUTCOMES: readonly Outcome[] = ['answered', 'fallback', 'fast-failed', 'error', 'lost', 'hanging'];

export interface RequestRecord {
  route: string;
  /** Epoch ms. */
  sentAt: number;
  /** Until the answer (or the deadline), ms. */
  ms: number;
  outcome: Outcome;
  /** Status code, or the error code of a lost request. */
  detail: string;
}

export interface LoadOptions {
  /** `http://127.0.0.1:PORT` of the service. */
  origin: string;
  routes: readonly string[];
  rpsPerRoute: number;
  seed: number;
  /** A request with no answer by then is hanging, ms. */
  deadlineMs: number;
}

export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  // Idle sockets close on our side after 15 s, well before the service's 30 s keep-alive timeout:
  // a server closing an idle socket just as a request goes out on it would lose that request.
  private readonly agent = new http.Agent({ keepAlive: true, timeout: 15_000 });
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private order: string[] = [];
  private readonly random: () => number;

  constructor(private readonly o: LoadOptions) {
    this.random = rng(o.seed);
  }

  /** Requests sent so far. */
  get sentCount(): number {
    return this.sent;
  }

  start(): void {
    const t0 = Date.now();
    const perMs = (this.o.rpsPerRoute * this.o.routes.length) / 1000;
    // Catch up on whatever is due at each tick: a late timer does not lower the rate.
    const tick = (): void => {
      const due = Math.floor((Date.now() - t0) * perMs);
      while (this.sent < due) this.send(this.nextRoute());
      this.timer = setTimeout(tick, 10);
      this.timer.unref();
    };
    tick();
  }

  /** Stops sending and waits for every request in flight to end (each is bounded by the deadline). */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.size) await Promise.all([...this.pending]);
    this.agent.destroy();
  }

  /** Routes in a seeded shuffle per round: each route gets the same rate. */
  private nextRoute(): string {
    if (this.order.length === 0) {
      this.order = [...this.o.routes];
      for (let i = this.order.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
      }
    }
    return this.order.pop()!;
  }

  private send(route: string): void {
    this.sent++;
    const sentAt = Date.now();
    const t0 = performance.now();
    const p = new Promise<void>((resolve) => {
      let done = false;
      const finish = (outcome: Outcome, detail: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.records.push({ route, sentAt, ms: performance.now() - t0, outcome, detail });
        resolve();
      };
      const req = http.get(`${this.o.origin}${route}`, { agent: this.agent }, (res) => {
        res.resume();
        res.on('end', () => {
          const said = res.headers['x-chaos-outcome'];
          const outcome = typeof said === 'string' && (OUTCOMES as readonly string[]).includes(said) ? (said as Outcome) : 'error';
          finish(outcome, String(res.statusCode));
        });
        res.on('error', (err: NodeJS.ErrnoException) => finish('lost', err.code ?? err.message));
      });
      req.on('error', (err: NodeJS.ErrnoException) => finish('lost', err.code ?? err.message));
      const timer = setTimeout(() => {
        finish('hanging', 'deadline');
        req.destroy();
      }, this.o.deadlineMs);
      timer.unref();
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
