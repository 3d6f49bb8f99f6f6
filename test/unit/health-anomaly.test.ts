import { describe, expect, it } from 'vitest';
import { HealthMonitor, type AnomalyEvent } from '../../src/health/index.js';
import { createAnomalyDetector } from '../../src/metrics/index.js';
import { fakeClock } from './breaker-helpers.js';
import { rng } from '../support/random.js';


describe('latency anomalies feed health', () => {
  it('a latency shift well under the thresholds makes the downstream degraded, with a selfheal.anomaly event', () => {
    const random = rng(3);
    const clock = fakeClock(0);
    const monitor = new HealthMonitor({}, { clock, detector: () => createAnomalyDetector() });
    const anomalies: AnomalyEvent[] = [];
    monitor.onAnomaly((e) => anomalies.push(e));
    const statuses: string[] = [];
    monitor.onChange((c) => statuses.push(c.to.kind === 'healthy' ? 'healthy' : `${c.to.kind}: ${c.to.reason}`));
    const run = (seconds: number, latency: () => number) => {
      for (let s = 0; s < seconds; s++) {
        for (let q = 0; q < 4; q++) {
          for (let i = 0; i < 5; i++) {
            clock.advance(50);
            monitor.observe('http://inventory:80', 'downstream', false, latency());
          }
          monitor.evaluate();
        }
      }
    };
    run(600, () => 40 + 10 * random()); // 10 minutes of steady 40-50 ms
    expect(anomalies).toEqual([]);
    expect(statuses).toEqual([]);
    run(30, () => 200 + 20 * random()); // 4x slower, still far below the 1 s threshold
    expect(anomalies.length).toBeGreaterThan(0);
    expect(anomalies[0]).toMatchObject({ component: 'http://inventory:80', metric: 'latency' });
    expect(statuses[0]).toMatch(/^degraded: latency anomaly \(score [01]\.\d\d\)$/);
    expect(monitor.anomalyScores()[0]!.score).toBeGreaterThanOrEqual(0);
  });
});
