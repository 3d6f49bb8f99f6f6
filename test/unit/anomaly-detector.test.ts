import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../src/config/index.js';
import {
  DEFAULT_ANOMALY_DETECTOR_OPTIONS,
  createAnomalyDetector,
  resolveAnomalyDetectorOptions,
  type AnomalyDetector,
} from '../../src/metrics/anomaly/index.js';
import { rng } from '../support/random.js';

const FIVE_MIN = 300_000;
const T0 = Date.UTC(2024, 0, 1);


/** Standard normal draws (Box–Muller) from a seeded PRNG. */
function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Feeds `values` at 5-minute spacing; returns the results. */
function feed(detector: AnomalyDetector, values: number[], start = T0) {
  return values.map((v, i) => detector.update(v, start + i * FIVE_MIN));
}

function noise(n: number, seed: number, mean = 100, sd = 5): number[] {
  const g = gaussian(seed);
  return Array.from({ length: n }, () => mean + sd * g());
}

function errorOf(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected a ConfigValidationError, nothing was thrown');
}

describe('anomaly detector: detection', () => {
  it('flags an injected spike in Gaussian noise on the spike itself', () => {
    const values = noise(3000, 1);
    values[2500] = 100 + 5 * 12; // 12 sigma
    const results = feed(createAnomalyDetector(), values);
    expect(results[2500]!.anomalous).toBe(true);
    expect(results[2500]!.score).toBeGreaterThanOrEqual(DEFAULT_ANOMALY_DETECTOR_OPTIONS.threshold);
    expect(results.slice(2400, 2500).some((r) => r.anomalous)).toBe(false);
  });

  it('flags a level shift within a few values of its start', () => {
    const values = noise(3000, 2);
    for (let i = 2000; i < 3000; i++) values[i]! += 5 * 6; // +6 sigma from here on
    const results = feed(createAnomalyDetector(), values);
    const first = results.findIndex((r, i) => i >= 2000 && r.anomalous);
    expect(first).toBeGreaterThanOrEqual(2000);
    expect(first).toBeLessThan(2010);
    // One alert per incident: the shifted level does not alert again.
    expect(results.slice(first + 1).some((r) => r.anomalous)).toBe(false);
  });

  it('holds the score at 0 after an alert, until the series has been calm for `rearm` values', () => {
    const values = noise(2500, 9);
    values[1500] = 200; // alert
    values[1520] = 200; // same incident: suppressed
    values[1700] = 20; // a different event, after 100+ calm values: a new incident
    const results = feed(createAnomalyDetector({ cooldown: 300, rearm: 100 }), values);
    expect(results[1500]!.anomalous).toBe(true);
    expect(results[1520]).toEqual({ score: 0, anomalous: false });
    expect(results[1700]!.anomalous).toBe(true);
    const never = feed(createAnomalyDetector({ cooldown: 300, rearm: 0 }), values);
    expect(never[1700]).toEqual({ score: 0, anomalous: false });
  });

  it('flags a missing daily jump (time-of-day context)', () => {
    // A square wave, high from 08:00 to 18:00 each day, with noise; on day 8 it stays low.
    const g = gaussian(3);
    const values: number[] = [];
    const perDay = 288;
    for (let i = 0; i < perDay * 9; i++) {
      const minute = (i % perDay) * 5;
      const day = Math.floor(i / perDay);
      const high = minute >= 480 && minute < 1080 && day !== 8;
      values.push((high ? 80 : 20) + 2 * g());
    }
    const results = feed(createAnomalyDetector(), values);
    const jumpAt = 8 * perDay + 96; // 08:00 on day 8
    const hit = results.findIndex((r, i) => i >= jumpAt && r.anomalous);
    expect(hit).toBeGreaterThanOrEqual(jumpAt);
    expect(hit).toBeLessThan(jumpAt + 60);
    expect(results.slice(2 * perDay, 8 * perDay).filter((r) => r.anomalous).length).toBe(0);
  });

  it('stays quiet on stationary Gaussian noise: under 1% of values flagged after warm-up, even without cooldown', () => {
    const values = noise(5000, 4);
    const warmup = DEFAULT_ANOMALY_DETECTOR_OPTIONS.warmup;
    const raw = feed(createAnomalyDetector({ cooldown: 0 }), values).slice(warmup);
    const rate = raw.filter((r) => r.anomalous).length / raw.length;
    expect(rate).toBeLessThan(0.01);
    const withCooldown = feed(createAnomalyDetector(), values).slice(warmup);
    expect(withCooldown.filter((r) => r.anomalous).length).toBeLessThanOrEqual(2);
  });

  it('stays quiet on a flat line and on a clean daily pattern', () => {
    const flat = feed(createAnomalyDetector(), new Array<number>(3000).fill(45));
    expect(flat.some((r) => r.anomalous)).toBe(false);
    const daily = Array.from({ length: 288 * 10 }, (_, i) => 50 + 30 * Math.sin((2 * Math.PI * i) / 288));
    expect(feed(createAnomalyDetector(), daily).some((r, i) => i > 288 * 2 && r.anomalous)).toBe(false);
  });

  it('scores 0 during warm-up and always within [0, 1]', () => {
    const g = gaussian(5);
    const d = createAnomalyDetector({ warmup: 200 });
    for (let i = 0; i < 4000; i++) {
      // heavy tails and jumps: the score must stay a probability-like number
      const v = i % 997 === 0 ? 1e9 : g() ** 3 * 10;
      const r = d.update(v, T0 + i * FIVE_MIN);
      if (i < 200) expect(r.score).toBe(0);
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.anomalous).toBe(r.score >= 0.5);
    }
  });
});

