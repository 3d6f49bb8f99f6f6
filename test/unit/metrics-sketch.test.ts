import { quantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { DenseBins, LogSketch, SketchMapping, type BinsConfig } from '../../src/metrics/collector/LogSketch.js';
import { gaussian, rng } from './metrics-helpers.js';

const mapping = new SketchMapping(0.01);
const bins = (maxBins = 128, wide = false): BinsConfig => ({ maxBins, wide, meter: { bytes: 0 } });

function sketchOf(values: number[], config = bins(4096)): LogSketch {
  const s = new LogSketch(config);
  for (const v of values) s.add(v, 1, mapping);
  return s;
}

/** Relative distance to the nearest of the exact quantiles under the usual rank conventions. */
function relErr(estimate: number, sorted: number[], q: number): number {
  const n = sorted.length;
  const candidates = [quantileSorted(sorted, q), sorted[Math.max(0, Math.ceil(q * n) - 1)]!];
  return Math.min(...candidates.map((x) => (x === 0 ? Math.abs(estimate) : Math.abs(estimate - x) / Math.abs(x))));
}

describe('LogSketch', () => {
  it('gives quantiles of a log-normal latency sample within the relative accuracy', () => {
    const g = gaussian(rng(1));
    const values = Array.from({ length: 20_000 }, () => Math.exp(3 + g()));
    const sorted = [...values].sort((a, b) => a - b);
    const s = sketchOf(values);
    for (const q of [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      expect(relErr(s.quantile(q, mapping), sorted, q)).toBeLessThanOrEqual(0.0101);
    }
  });

  it('orders negative values, zeros and positive values', () => {
    const values = [-100, -10, -1, 0, 0, 1, 10, 100, 1000];
    const s = sketchOf(values);
    expect(s.sketchCount).toBe(9);
    expect(s.quantile(0, mapping)).toBeCloseTo(-100, 0);
    expect(s.quantile(3 / 8, mapping)).toBe(0);
    expect(Math.abs(s.quantile(1, mapping) - 1000) / 1000).toBeLessThanOrEqual(0.01);
    expect(Math.abs(s.quantile(1 / 8, mapping) + 10) / 10).toBeLessThanOrEqual(0.01);
  });

  it('stays within maxBins and keeps the high quantiles exact when the spread is too wide', () => {
    const config = bins(64);
    const s = new LogSketch(config);
    const values = Array.from({ length: 10_000 }, (_, i) => 1 + i); // 1 .. 10,000: 10^4 spread, ~460 bins at 1 %
    for (const v of values) s.add(v, 1, mapping);
    expect(s.pos!.counts.length).toBeLessThanOrEqual(64);
    expect(config.meter.bytes).toBeLessThanOrEqual(64 * 2 + 240);
    expect(relErr(s.quantile(0.99, mapping), values, 0.99)).toBeLessThanOrEqual(0.0101);
    expect(relErr(s.quantile(0.95, mapping), values, 0.95)).toBeLessThanOrEqual(0.0101);
    expect(s.sketchCount).toBe(10_000);
  });

  it('merges into the same answer as one sketch of all the values', () => {
    const r = rng(7);
    const a = Array.from({ length: 5_000 }, () => 1 + r() * 50);
    const b = Array.from({ length: 5_000 }, () => 40 + r() * 400);
    const merged = new LogSketch(bins(2048));
    merged.merge(sketchOf(a, bins(512)));
    merged.merge(sketchOf(b, bins(512)));
    const whole = sketchOf([...a, ...b]);
    for (const q of [0.5, 0.95, 0.99]) expect(merged.quantile(q, mapping)).toBe(whole.quantile(q, mapping));
    // Parts that had to collapse their low end (1..51 spans ~200 bins) still merge to the same tail.
    const collapsed = new LogSketch(bins(2048));
    collapsed.merge(sketchOf(a, bins(128)));
    collapsed.merge(sketchOf(b, bins(128)));
    for (const q of [0.95, 0.99]) expect(collapsed.quantile(q, mapping)).toBe(whole.quantile(q, mapping));
  });

  it('sums many stores into one dense store, or merges them when their joint range is too wide', () => {
    const r = rng(9);
    const parts = Array.from({ length: 30 }, (_, k) => sketchOf(Array.from({ length: 200 }, () => (k + 1) * (1 + r())), bins(128)));
    const merged = new LogSketch(bins(2048, true));
    for (const p of parts) merged.merge(p);
    const dense = new LogSketch(bins(2048, true));
    dense.pos = DenseBins.sumOf(parts.map((p) => p.pos!), bins(2048, true));
    const narrow = new LogSketch(bins(2048, true));
    narrow.pos = DenseBins.sumOf(parts.map((p) => p.pos!), bins(2048, true), 16); // forces the merge path
    for (const q of [0.01, 0.5, 0.95, 0.99]) {
      expect(dense.quantile(q, mapping)).toBe(merged.quantile(q, mapping));
      expect(narrow.quantile(q, mapping)).toBe(merged.quantile(q, mapping));
    }
    expect(dense.sketchCount).toBe(6_000);
    expect(DenseBins.sumOf([], bins())).toBeUndefined();
  });

  it('reuses its memory after a reset', () => {
    const config = bins();
    const s = sketchOf([1, 2, 3, 50], config);
    const bytes = config.meter.bytes;
    s.resetSketch();
    expect(s.sketchCount).toBe(0);
    expect(Number.isNaN(s.quantile(0.5, mapping))).toBe(true);
    s.add(2, 1, mapping);
    expect(config.meter.bytes).toBe(bytes);
    expect(s.quantile(0.5, mapping)).toBeCloseTo(2, 1);
  });

  it('counts values closer to 0 than 1e-300 as 0 and handles values up to 1e290', () => {
    const s = sketchOf([1e-320, -1e-310, 1e290, -1e290]);
    expect(s.zero).toBe(2);
    expect(Math.abs(s.quantile(1, mapping) - 1e290) / 1e290).toBeLessThanOrEqual(0.01);
    expect(Math.abs(s.quantile(0, mapping) + 1e290) / 1e290).toBeLessThanOrEqual(0.01);
  });
});

describe('DenseBins counts', () => {
  it('move to wider arrays instead of wrapping: Uint16, then Uint32 past 65,535, then Float64 past 2^32 − 1', () => {
    const s = new LogSketch(bins());
    s.add(5, 1, mapping);
    expect(s.pos!.counts).toBeInstanceOf(Uint16Array);
    s.add(5, 0xffff, mapping);
    expect(s.pos!.counts).toBeInstanceOf(Uint32Array);
    s.add(5, 0xffffffff, mapping);
    s.add(7, 10, mapping);
    expect(s.pos!.counts).toBeInstanceOf(Float64Array);
    expect(s.sketchCount).toBe(1 + 0xffff + 0xffffffff + 10);
    expect(s.quantile(0.5, mapping)).toBeCloseTo(5, 1);
    expect(s.quantile(1, mapping)).toBeCloseTo(7, 1);
  });
});

describe('DenseBins window', () => {
  it('slides in place, keeping the top and folding what falls off the bottom into the lowest bin', () => {
    const config = bins(16);
    const b = new DenseBins(config);
    for (let i = 0; i < 16; i++) b.add(100 + i, 1); // fills the window exactly
    const array = b.counts;
    b.add(120, 1); // 5 above: slides up by 5, folding 100..105 into 105
    expect(b.counts).toBe(array);
    expect(b.offset).toBe(105);
    expect(b.counts[0]).toBe(6);
    expect(b.total).toBe(17);
    b.add(90, 1); // below a top-aligned window: into the lowest bin
    expect(b.counts[0]).toBe(7);
    b.add(50, 3); // far above: every old count folds into the lowest bin of the new window
    b.add(500, 1);
    expect(b.offset).toBe(485);
    expect(b.counts[0]).toBe(21);
    expect(b.hi).toBe(500);
    expect(b.counts).toBe(array);
  });

  it('slides down into spare room above before collapsing anything', () => {
    const b = new DenseBins(bins(16));
    b.add(100, 1);
    for (let i = 101; i < 110; i++) b.add(i, 1); // 10 bins used in a 16 (or fewer) slot window
    b.add(95, 1); // fits in 16 with 100..109: no collapse
    expect(b.lo).toBe(95);
    expect(b.counts[95 - b.offset]).toBe(1);
    expect(b.total).toBe(11);
  });
});
