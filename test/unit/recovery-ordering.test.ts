import { describe, expect, it } from 'vitest';
import type { HealthStatus } from '../../src/health/index.js';
import { RecoveryManager, type RecoveryEvents } from '../../src/recovery/index.js';
import { StrategyStats } from '../../src/recovery/StrategyStats.js';
import { rng as mulberry32 } from '../support/random.js';

const FAILED: HealthStatus = { kind: 'failed', reason: 'response time 6000 ms >= critical threshold 5000 ms' };


describe('StrategyStats', () => {
  const never = () => 0.99;

  it('keeps the plan order while nothing is known', () => {
    const s = new StrategyStats();
    expect(s.order(['restart', 'reconfigure', 'fallback'], 'latency', 0.1, never)).toEqual({
      strategies: ['restart', 'reconfigure', 'fallback'],
      explored: false,
    });
  });

  it('puts the strategy that has worked most often for this failure type first', () => {
    const s = new StrategyStats();
    for (let i = 0; i < 3; i++) {
      s.record('restart', 'latency', false, 10, false);
      s.record('reconfigure', 'latency', true, 10, false);
    }
    expect(s.order(['restart', 'reconfigure', 'fallback'], 'latency', 0, never).strategies).toEqual(['reconfigure', 'fallback', 'restart']);
    // Another failure type has its own record.
    expect(s.order(['restart', 'reconfigure'], 'error-rate', 0, never).strategies).toEqual(['restart', 'reconfigure']);
    expect(s.list().find((x) => x.strategy === 'reconfigure')).toMatchObject({ attempts: 3, successes: 3, successRate: 1, meanDurationMs: 10 });
  });

  it('explores: with probability epsilon a random strategy goes first', () => {
    const s = new StrategyStats();
    for (let i = 0; i < 5; i++) s.record('reconfigure', 'latency', true, 1, false);
    const draws = [0.05, 0.9]; // 0.05 < epsilon: explore; 0.9 picks the last of three
    const r = () => draws.shift()!;
    expect(s.order(['restart', 'reconfigure', 'fallback'], 'latency', 0.1, r)).toEqual({
      strategies: ['fallback', 'reconfigure', 'restart'],
      explored: true,
    });
  });

  it('stays bounded whatever the number of failure types', () => {
    const s = new StrategyStats(3);
    for (let i = 0; i < 100; i++) s.record('restart', `type-${i}`, true, 1, false);
    const types = new Set(s.list().map((x) => x.failureType));
    expect(types.size).toBe(4);
    expect(types.has('(other)')).toBe(true);
  });
});

describe('RecoveryManager: learning the strategy order', () => {
  it('learns from success rates which strategy to try first for a failure type, still exploring now and then', async () => {
    const m = new RecoveryManager({
      verifyWindowMs: 0,
      exploration: 0.2,
      random: mulberry32(42),
      plans: [{ failureType: 'latency', primary: 'restart', fallbacks: ['reconfigure'], retryDelayMs: 0 }],
    });
    m.start();
    // A restart never cures latency here; a reconfiguration always does.
    let health: HealthStatus = FAILED;
    m.register({
      name: 'svc',
      restart: async () => undefined,
      reconfigure: async () => {
        health = { kind: 'healthy' };
      },
      checkHealth: async () => health,
    });
    const firsts: string[] = [];
    m.on('recovery-started', (e: RecoveryEvents['recovery-started']) => firsts.push(e.strategies[0]!));
    for (let i = 0; i < 40; i++) {
      health = FAILED;
      expect((await m.requestRecovery('svc', 'latency', FAILED)).outcome).toBe('recovered');
    }
    expect(firsts[0]).toBe('restart');
    const late = firsts.slice(10);
    expect(late.filter((s) => s === 'reconfigure').length).toBeGreaterThan(late.length * 0.7);
    expect(late).toContain('restart'); // exploration
    const stats = m.stats().strategies;
    expect(stats.find((s) => s.strategy === 'reconfigure')).toMatchObject({ failureType: 'latency', successRate: 1 });
    expect(stats.find((s) => s.strategy === 'restart')).toMatchObject({ failureType: 'latency', successRate: 0 });
    expect(m.stats().outcomes.recovered).toBe(40);
  });
});
