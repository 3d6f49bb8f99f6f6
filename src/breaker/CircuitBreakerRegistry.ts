import { diag } from '@opentelemetry/api';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.js';
import { parseOptions } from '../config/index.js';
import { Listeners, type Disposer } from '../disposer.js';
import { CircuitBreaker, type BreakerBehaviour, type StateChange } from './CircuitBreaker.js';
import { DEFAULT_BREAKER_OPTIONS, resolveBreakerOptions, type BreakerOptions, type ResolvedBreakerOptions } from './config.js';

export interface RegistryOptions {
  /** Options of every breaker the registry creates. */
  defaults?: BreakerOptions;
  /** Options per breaker name (for auto-wrapped calls: `http://host:port`), over the defaults. */
  overrides?: Record<string, BreakerOptions>;
  /** Most breakers kept at once; the least recently used are evicted beyond it. Default 10000. */
  maxBreakers?: number;
  /** A breaker unused this long (ms) is dropped; it is recreated, closed, on its next call. Default 600000. */
  idleTimeoutMs?: number;
  /** How calls behave (fallback, failure test) per breaker name. */
  behaviour?: (name: string) => Omit<BreakerBehaviour, 'clock' | 'onStateChange'> | undefined;
  clock?: Clock;
  random?: () => number;
}

const limitsSchema = z.object({
  maxBreakers: z.number().int().min(1, { error: 'must be a whole number of at least 1' }).optional(),
  idleTimeoutMs: z.number().min(1, { error: 'must be a positive number of milliseconds' }).optional(),
});

/**
 * Breakers by name, created on demand (spec 2.4.3 `CircuitBreakerRegistry`). Memory is bounded
 * whatever the number of distinct names: idle breakers are swept and the least recently used are
 * evicted at the cap, with no timer (both happen as breakers are created).
 */
export class CircuitBreakerRegistry implements Iterable<CircuitBreaker> {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly defaults: ResolvedBreakerOptions;
  private readonly overrides = new Map<string, ResolvedBreakerOptions>();
  private readonly maxBreakers: number;
  private readonly idleTimeoutMs: number;
  private readonly clock: Clock;
  private readonly random: (() => number) | undefined;
  private readonly behaviour: RegistryOptions['behaviour'];
  private readonly changes = new Listeners<StateChange>((err) => diag.error('otel-self-heal: a registry state-change listener threw', err));
  private readonly created = new Listeners<CircuitBreaker>((err) => diag.error('otel-self-heal: a registry create listener threw', err));
  private readonly forward = (change: StateChange) => this.changes.emit(change);
  private lastSweep = 0;
  /** Breakers dropped so far, by idleness or by the cap. */
  evicted = 0;

  constructor(options: RegistryOptions = {}) {
    const limits = parseOptions(limitsSchema, { maxBreakers: options.maxBreakers, idleTimeoutMs: options.idleTimeoutMs }, 'breakers');
    this.defaults = resolveBreakerOptions(options.defaults, DEFAULT_BREAKER_OPTIONS, 'breaker');
    for (const [name, o] of Object.entries(options.overrides ?? {})) {
      this.overrides.set(name, resolveBreakerOptions(o, this.defaults, `overrides[${JSON.stringify(name)}]`));
    }
    this.maxBreakers = limits.maxBreakers ?? 10_000;
    this.idleTimeoutMs = limits.idleTimeoutMs ?? 600_000;
    this.clock = options.clock ?? systemClock;
    this.random = options.random;
    this.behaviour = options.behaviour;
  }

  /** The breaker for `name`, created from the defaults and its override if it does not exist. */
  get(name: string): CircuitBreaker {
    const now = this.clock.now();
    let b = this.breakers.get(name);
    if (b === undefined) b = this.create(name, now);
    b.lastUsed = now;
    return b;
  }

  /** The breaker for `name` if it exists; never creates one. */
  find(name: string): CircuitBreaker | undefined {
    return this.breakers.get(name);
  }

  has(name: string): boolean {
    return this.breakers.has(name);
  }

  delete(name: string): boolean {
    return this.breakers.delete(name);
  }

  get size(): number {
    return this.breakers.size;
  }

  list(): CircuitBreaker[] {
    return [...this.breakers.values()];
  }

  [Symbol.iterator](): Iterator<CircuitBreaker> {
    return this.breakers.values();
  }

  /** The options a breaker of this name gets (its override over the defaults). */
  optionsFor(name: string): ResolvedBreakerOptions {
    return this.overrides.get(name) ?? this.defaults;
  }

  /** Every state change of every breaker in the registry. */
  onStateChange(listener: (change: StateChange) => void): Disposer {
    return this.changes.add(listener);
  }

  /** Every breaker the registry creates. */
  onCreate(listener: (breaker: CircuitBreaker) => void): Disposer {
    return this.created.add(listener);
  }

  /** Drops every breaker and listener. */
  clear(): void {
    this.breakers.clear();
    this.changes.clear();
    this.created.clear();
  }

  private create(name: string, now: number): CircuitBreaker {
    if (now - this.lastSweep >= this.idleTimeoutMs / 2) this.sweepIdle(now);
    if (this.breakers.size >= this.maxBreakers) this.evictLeastRecentlyUsed();
    const b = new CircuitBreaker(name, this.optionsFor(name), {
      ...this.behaviour?.(name),
      clock: this.clock,
      ...(this.random ? { random: this.random } : {}),
      onStateChange: this.forward,
    });
    this.breakers.set(name, b);
    this.created.emit(b);
    return b;
  }

  private sweepIdle(now: number): void {
    this.lastSweep = now;
    const cutoff = now - this.idleTimeoutMs;
    for (const [name, b] of this.breakers) {
      if (b.lastUsed < cutoff) {
        this.breakers.delete(name);
        this.evicted++;
      }
    }
  }

  /** At the cap: drop the least recently used tenth, closed breakers first, so one sweep pays for many creations. */
  private evictLeastRecentlyUsed(): void {
    const count = Math.max(1, Math.ceil(this.maxBreakers / 10));
    const byAge = [...this.breakers.values()].sort(
      (a, b) => Number(!a.isClosed) - Number(!b.isClosed) || a.lastUsed - b.lastUsed,
    );
    for (let i = 0; i < count && i < byAge.length; i++) {
      this.breakers.delete(byAge[i]!.name);
      this.evicted++;
    }
  }
}
