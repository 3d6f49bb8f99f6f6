import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakerRegistry, DEFAULT_BREAKER_OPTIONS, REJECTED, type BreakerOptions } from '../../src/breaker/index.js';
import { AdaptiveConfigManager, bindBreakers, breakerParameters } from '../../src/config/adaptive/index.js';
import { ConfigValidationError } from '../../src/config/index.js';

function fakeClock(start = 1_700_000_000_000) {
  const clock = { t: start, now: () => clock.t, advance: (ms: number) => void (clock.t += ms) };
  return clock;
}

function setup(defaults: BreakerOptions = {}, overrides: Record<string, BreakerOptions> = {}, persistPath?: string) {
  const clock = fakeClock();
  const registry = new CircuitBreakerRegistry({ clock, random: () => 0, defaults, overrides });
  const { initial, constraints } = breakerParameters(defaults);
  const manager = new AdaptiveConfigManager({ initial, constraints, clock, ...(persistPath ? { persistPath } : {}) });
  return { clock, registry, manager };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('breakerParameters', () => {
  it('gives one key per breaker option, starting from the options given', () => {
    const { initial, constraints } = breakerParameters({ failureThreshold: 0.3 });
    expect(initial).toEqual(
      Object.fromEntries(Object.entries({ ...DEFAULT_BREAKER_OPTIONS, failureThreshold: 0.3 }).map(([k, v]) => [`breaker.${k}`, v])),
    );
    expect(Object.keys(constraints)).toEqual(Object.keys(initial));
    expect(Object.keys(breakerParameters({}, 'cb.').initial)[0]).toBe('cb.failureThreshold');
  });
});

describe('bindBreakers', () => {
  it('gives the new failureThreshold to breakers created before and after the change', () => {
    const { registry, manager } = setup();
    const before = registry.get('http://a:80');
    bindBreakers(manager, registry);
    manager.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.2 });
    const after = registry.get('http://b:80');
    expect(before.options.failureThreshold).toBe(0.2);
    expect(after.options.failureThreshold).toBe(0.2);
    expect(after.options.minimumRequests).toBe(DEFAULT_BREAKER_OPTIONS.minimumRequests);
    expect(before.options).toEqual(after.options);
  });

  it('makes the running breakers behave by the new settings', () => {
    const { registry, manager } = setup({ minimumRequests: 4, windowSize: 10, jitter: 0 });
    bindBreakers(manager, registry);
    const b = registry.get('svc');
    const fail = () => b.recordFailure(b.tryAcquire(), 0);
    const succeed = () => b.recordSuccess(b.tryAcquire(), 0);
    succeed();
    succeed();
    succeed();
    fail(); // 25 % failures: closed at the default 0.5
    expect(b.state).toBe('closed');
    manager.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.25 });
    succeed();
    fail(); // 2 of 6 = 33 %: at or above 0.25
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(REJECTED);
  });

  it('refuses an invalid breaker value with an error naming the key, and leaves the breakers unchanged', () => {
    const { registry, manager } = setup();
    bindBreakers(manager, registry);
    const b = registry.get('svc');
    const options = b.options;
    let error: unknown;
    try {
      manager.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 1.5 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as Error).message).toMatch(/^config\.parameters\["breaker\.failureThreshold"\] must be between 0 and 1\b.*, got 1\.5$/);
    expect(b.options).toBe(options);
    expect(manager.get('breaker.failureThreshold')).toBe(0.5);
  });

  it('refuses a combination the breakers refuse (minimumRequests above windowSize), and takes both changed at once', () => {
    const { registry, manager } = setup();
    bindBreakers(manager, registry);
    const b = registry.get('svc');
    expect(() => manager.applyChange({ kind: 'update', key: 'breaker.minimumRequests', value: 200 })).toThrow(
      'config.parameters: breaker.minimumRequests (200) must not exceed breaker.windowSize (100) for a count window',
    );
    expect(b.options.minimumRequests).toBe(10);
    manager.applyChange([
      { kind: 'update', key: 'breaker.windowSize', value: 400 },
      { kind: 'update', key: 'breaker.minimumRequests', value: 200 },
    ]);
    expect(b.options).toMatchObject({ windowSize: 400, minimumRequests: 200 });
  });

  it("keeps the fields a breaker's per-name override sets, and takes the others", () => {
    const { registry, manager } = setup({}, { 'http://slow:80': { failureThreshold: 0.9, resetTimeout: 30_000 } });
    bindBreakers(manager, registry);
    const slow = registry.get('http://slow:80');
    manager.applyChange([
      { kind: 'update', key: 'breaker.failureThreshold', value: 0.2 },
      { kind: 'update', key: 'breaker.jitter', value: 0 },
    ]);
    const later = registry.get('http://other:80');
    expect(slow.options).toMatchObject({ failureThreshold: 0.9, resetTimeout: 30_000, jitter: 0 });
    expect(later.options).toMatchObject({ failureThreshold: 0.2, resetTimeout: 5_000, jitter: 0 });
  });

  it("gives the registry's value back when a key is removed", () => {
    const { registry, manager } = setup({ resetTimeout: 2_000 });
    bindBreakers(manager, registry);
    const b = registry.get('svc');
    manager.applyChange({ kind: 'update', key: 'breaker.resetTimeout', value: 9_000 });
    expect(b.options.resetTimeout).toBe(9_000);
    manager.applyChange({ kind: 'remove', key: 'breaker.resetTimeout' });
    expect(b.options.resetTimeout).toBe(2_000);
    expect(registry.get('new').options.resetTimeout).toBe(2_000);
  });

  it('follows rollbacks, automatic ones included', () => {
    vi.useFakeTimers();
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const { registry, manager } = setup();
    bindBreakers(manager, registry);
    const b = registry.get('svc');
    let health = 1;
    manager.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.95 }, { verify: { windowMs: 30_000, healthScore: () => health } });
    expect(b.options.failureThreshold).toBe(0.95);
    health = 0.5;
    vi.advanceTimersByTime(30_000);
    expect(b.options.failureThreshold).toBe(0.5);
    expect(manager.currentConfig().version).toBe(3);
  });

  it('applies the current configuration when bound, and refuses to bind one the breakers refuse', () => {
    const { registry, manager } = setup();
    const b = registry.get('svc');
    manager.applyChange({ kind: 'update', key: 'breaker.halfOpenRequestLimit', value: 3 });
    expect(b.options.halfOpenRequestLimit).toBe(5); // not bound yet
    const unbind = bindBreakers(manager, registry);
    expect(b.options.halfOpenRequestLimit).toBe(3);
    unbind();

    const other = setup({}, { tiny: { windowSize: 20 } });
    const tiny = other.registry.get('tiny');
    other.manager.applyChange({ kind: 'update', key: 'breaker.minimumRequests', value: 50 }); // fine for a window of 100
    expect(() => bindBreakers(other.manager, other.registry)).toThrow(
      'config.parameters: breaker.minimumRequests (50) must not exceed breaker.windowSize (20) for a count window',
    );
    expect(tiny.options.minimumRequests).toBe(10);
    other.manager.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.1 });
    expect(tiny.options.failureThreshold).toBe(0.5); // nothing was bound
  });

  it('refuses a change that would break a breaker with its own options, naming that breaker', () => {
    const { registry, manager } = setup({}, { tiny: { windowSize: 20 } });
    bindBreakers(manager, registry);
    const tiny = registry.get('tiny');
    const plain = registry.get('plain');
    expect(() => manager.applyChange({ kind: 'update', key: 'breaker.minimumRequests', value: 50 })).toThrow(
      'config.parameters: breaker.minimumRequests (50) must not exceed breaker.windowSize (20) for a count window, or the circuit can never open: raise windowSize or lower minimumRequests (for breaker "tiny" with its own options)',
    );
    expect(tiny.options.minimumRequests).toBe(10);
    expect(plain.options.minimumRequests).toBe(10);
    expect(manager.get('breaker.minimumRequests')).toBe(10);
  });

  it('stops changing the breakers once disposed', () => {
    const { registry, manager } = setup();
    const unbind = bindBreakers(manager, registry);
    const b = registry.get('svc');
    unbind();
    manager.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.1 });
    expect(b.options.failureThreshold).toBe(0.5);
    expect(registry.get('later').options.failureThreshold).toBe(0.5);
  });

  it('applies breaker settings saved before a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-self-heal-breakers-'));
    try {
      const path = join(dir, 'config.json');
      const first = setup({}, {}, path);
      await first.manager.start();
      first.manager.applyChange({ kind: 'update', key: 'breaker.resetTimeout', value: 12_000 });
      await first.manager.stop();

      const second = setup({}, {}, path);
      const existing = second.registry.get('svc');
      bindBreakers(second.manager, second.registry);
      await second.manager.start();
      expect(existing.options.resetTimeout).toBe(12_000);
      expect(second.registry.get('later').options.resetTimeout).toBe(12_000);
      await second.manager.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