describe('anomaly detector: awkward input', () => {
  it('ignores NaN and ±Infinity: score 0, no throw, and no effect on later scores', () => {
    const values = noise(1500, 6);
    values[1200] = 200;
    const clean = createAnomalyDetector();
    const dirty = createAnomalyDetector();
    for (let i = 0; i < values.length; i++) {
      const t = T0 + i * FIVE_MIN;
      const expected = clean.update(values[i]!, t);
      if (i % 50 === 0) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          expect(dirty.update(bad, t)).toEqual({ score: 0, anomalous: false });
        }
      }
      expect(dirty.update(values[i]!, t)).toEqual(expected);
    }
    expect(dirty.count).toBe(values.length);
  });

  it('accepts repeated, backward and non-finite timestamps and long gaps without throwing', () => {
    const d = createAnomalyDetector();
    const values = noise(3000, 7);
    let t = T0;
    for (let i = 0; i < values.length; i++) {
      if (i % 100 === 0) t -= 3_600_000; // step back an hour
      else if (i % 333 === 0) t += 45 * 3_600_000; // a 45-hour gap
      else if (i % 7 !== 0) t += FIVE_MIN; // every 7th timestamp repeats
      const ts = i % 501 === 0 ? Number.NaN : t;
      const r = d.update(values[i]!, ts);
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
    }
  });
});

describe('anomaly detector: bounded memory', () => {
  it('never holds more than its stated cap, 104,480 bytes with the defaults, after 1e5 updates', () => {
    const d = createAnomalyDetector();
    const { capacity, bytes } = d.footprint();
    // Per scale: values + times rings of (history + window), two calibration rings; one shared
    // sort scratch of `calibration` numbers.
    const o = DEFAULT_ANOMALY_DETECTOR_OPTIONS;
    const expected = o.scales.length * (2 * (o.history + o.window) + 2 * o.calibration) + o.calibration;
    expect(capacity).toBe(expected);
    expect(bytes).toBe(104_480);
    const g = gaussian(8);
    for (let i = 0; i < 100_000; i++) {
      d.update(50 + 5 * g() + (i % 5000 === 0 ? 100 : 0), T0 + i * 60_000);
      if (i % 10_000 === 0) expect(d.footprint().held).toBeLessThanOrEqual(capacity);
    }
    const after = d.footprint();
    expect(after.capacity).toBe(capacity);
    expect(after.held).toBe(capacity); // every ring full, none grown
  }, 60_000);

  it('scales its cap with the options', () => {
    const d = createAnomalyDetector({ history: 200, calibration: 200, scales: [1], contextMinutes: 0 });
    expect(d.footprint().capacity).toBe(2 * (200 + 10) + 2 * 200 + 200);
  });
});

describe('anomaly detector: options', () => {
  it('fills every option from the defaults and freezes the result', () => {
    const o = resolveAnomalyDetectorOptions(undefined);
    expect(o).toEqual(DEFAULT_ANOMALY_DETECTOR_OPTIONS);
    expect(Object.isFrozen(o)).toBe(true);
    const mine = { threshold: 0.7 };
    expect(resolveAnomalyDetectorOptions(mine).threshold).toBe(0.7);
    expect(mine).toEqual({ threshold: 0.7 });
  });

  it.each([
    [{ threshold: 1.5 }, 'anomaly.threshold'],
    [{ window: 2.5 }, 'anomaly.window'],
    [{ history: 0 }, 'anomaly.history'],
    [{ neighbours: 'three' }, 'anomaly.neighbours'],
    [{ scales: [] }, 'anomaly.scales'],
    [{ scales: [1, 0.5] }, 'anomaly.scales[1]'],
    [{ contextMinutes: -1 }, 'anomaly.contextMinutes'],
    [{ tailFraction: 0 }, 'anomaly.tailFraction'],
    [{ cooldown: -5 }, 'anomaly.cooldown'],
    [{ rangeTolerance: Number.NaN }, 'anomaly.rangeTolerance'],
  ])('rejects %j naming %s', (options, field) => {
    const err = errorOf(() => createAnomalyDetector(options as never));
    expect(err.problems[0]!.path).toBe(field);
    expect(err.message).toContain(field);
  });

  it('rejects unknown options, scales out of order and a history too short to compare', () => {
    expect(errorOf(() => createAnomalyDetector({ windw: 5 } as never)).message).toContain('anomaly.windw');
    expect(errorOf(() => createAnomalyDetector({ scales: [4, 1] })).message).toMatch(/anomaly\.scales must be strictly increasing/);
    expect(errorOf(() => createAnomalyDetector({ history: 20, window: 10 })).message).toContain('anomaly.history');
  });
});
