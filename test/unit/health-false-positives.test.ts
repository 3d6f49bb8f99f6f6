import { describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../src/health/index.js';
import { createAnomalyDetector } from '../../src/metrics/index.js';
import { fakeClock } from './breaker-helpers.js';
import { rng } from '../support/random.js';


/**
 * Healthy traffic with realistic noise: log-normal latency (median 50 ms, heavy tail), 1% errors,
 * 0.3% of calls caught in an 800 ms pause (GC, cold cache). Returns the share of evaluations in
 * which the component was not healthy.
 */
function falsePositiveRate(rps: number, minutes: number, seed: number): number {
  const random = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const clock = fakeClock(0);
  // As the plugin runs it: with the latency anomaly detector.
  const monitor = new HealthMonitor({}, { clock, detector: () => createAnomalyDetector() });
  let evaluations = 0;
  let unhealthy = 0;
  const tickMs = 250;
  const perTick = (rps * tickMs) / 1000;
  let carry = 0;
  for (let t = 0; t < minutes * 60_000; t += tickMs) {
    carry += perTick;
    while (carry >= 1) {
      carry--;
      clock.advance(tickMs / (perTick + 1));
      const latency = random() < 0.003 ? 800 : 50 * Math.exp(0.7 * normal());
      monitor.observe('http://steady:80', 'downstream', random() < 0.01, latency);
    }
    clock.t = t + tickMs;
    monitor.evaluate();
    if (t > 10_000) {
      evaluations++;
      if (monitor.component('http://steady:80')?.status.kind !== 'healthy') unhealthy++;
    }
  }
  return unhealthy / evaluations;
}

describe('false positives on healthy, noisy traffic', () => {
  it.each([
    [50, 20],
    [5, 30],
    [1, 30],
  ])('stay under one percent of evaluations at %d calls/s over %d simulated minutes', (rps, minutes) => {
    const rate = falsePositiveRate(rps, minutes, 42 + rps);
    expect(rate).toBeLessThan(0.01);
  });
});
