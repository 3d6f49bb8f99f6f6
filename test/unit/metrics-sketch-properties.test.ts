import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DenseBins, LogSketch, SketchMapping, type BinsConfig } from '../../src/metrics/collector/LogSketch.js';

const mapping = new SketchMapping(0.01);
const config = (maxBins: number, wide = false): BinsConfig => ({ maxBins, wide, meter: { bytes: 0 } });
/** Magnitudes from 1e-6 to 1e9, either sign, some zeros: the spread that makes stores slide and collapse. */
const value = fc.oneof(
  fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
  fc.double({ min: -1e9, max: -1e-6, noNaN: true }),
  fc.constant(0),
);

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length - 1e-9 * sorted.length) - 1)]!;
}

describe('LogSketch properties', () => {
  it('without collapsing, every quantile is within the relative accuracy of the nearest-rank value', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, q) => {
        const s = new LogSketch(config(8_192));
        for (const v of values) s.add(v, 1, mapping);
        const exact = nearestRank([...values].sort((a, b) => a - b), q);
        const est = s.quantile(q, mapping);
        if (exact === 0) expect(est).toBe(0);
        else expect(Math.abs(est - exact) / Math.abs(exact)).toBeLessThanOrEqual(0.01 + 1e-12);
      }),
    );
  });

  it('with a small bound, keeps every count, stays within maxBins and keeps the maximum within accuracy', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.integer({ min: 16, max: 64 }), (values, maxBins) => {
        const bins = config(maxBins);
        const s = new LogSketch(bins);
        for (const v of values) s.add(v, 1, mapping);
        expect(s.sketchCount).toBe(values.length);
        for (const store of [s.pos, s.neg]) {
          if (!store) continue;
          expect(store.counts.length).toBeLessThanOrEqual(maxBins);
          let sum = 0;
          for (const c of store.counts) sum += c;
          expect(sum).toBe(store.total);
        }
        const max = Math.max(...values);
        const est = s.quantile(1, mapping);
        if (max > 0) expect(Math.abs(est - max) / max).toBeLessThanOrEqual(0.01 + 1e-12);
        expect(bins.meter.bytes).toBe(s.sketchBytes);
      }),
    );
  });

  it('merging sketches, or summing their stores, gives the sketch of all the values', () => {
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 60 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const sketches = parts.map((p) => {
          const s = new LogSketch(config(8_192));
          for (const v of p) s.add(v, 1, mapping);
          return s;
        });
        const whole = new LogSketch(config(8_192));
        for (const p of parts) for (const v of p) whole.add(v, 1, mapping);
        const merged = new LogSketch(config(8_192, true));
        for (const s of sketches) merged.merge(s);
        const summed = new LogSketch(config(8_192, true));
        summed.pos = DenseBins.sumOf(sketches.flatMap((s) => (s.pos ? [s.pos] : [])), config(8_192, true));
        summed.neg = DenseBins.sumOf(sketches.flatMap((s) => (s.neg ? [s.neg] : [])), config(8_192, true));
        summed.zero = sketches.reduce((n, s) => n + s.zero, 0);
        for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) {
          expect(merged.quantile(q, mapping)).toBe(whole.quantile(q, mapping));
          expect(summed.quantile(q, mapping)).toBe(whole.quantile(q, mapping));
        }
      }),
    );
  });
});
