/**
 * Applies the fault schedule to the real parts: the HTTP downstreams, the fault proxies in front of
 * PostgreSQL and Redis, and the service's process (over IPC). Each fault has a begin and an end; the
 * epoch times they really happened are recorded.
 */
import type { FaultProxy } from '../support/faultProxy.js';
import { rng } from '../support/random.js';
import type { Downstream } from './downstreams.js';
import type { Fault } from './schedule.js';
import type { AppliedFault } from './types.js';

export interface FaultTargets {
  flaky: Downstream;
  leaky: Downstream;
  /** B of the cascade pair (A calls it). */
  chainB: Downstream;
  postgres: FaultProxy;
  redis: FaultProxy;
  /** Starts a CPU spike of `durationMs` in the service. */
  cpuSpike(durationMs: number): void;
}

/** The leak: bytes held per request, and how much slower each MiB held makes an answer. */
const LEAK = { leakBytesPerRequest: 512 * 1024, leakMsPerMiB: 120 };
/** A leaking process crashes (out of memory) this long before its fault ends, then restarts. */
const CRASH_MS = 800;

export class FaultInjector {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly applied: AppliedFault[] = [];
  private readonly running = new Set<Promise<void>>();

  /** `seed` makes the share of requests a `resets` fault hits the same on every run. */
  constructor(
    private readonly t: FaultTargets,
    private readonly seed: number,
  ) {}

  /** Schedules every fault relative to `t0` (epoch ms). */
  schedule(faults: readonly Fault[], t0: number): void {
    for (const f of faults) {
      const applied: AppliedFault = { ...f, startedAt: 0, endedAt: 0 };
      this.applied.push(applied);
      this.at(t0 + f.startMs, async () => {
        applied.startedAt = Date.now();
        await this.begin(f);
      });
      if (f.kind === 'memory-leak') this.at(t0 + f.endMs - CRASH_MS, () => this.t.leaky.kill());
      this.at(t0 + f.endMs, async () => {
        await this.end(f);
        applied.endedAt = Date.now();
      });
    }
  }

  /** The faults that have begun and ended, with when they did. */
  get faults(): AppliedFault[] {
    return this.applied.filter((f) => f.startedAt > 0 && f.endedAt > 0);
  }

  /** Waits for fault actions under way, cancels the rest, and heals everything. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private at(when: number, action: () => Promise<void> | void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const p = Promise.resolve()
        .then(action)
        .catch((err: unknown) => console.error('chaos: a fault action failed', err));
      this.running.add(p);
      void p.finally(() => this.running.delete(p));
    }, Math.max(0, when - Date.now()));
    timer.unref();
    this.timers.add(timer);
  }

  private proxy(f: Fault): FaultProxy | undefined {
    return f.target === 'postgres' ? this.t.postgres : f.target === 'redis' ? this.t.redis : undefined;
  }

  private async begin(f: Fault): Promise<void> {
    const proxy = this.proxy(f);
    switch (f.kind) {
      case 'kill':
        if (proxy) proxy.stopUpstream();
        else await this.t.flaky.kill();
        return;
      case 'latency':
        if (proxy) proxy.latency(f.params.latencyMs!);
        else this.t.flaky.behave({ latencyMs: f.params.latencyMs! });
        return;
      case 'resets': {
        const random = rng(this.seed + f.id);
        if (proxy) {
          proxy.reset(); // the open connections first, then the share of what is sent
          proxy.resetRequests(f.params.share!, random);
        } else this.t.flaky.resets(f.params.share!, random);
        return;
      }
      case 'cpu-spike':
        this.t.cpuSpike(f.endMs - f.startMs);
        return;
      case 'memory-leak':
        this.t.leaky.behave(LEAK);
        return;
      case 'cascade':
        this.t.chainB.behave(f.params.mode === 'hang' ? { hang: true } : { failStatus: 500 });
        return;
    }
  }

  private async end(f: Fault): Promise<void> {
    const proxy = this.proxy(f);
    switch (f.kind) {
      case 'kill':
        if (proxy) proxy.startUpstream();
        else await this.t.flaky.revive();
        return;
      case 'latency':
        if (proxy) proxy.latency(0);
        else this.t.flaky.heal();
        return;
      case 'resets':
        if (proxy) proxy.resetRequests(0);
        else this.t.flaky.resets(0, Math.random);
        return;
      case 'cpu-spike':
        return; // it ends by itself
      case 'memory-leak':
        await this.t.leaky.revive(); // restarted by its supervisor, the leak gone with the old process
        return;
      case 'cascade':
        this.t.chainB.heal();
        return;
    }
  }
}
