import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, CircuitBreakerRegistry, DEFAULT_BREAKER_OPTIONS, type StateChange } from '../../src/breaker/index.js';
import { ConfigValidationError } from '../../src/config/index.js';
import { failTimes, fakeClock, trip } from './breaker-helpers.js';

function registry(options: ConstructorParameters<typeof CircuitBreakerRegistry>[0] = {}) {
  const clock = fakeClock();
  return { clock, registry: new CircuitBreakerRegistry({ clock, random: () => 0, ...options }) };
}

describe('CircuitBreakerRegistry.get()', () => {
  it('creates a breaker on first use with the default options and returns the same one afterwards', () => {
    const { registry: r } = registry();
    expect(r.size).toBe(0);
    const a = r.get('http://a:80');
    expect(a).toBeInstanceOf(CircuitBreaker);
    expect(a.name).toBe('http://a:80');
    expect(a.state).toBe('closed');
    expect(a.options).toMatchObject(DEFAULT_BREAKER_OPTIONS);
    expect(r.get('http://a:80')).toBe(a);
    expect(r.size).toBe(1);
  });

  it('applies the registry defaults to every breaker and a per-name override over them', () => {
    const { registry: r } = registry({
      defaults: { failureThreshold: 0.3, resetTimeout: 2_000 },
      overrides: { 'http://slow:80': { minimumRequests: 3, resetTimeout: 9_000 } },
    });
    expect(r.get('http://slow:80').options).toMatchObject({ failureThreshold: 0.3, minimumRequests: 3, resetTimeout: 9_000 });
    expect(r.get('http://other:80').options).toMatchObject({ failureThreshold: 0.3, minimumRequests: 10, resetTimeout: 2_000 });
    expect(r.optionsFor('http://slow:80').resetTimeout).toBe(9_000);
  });

  it('shares its clock and random source with the breakers it creates', () => {
    const { registry: r, clock } = registry({ defaults: { minimumRequests: 1, resetTimeout: 1_000, jitter: 0.5 }, random: () => 1 });
    const b = r.get('x');
    trip(b);
    expect(b.retryAt).toBe(clock.t + 500); // 1000 * (1 - 0.5 * 1)
    clock.advance(500);
    expect(b.state).toBe('half-open');
  });

  it('gives each breaker the behaviour returned for its name', async () => {
    const { registry: r } = registry({
      defaults: { minimumRequests: 1 },
      behaviour: (name) => (name === 'with-fallback' ? { fallback: { kind: 'value', value: 'default' } } : undefined),
    });
    const withFallback = r.get('with-fallback');
    const plain = r.get('plain');
    trip(withFallback);
    trip(plain);
    await expect(withFallback.call(async () => 'ran')).resolves.toBe('default');
    await expect(plain.call(async () => 'ran')).rejects.toMatchObject({ code: 'ECIRCUITOPEN', breaker: 'plain' });
  });
});

describe('CircuitBreakerRegistry.find()', () => {
  it('returns an existing breaker and never creates one', () => {
    const { registry: r } = registry();
    expect(r.find('missing')).toBeUndefined();
    expect(r.has('missing')).toBe(false);
    expect(r.size).toBe(0);
    const a = r.get('a');
    expect(r.find('a')).toBe(a);
  });
});

describe('memory bounds', () => {
  it('never holds more than maxBreakers, however many names are used', () => {
    const { registry: r, clock } = registry({ maxBreakers: 50 });
    let most = 0;
    for (let i = 0; i < 500; i++) {
      clock.advance(1);
      r.get(`http://host-${i}:80`);
      most = Math.max(most, r.size);
    }
    expect(most).toBe(50);
    expect(r.size).toBeLessThanOrEqual(50);
    expect(r.evicted).toBe(500 - r.size);
    expect(r.has('http://host-499:80')).toBe(true);
  });

  it('evicts the least recently used breakers first', () => {
    const { registry: r, clock } = registry({ maxBreakers: 10 });
    for (let i = 0; i < 10; i++) {
      clock.advance(1);
      r.get(`n${i}`);
    }
    clock.advance(1);
    r.get('n0'); // n0 is now the most recently used
    clock.advance(1);
    r.get('new');
    expect(r.has('n0')).toBe(true);
    expect(r.has('n1')).toBe(false);
    expect(r.size).toBeLessThanOrEqual(10);
  });

  it('keeps open breakers in preference to closed ones, even if they were used longer ago', () => {
    const { registry: r, clock } = registry({ maxBreakers: 10, defaults: { resetTimeout: 60_000, maxResetTimeout: 60_000 } });
    const open = ['down-1', 'down-2', 'down-3'];
    for (const name of open) r.get(name).forceOpen();
    for (let i = 0; i < 100; i++) {
      clock.advance(1);
      r.get(`healthy-${i}`);
    }
    expect(r.size).toBeLessThanOrEqual(10);
    for (const name of open) expect(r.find(name)?.state).toBe('open');
  });

  it('drops breakers idle for longer than idleTimeoutMs when the next breaker is created', () => {
    const { registry: r, clock } = registry({ idleTimeoutMs: 10_000 });
    const idle = r.get('idle');
    r.get('busy');
    clock.advance(9_000);
    r.get('busy');
    clock.advance(1_001);
    r.get('newcomer');
    expect(r.has('idle')).toBe(false);
    expect(r.has('busy')).toBe(true);
    expect(r.evicted).toBe(1);
    const again = r.get('idle');
    expect(again).not.toBe(idle);
    expect(again.state).toBe('closed');
  });

  it('keeps a breaker used within idleTimeoutMs', () => {
    const { registry: r, clock } = registry({ idleTimeoutMs: 10_000 });
    r.get('a');
    clock.advance(10_000);
    r.get('b');
    expect(r.has('a')).toBe(true);
  });
});

