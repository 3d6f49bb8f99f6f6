import type { SelfHealingComponent } from '../types.js';

/** Drains one client object (a pool or a connection): closes its connections so fresh ones are made. */
export type Drain = (client: object, signal: AbortSignal) => void | Promise<void>;

interface Tracked {
  ref: WeakRef<object>;
  drain: Drain;
}

const MAX_TRACKED = 1000;

/**
 * A database destination (`postgresql://host:port/db`, …) as a recoverable component. The
 * database instrumentations tell it which pools and connections talk to the destination (held
 * weakly: a pool the application drops is forgotten); `restart` drains them all, so dead or
 * half-open connections are closed and the next calls open fresh ones. Health (the monitor's
 * view of the destination) verifies the restart.
 */
export class DbPoolComponent implements SelfHealingComponent {
  private readonly clients: Tracked[] = [];
  private readonly seen = new WeakSet<object>();
  /** Clients drained by the last restart. */
  lastDrained = 0;

  constructor(readonly name: string) {}

  /** Clients currently tracked (still alive). */
  get tracked(): number {
    return this.live().length;
  }

  /** Remembers a client of this destination and how to drain it. */
  track(client: object, drain: Drain): void {
    if (this.seen.has(client)) return;
    this.seen.add(client);
    if (this.clients.length >= MAX_TRACKED) this.prune();
    if (this.clients.length >= MAX_TRACKED) this.clients.shift();
    this.clients.push({ ref: new WeakRef(client), drain });
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
