import { describe, expect, it } from 'vitest';
import { CircuitBreaker, DEFAULT_BREAKER_OPTIONS, resolveBreakerOptions } from '../../src/breaker/index.js';
import { ConfigValidationError } from '../../src/config/index.js';

function errorOf(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected a ConfigValidationError, nothing was thrown');
}

describe('resolveBreakerOptions()', () => {
  it('fills every option from the defaults and derives timed and probesToClose', () => {
    const o = resolveBreakerOptions({});
    expect(o).toEqual({ ...DEFAULT_BREAKER_OPTIONS, timed: false, probesToClose: 3 });
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveBreakerOptions(undefined)).toEqual(o);
  });

  it("does not write defaults into the caller's options object", () => {
    const mine = { failureThreshold: 0.2 };
    resolveBreakerOptions(mine);
    expect(mine).toEqual({ failureThreshold: 0.2 });
  });

  it('resolves over a base other than the defaults', () => {
    const base = resolveBreakerOptions({ resetTimeout: 2_000 });
    expect(resolveBreakerOptions({ jitter: 0 }, base)).toMatchObject({ resetTimeout: 2_000, jitter: 0 });
  });

  it('measures call durations (timed) only when the slow-call rule is on', () => {
    // A time window reads the clock once per outcome, but needs no duration.
    expect(resolveBreakerOptions({ windowType: 'time' }).timed).toBe(false);
    expect(resolveBreakerOptions({ slowCallRateThreshold: 0.9 }).timed).toBe(true);
    expect(resolveBreakerOptions({ slowCallRateThreshold: 1 }).timed).toBe(false);
  });

  it.each([
    [0.6, 5, 3],
    [0.5, 4, 2],
    [1, 7, 7],
    [0, 5, 1], // at least one successful probe closes
    [0.55, 100, 55], // 0.55 * 100 is 55.00000000000001 in floating point
    [0.56, 25, 14], // 0.56 * 25 is 14.000000000000002
    [0.7, 90, 63], // 0.7 * 90 is 62.99999999999999
    [0.51, 100, 51],
  ])('probesToClose for halfOpenSuccessThreshold %s of %s probes is %s', (threshold, limit, expected) => {
    expect(resolveBreakerOptions({ halfOpenSuccessThreshold: threshold, halfOpenRequestLimit: limit }).probesToClose).toBe(expected);
  });

  it("names the field and the value given: { failureThreshold: 1.5 } → 'breaker.failureThreshold must be between 0 and 1 …, got 1.5'", () => {
    const err = errorOf(() => resolveBreakerOptions({ failureThreshold: 1.5 }));
    expect(err.message).toContain('breaker.failureThreshold must be between 0 and 1');
    expect(err.message).toContain('got 1.5');
    expect(err.code).toBe('ESELFHEALCONFIG');
    expect(err.problems).toEqual([{ path: 'breaker.failureThreshold', message: err.message }]);
  });

  it.each([
    ['failureThreshold', -0.1, 'must be between 0 and 1'],
    ['failureThreshold', '0.5', 'must be a number between 0 and 1'],
    ['minimumRequests', 0, 'must be at least 1'],
    ['minimumRequests', 2.5, 'must be a whole number'],
    ['resetTimeout', -1, 'must be 0 or more milliseconds'],
    ['backoffMultiplier', 0.5, 'must be at least 1'],
    ['maxResetTimeout', 'soon', 'must be a number of milliseconds'],
    ['jitter', 1.2, 'must be between 0 and 1'],
    ['halfOpenRequestLimit', 0, 'must be at least 1'],
    ['halfOpenSuccessThreshold', 2, 'must be between 0 and 1'],
    ['windowType', 'sliding', "must be 'count' or 'time'"],
    ['windowSize', 0, 'must be at least 1'],
    ['windowSize', 100_001, 'must be at most 100000'],
    ['slowCallRateThreshold', -1, 'must be between 0 and 1'],
    ['slowCallDurationThreshold', -5, 'must be 0 or more milliseconds'],
  ])('rejects %s = %j with a message naming the field: "%s"', (field, value, message) => {
    const err = errorOf(() => resolveBreakerOptions({ [field]: value }));
    expect(err.message).toContain(`breaker.${field} ${message}`);
    expect(err.message).toContain(`got ${JSON.stringify(value)}`);
  });

  it('rejects a non-finite duration', () => {
    const err = errorOf(() => resolveBreakerOptions({ resetTimeout: Infinity }));
    expect(err.message).toContain('breaker.resetTimeout');
  });

  it('lists every bad field of one object', () => {
    const err = errorOf(() => resolveBreakerOptions({ failureThreshold: 3, windowSize: -1 }));
    expect(err.problems.map((p) => p.path).sort()).toEqual(['breaker.failureThreshold', 'breaker.windowSize']);
  });

  it('names an unknown key', () => {
    const err = errorOf(() => resolveBreakerOptions({ failureTreshold: 0.5 }));
    expect(err.message).toContain('breaker.failureTreshold is not a known option');
  });

  it('rejects minimumRequests above windowSize for a count window, since such a breaker could never open', () => {
    const err = errorOf(() => resolveBreakerOptions({ windowSize: 20, minimumRequests: 21 }));
    expect(err.message).toContain('breaker.minimumRequests (21) must not exceed breaker.windowSize (20)');
    expect(resolveBreakerOptions({ windowSize: 20, minimumRequests: 20 }).minimumRequests).toBe(20);
  });

  it('allows minimumRequests above windowSize for a time window', () => {
    expect(resolveBreakerOptions({ windowType: 'time', windowSize: 10, minimumRequests: 50 }).minimumRequests).toBe(50);
  });

  it('rejects maxResetTimeout below resetTimeout', () => {
    const err = errorOf(() => resolveBreakerOptions({ resetTimeout: 10_000, maxResetTimeout: 5_000 }));
    expect(err.message).toContain('breaker.maxResetTimeout (5000) must be at least breaker.resetTimeout (10000)');
  });

  it('uses the given prefix in every message', () => {
    const err = errorOf(() => resolveBreakerOptions({ jitter: 5 }, DEFAULT_BREAKER_OPTIONS, 'overrides["db"]'));
    expect(err.message).toContain('overrides["db"].jitter must be between 0 and 1');
  });
});

describe('CircuitBreaker options', () => {
  it('the constructor validates its options', () => {
    expect(() => new CircuitBreaker('svc', { failureThreshold: 1.5 })).toThrow(/breaker\.failureThreshold must be between 0 and 1.*got 1\.5/);
  });

  it('the constructor takes resolved options as they are', () => {
    const resolved = resolveBreakerOptions({ minimumRequests: 3 });
    expect(new CircuitBreaker('svc', resolved).options).toBe(resolved);
  });

  it('reconfigure() validates against the current options and applies the result', () => {
    const breaker = new CircuitBreaker('svc', { windowSize: 20, minimumRequests: 5 });
    expect(() => breaker.reconfigure({ minimumRequests: 50 })).toThrow('must not exceed breaker.windowSize (20)');
    breaker.reconfigure({ resetTimeout: 7_000 });
    expect(breaker.options).toMatchObject({ windowSize: 20, minimumRequests: 5, resetTimeout: 7_000 });
  });
});