describe('registry events', () => {
  it('onStateChange hears the transitions of every breaker in the registry', () => {
    const { registry: r, clock } = registry({ defaults: { minimumRequests: 2, resetTimeout: 1_000, jitter: 0 } });
    const changes: StateChange[] = [];
    r.onStateChange((c) => changes.push(c));
    trip(r.get('a'));
    trip(r.get('b'));
    clock.advance(1_000);
    expect(r.get('a').state).toBe('half-open');
    expect(changes.map((c) => `${c.breaker}:${c.from}->${c.to}`)).toEqual(['a:closed->open', 'b:closed->open', 'a:open->half-open']);
  });

  it('the disposer of a registry listener stops delivery', () => {
    const { registry: r } = registry({ defaults: { minimumRequests: 1 } });
    const listener = vi.fn();
    const dispose = r.onStateChange(listener);
    trip(r.get('a'));
    dispose();
    trip(r.get('b'));
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('a throwing registry listener does not break the call', async () => {
    const { registry: r } = registry({ defaults: { minimumRequests: 1 } });
    r.onStateChange(() => {
      throw new Error('listener bug');
    });
    const error = new Error('downstream');
    await expect(r.get('a').call(() => Promise.reject(error))).rejects.toBe(error);
    expect(r.get('a').state).toBe('open');
  });

  it('onCreate is told of each breaker the registry creates, once', () => {
    const { registry: r } = registry();
    const created: string[] = [];
    const dispose = r.onCreate((b) => created.push(b.name));
    r.get('a');
    r.get('a');
    r.get('b');
    r.find('c');
    dispose();
    r.get('d');
    expect(created).toEqual(['a', 'b']);
  });

  it('clear() drops every breaker and listener', () => {
    const { registry: r } = registry({ defaults: { minimumRequests: 1 } });
    const listener = vi.fn();
    r.onStateChange(listener);
    r.get('a');
    r.clear();
    expect(r.size).toBe(0);
    failTimes(r.get('a'), 1);
    expect(listener).not.toHaveBeenCalled();
  });

  it('iterates over and lists its breakers', () => {
    const { registry: r } = registry();
    r.get('a');
    r.get('b');
    expect([...r].map((b) => b.name)).toEqual(['a', 'b']);
    expect(r.list().map((b) => b.name)).toEqual(['a', 'b']);
    expect(r.delete('a')).toBe(true);
    expect(r.list().map((b) => b.name)).toEqual(['b']);
  });
});

describe('registry options', () => {
  it('rejects a maxBreakers below 1, naming breakers.maxBreakers', () => {
    expect(() => new CircuitBreakerRegistry({ maxBreakers: 0 })).toThrow(ConfigValidationError);
    expect(() => new CircuitBreakerRegistry({ maxBreakers: 0 })).toThrow(/breakers\.maxBreakers .*got 0/);
  });

  it('rejects a non-positive idleTimeoutMs, naming breakers.idleTimeoutMs', () => {
    expect(() => new CircuitBreakerRegistry({ idleTimeoutMs: 0 })).toThrow(/breakers\.idleTimeoutMs/);
  });

  it('rejects invalid defaults, naming breaker.<field>', () => {
    expect(() => new CircuitBreakerRegistry({ defaults: { jitter: 2 } })).toThrow(/breaker\.jitter must be between 0 and 1.*got 2/);
  });

  it('rejects an invalid override, naming the override key and the field', () => {
    const make = () => new CircuitBreakerRegistry({ overrides: { 'http://a:1': { failureThreshold: 2 } } });
    expect(make).toThrow(ConfigValidationError);
    expect(make).toThrow('overrides["http://a:1"].failureThreshold must be between 0 and 1');
    expect(make).toThrow('got 2');
  });

  it('rejects an override whose minimumRequests exceeds the windowSize it inherits, naming the override key', () => {
    const make = () => new CircuitBreakerRegistry({ defaults: { windowSize: 20 }, overrides: { api: { minimumRequests: 50 } } });
    expect(make).toThrow('overrides["api"].minimumRequests (50) must not exceed overrides["api"].windowSize (20)');
  });

  it('rejects an unknown key in an override, naming it', () => {
    const make = () => new CircuitBreakerRegistry({ overrides: { api: { resetTimout: 5 } as never } });
    expect(make).toThrow('overrides["api"].resetTimout is not a known option');
  });
});
