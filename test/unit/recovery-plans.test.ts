import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../src/config/index.js';
import { classify, DEFAULT_THRESHOLDS } from '../../src/health/index.js';
import { DEFAULT_PLAN, RecoveryManager, failureTypeOf, resolvePlan } from '../../src/recovery/index.js';

/** The error `fn` throws (the test fails when it throws nothing). */
function thrown(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('recovery plans', () => {
  it('fills in the defaults of a minimal plan', () => {
    expect(resolvePlan({ failureType: 'latency', primary: 'reconfigure' })).toEqual({
      failureType: 'latency',
      primary: 'reconfigure',
      fallbacks: [],
      maxRetries: 0,
      retryDelayMs: 1000,
      backoffMultiplier: 2,
      verifyWindowMs: undefined,
      metadata: {},
    });
  });

  it('rejects negative retries naming the plan and the field, and leaves the running plans as they were', () => {
    const m = new RecoveryManager();
    m.addPlan({ failureType: 'connection-refused', primary: 'restart', maxRetries: 2 });
    const before = m.plans();
    const err = thrown(() => m.addPlan({ failureType: 'connection-refused', primary: 'fallback', maxRetries: -1 }));
    expect(err.message).toBe('plans["connection-refused"].maxRetries must be 0 or more, got -1');
    expect(err.code).toBe('ESELFHEALCONFIG');
    expect(err.problems[0]!.path).toBe('plans["connection-refused"].maxRetries');
    expect(m.plans()).toEqual(before);
    expect(m.planFor('connection-refused').maxRetries).toBe(2);
  });

  it('rejects an unknown strategy, as primary or as a fallback, listing the known ones', () => {
    const primary = thrown(() => resolvePlan({ failureType: 'x', primary: 'reboot' }));
    expect(primary.message).toBe(
      'plans["x"].primary must be one of restart, reconfigure, fallback, scale-resources, manual-intervention, got "reboot"',
    );
    const fallback = thrown(() => resolvePlan({ failureType: 'x', primary: 'restart', fallbacks: ['fallback', 'pray'] }));
    expect(fallback.problems.map((p) => p.path)).toEqual(['plans["x"].fallbacks[1]']);
    expect(fallback.message).toContain('got "pray"');
  });

  it('rejects strategies after manual intervention, repeated strategies and unknown fields', () => {
    const after = thrown(() => resolvePlan({ failureType: 'x', primary: 'restart', fallbacks: ['manual-intervention', 'fallback'] }));
    expect(after.message).toBe('plans["x"].fallbacks[1] comes after manual-intervention, which ends the chain, got "fallback"');
    const repeat = thrown(() => resolvePlan({ failureType: 'x', primary: 'restart', fallbacks: ['restart'] }));
    expect(repeat.message).toContain('plans["x"].fallbacks[0] repeats "restart"');
    const unknown = thrown(() => resolvePlan({ failureType: 'x', primary: 'restart', retries: 3 }));
    expect(unknown.message).toContain('plans["x"].retries is not a known option');
  });

  it('rejects bad delays, multipliers and a missing failure type', () => {
    expect(thrown(() => resolvePlan({ failureType: 'x', primary: 'restart', retryDelayMs: -5 })).problems[0]!.path).toBe('plans["x"].retryDelayMs');
    expect(thrown(() => resolvePlan({ failureType: 'x', primary: 'restart', backoffMultiplier: 0.5 })).message).toContain(
      'plans["x"].backoffMultiplier must be 1 or more',
    );
    expect(thrown(() => resolvePlan({ primary: 'restart' })).message).toBe('plans.failureType must be a non-empty string, got nothing');
  });

  it('adds several plans all or none', () => {
    const m = new RecoveryManager();
    const err = thrown(() =>
      m.addPlans([
        { failureType: 'a', primary: 'restart' },
        { failureType: 'b', primary: 'restart', maxRetries: -1 },
        { failureType: 'a', primary: 'fallback' },
      ]),
    );
    expect(err.problems.map((p) => p.path)).toEqual(['plans["b"].maxRetries', 'plans["a"]']);
    expect(m.plans()).toEqual([]);
    expect(() => new RecoveryManager({ plans: [{ failureType: 'a', primary: 'nope' as 'restart' }] })).toThrow('plans["a"].primary must be one of');
  });

  it('picks the failure type\'s plan, else the "*" plan, else the built-in default', () => {
    const m = new RecoveryManager({ plans: [{ failureType: 'latency', primary: 'scale-resources' }] });
    expect(m.planFor('latency').primary).toBe('scale-resources');
    expect(m.planFor('error-rate')).toBe(DEFAULT_PLAN);
    m.addPlan({ failureType: '*', primary: 'fallback' });
    expect(m.planFor('error-rate').primary).toBe('fallback');
    expect(m.removePlan('latency')).toBe(true);
    expect(m.removePlan('latency')).toBe(false);
    expect(m.planFor('latency').primary).toBe('fallback');
  });

  it('rejects bad manager options naming the field', () => {
    expect(() => new RecoveryManager({ maxConcurrent: 0 })).toThrow('recovery.maxConcurrent must be a whole number of at least 1, got 0');
    expect(() => new RecoveryManager({ exploration: 2 })).toThrow('recovery.exploration must be from 0 to 1, got 2');
    expect(() => new RecoveryManager({ triggerOn: ['broken' as 'failed'] })).toThrow('recovery.triggerOn[0]');
  });
});

describe('failure types from health reasons', () => {
  const t = DEFAULT_THRESHOLDS;
  it.each([
    [classify({ timestamp: 0, errorRate: 0.6 }, t), 'error-rate'],
    [classify({ timestamp: 0, responseTime: 6000 }, t), 'latency'],
    [classify({ timestamp: 0, cpuUsage: 0.99 }, t), 'cpu'],
    [classify({ timestamp: 0, memoryUsage: 0.99 }, t), 'memory'],
    [{ kind: 'degraded', reason: 'latency anomaly (score 0.97)' }, 'anomaly'],
    [{ kind: 'failed', reason: 'svc: error rate 60.0% >= failed threshold 50.0%' }, 'error-rate'],
    [{ kind: 'failed', reason: 'GET http://127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1' }, 'connection-refused'],
    [{ kind: 'failed', reason: 'health check timed out after 100 ms' }, 'timeout'],
    [{ kind: 'failed', reason: 'the check returned false' }, 'check-failed'],
  ] as const)('%o is %s', (status, type) => {
    expect(failureTypeOf(status)).toBe(type);
  });
});
