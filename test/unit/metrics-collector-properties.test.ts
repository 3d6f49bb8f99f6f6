import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsCollector, OVERFLOW_TAGS } from '../../src/metrics/index.js';
import { fakeClock } from './metrics-helpers.js';

/** A tag object built from pairs in the order given (so the same set arrives in many key orders). */
const tagObject = fc
  .array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'long.key'), fc.constantFrom('x', 'y', '1')), { maxLength: 4 })
  .map((pairs) => Object.fromEntries(pairs) as Record<string, string>);

const canonical = (tags: Record<string, string>) =>
  JSON.stringify(Object.keys(tags).sort().map((k) => [k, tags[k]]));

describe('MetricsCollector series lookup properties', () => {
  it('every value lands in the series of its tag set, whatever the key order; past maxSeries in the overflow series', () => {
    fc.assert(
      fc.property(fc.array(tagObject, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (records, maxSeries, handles) => {
        const collector = new MetricsCollector({ clock: fakeClock(), maxSeries });
        const admitted = new Map<string, number>();
        let overflow = 0;
        for (const tags of records) {
          if (handles) collector.counter('m', tags).add(1);
          else collector.recordMetric('m', 1, tags, 'counter');
          const key = canonical(tags);
          if (admitted.has(key)) admitted.set(key, admitted.get(key)! + 1);
          else if (admitted.size < maxSeries) admitted.set(key, 1);
          else overflow++;
        }
        for (const [key, count] of admitted) {
          const tags = Object.fromEntries(JSON.parse(key) as Array<[string, string]>);
          expect(collector.requestAggregation('m', 1_000, tags)?.sum).toBe(count);
        }
        expect(collector.requestAggregation('m', 1_000, OVERFLOW_TAGS)?.sum).toBe(overflow || undefined);
        expect(collector.requestAggregation('m', 1_000)!.sum).toBe(records.length);
        expect(collector.stats().series).toBe(admitted.size + (overflow > 0 ? 1 : 0));
      }),
    );
  });
});
