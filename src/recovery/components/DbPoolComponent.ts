import type { HealthStatus } from '../../health/index.js';
import { raceAbort } from '../timing.js';
import type { SelfHealingComponent } from '../types.js';

/** Drains one client object (a pool or a connection): closes its connections so fresh ones are made. */
export type Drain = (client: object, signal: AbortSignal) => void | Promise<void>;

/** Asks the server something trivial on one client (`SELECT 1`, `PING`), outside the breakers. */
export type Check = (client: object) => Promise<unknown>;

interface Tracked {
  ref: WeakRef<object>;
  drain: Drain;
  check: Check | undefined;
}

const MAX_TRACKED = 1000;

/**
 * A database destination (`postgresql://host:port/db`, …) as a recoverable component. The
 * database instrumentations tell it which pools and connections talk to the destination (held
 * weakly: a pool the application drops is forgotten); `restart` drains them all, so dead or
 * half-open connections are closed and the next calls open fresh ones. A restart is verified by
 * a trivial query on a tracked client (`checkHealth`, once a client with a check is tracked),
 * else by the health monitor's view of the destination.
 */
export class DbPoolComponent implements SelfHealingComponent {
  private readonly clients: Tracked[] = [];
  private readonly seen = new WeakSet<object>();
  /** Clients drained by the last restart. */
  lastDrained = 0;
  /** Defined once a client with a check is tracked; without it, recovery verifies through health. */
  checkHealth?: (signal: AbortSignal) => Promise<HealthStatus>;

  constructor(readonly name: string) {}

  /** Clients currently tracked (still alive). */
  get tracked(): number {
    return this.live().length;
  }

  /** Remembers a client of this destination and how to drain it. */
  track(client: object, drain: Drain, check?: Check): void {
    if (this.seen.has(client)) return;
    this.seen.add(client);
    if (this.clients.length >= MAX_TRACKED) this.prune();
    if (this.clients.length >= MAX_TRACKED) this.clients.shift();
    this.clients.push({ ref: new WeakRef(client), drain, check });
    if (check && !this.checkHealth) this.checkHealth = (signal) => this.check(signal);
  }

  /** The trivial query on the most recently tracked live client that has a check. */
  private async check(signal: AbortSignal): Promise<HealthStatus> {
    this.prune();
    for (let i = this.clients.length - 1; i >= 0; i--) {
      const t = this.clients[i]!;
      const client = t.ref.deref();
      if (!client || !t.check) continue;
      try {
        await raceAbort(Promise.resolve(t.check(client)), signal);
        return { kind: 'healthy' };
      } catch (err) {
        const e = err as { code?: unknown; message?: unknown };
        return { kind: 'failed', reason: `check query failed: ${typeof e.code === 'string' ? e.code : String(e.message ?? err)}` };
      }
    }
    return { kind: 'failed', reason: 'no client left to check' };
  }

  async restart(signal: AbortSignal): Promise<void> {
    const live = this.live();
    let drained = 0;
    const results = await Promise.allSettled(
      live.map(async ({ client, drain }) => {
        if (signal.aborted) return;
        await drain(client, signal);
        drained++;
      }),
    );
    this.lastDrained = drained;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Forgets every client. */
  close(): void {
    this.clients.length = 0;
  }

  private live(): Array<{ client: object; drain: Drain }> {
    this.prune();
    return this.clients.map((t) => ({ client: t.ref.deref()!, drain: t.drain })).filter((t) => t.client !== undefined);
  }

  private prune(): void {
    for (let i = this.clients.length - 1; i >= 0; i--) if (this.clients[i]!.ref.deref() === undefined) this.clients.splice(i, 1);
  }
}
