import { describe, expect, it } from 'vitest';

// The NAB scorer is plain ESM JavaScript in bench/ (no type declarations): typed here by hand.
interface Profile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}
interface Window {
  start: number;
  end: number;
}
interface Swept {
  scores: Float64Array;
  sweep: Float64Array;
  window: Int32Array;
  numWindows: number;
}
interface ScorerModule {
  PROFILES: Record<'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate', Profile>;
  probationaryLength(numRows: number, probationPercent?: number): number;
  scaledSigmoid(x: number): number;
  windowIndices(timestamps: string[], windows: Array<[string, string]>): Window[];
  sweepFile(scores: ArrayLike<number>, windows: Window[], profile: Profile): Swept;
  scoresByThreshold(files: Swept[], profile: Profile): Array<{ threshold: number; score: number; tp: number; tn: number; fp: number; fn: number }>;
  scoreAtThreshold(swept: Swept, profile: Profile, threshold: number): { score: number; detectedWindows: number; missedWindows: number; falsePositives: number };
  scoreCorpus(
    corpus: Array<{ name: string; scores: ArrayLike<number>; windows: Window[] }>,
    profile: Profile,
  ): { threshold: number; raw: number; nullScore: number; perfect: number; normalized: number };
}

const scorer = (await import(new URL('../../bench/nab-scorer.mjs', import.meta.url).href)) as ScorerModule;
const { PROFILES } = scorer;
const standard = PROFILES.standard;

/** A 4000-row file (probation: 600 rows) with two windows. */
const N = 4000;
const WINDOWS: Window[] = [
  { start: 1000, end: 1399 },
  { start: 3000, end: 3399 },
];

function scoresWith(hits: Record<number, number>): Float64Array {
  const s = new Float64Array(N);
  for (const [i, v] of Object.entries(hits)) s[Number(i)] = v;
  return s;
}

function rawAt(hits: Record<number, number>, profile: Profile = standard, windows = WINDOWS): number {
  return scorer.scoreAtThreshold(scorer.sweepFile(scoresWith(hits), windows, profile), profile, 0.5).score;
}

describe('NAB scorer: normalisation', () => {
  it.each(Object.keys(PROFILES) as Array<keyof typeof PROFILES>)('scores a detector that never fires 0 (%s)', (name) => {
    const corpus = [
      { name: 'a.csv', scores: new Float64Array(N), windows: WINDOWS },
      { name: 'b.csv', scores: new Float64Array(N).fill(0.2), windows: [{ start: 2000, end: 2399 }] },
      { name: 'quiet.csv', scores: new Float64Array(N), windows: [] },
    ];
    const r = scorer.scoreCorpus(corpus, PROFILES[name]);
    expect(r.normalized).toBeCloseTo(0, 12);
    expect(r.nullScore).toBeCloseTo(-3 * PROFILES[name].fnWeight, 12);
  });

  it.each(Object.keys(PROFILES) as Array<keyof typeof PROFILES>)('scores firing exactly at every window start 100 (%s)', (name) => {
    const corpus = [
      { name: 'a.csv', scores: scoresWith({ 1000: 1, 3000: 1 }), windows: WINDOWS },
      { name: 'b.csv', scores: scoresWith({ 2000: 1 }), windows: [{ start: 2000, end: 2399 }] },
      { name: 'quiet.csv', scores: new Float64Array(N), windows: [] },
    ];
    const r = scorer.scoreCorpus(corpus, PROFILES[name]);
    expect(r.normalized).toBeCloseTo(100, 10);
    expect(r.raw).toBeCloseTo(r.perfect, 10);
    expect(r.threshold).toBe(1);
  });

  it('picks the threshold with the best total over all files', () => {
    // File a: 0.9 in its window; file b: 0.6 in its window and 0.7 outside (a false positive).
    const corpus = [
      { name: 'a.csv', scores: scoresWith({ 1000: 0.9 }), windows: [WINDOWS[0]!] },
      { name: 'b.csv', scores: scoresWith({ 1000: 0.6, 3500: 0.7 }), windows: [WINDOWS[0]!] },
    ];
    const r = scorer.scoreCorpus(corpus, standard);
    expect(r.threshold).toBe(0.6); // catching b's window is worth more than b's false positive costs
    expect(r.raw).toBeCloseTo(2 - standard.fpWeight, 10);
  });
});

describe('NAB scorer: rewards and penalties', () => {
  it('follows the scaled sigmoid: about 0.987 at a window start, 0.848 halfway, 0 at its end, −1 from 3 window-lengths after', () => {
    expect(scorer.scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scorer.scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scorer.scaledSigmoid(0)).toBe(0);
    expect(scorer.scaledSigmoid(3)).toBe(-1);
  });

  it('rewards an early detection more than a late one, and counts only the first in a window', () => {
    const early = rawAt({ 1000: 1 });
    const middle = rawAt({ 1200: 1 });
    const late = rawAt({ 1390: 1 });
    expect(early).toBeGreaterThan(middle);
    expect(middle).toBeGreaterThan(late);
    expect(early).toBeCloseTo(1 - 1, 10); // full reward for window 1, window 2 missed (−1)
    expect(middle).toBeCloseTo(0.8598 - 1, 3); // halfway ≈ 0.86 of the reward
    expect(rawAt({ 1000: 1, 1200: 1, 1390: 1 })).toBeCloseTo(early, 12);
  });

  it('costs the full false-positive weight before the first window', () => {
    const base = rawAt({});
    expect(rawAt({ 800: 1 }) - base).toBeCloseTo(-standard.fpWeight, 12);
    expect(rawAt({ 800: 1 }, PROFILES.reward_low_FP_rate) - rawAt({}, PROFILES.reward_low_FP_rate)).toBeCloseTo(-0.22, 12);
  });

  it('costs little just after a window and the full weight from about one window-length after', () => {
    const base = rawAt({});
    const justAfter = rawAt({ 1410: 1 }) - base;
    const oneWindowAfter = rawAt({ 1800: 1 }) - base;
    expect(justAfter).toBeLessThan(0);
    expect(justAfter).toBeGreaterThan(-0.02);
    expect(oneWindowAfter).toBeCloseTo(-standard.fpWeight * 0.98661, 4);
    expect(rawAt({ 2700: 1 }) - base).toBeCloseTo(-standard.fpWeight, 12);
  });

  it('ignores detections in the probationary period', () => {
    expect(scorer.probationaryLength(N)).toBe(600);
    expect(scorer.probationaryLength(6000)).toBe(750);
    expect(scorer.probationaryLength(100)).toBe(15);
    expect(rawAt({ 10: 1, 599: 1 })).toBe(rawAt({}));
    expect(rawAt({ 600: 1 })).toBeCloseTo(rawAt({}) - standard.fpWeight, 12);
  });

  it('weighs a missed window by the profile: −2 under reward_low_FN_rate', () => {
    expect(rawAt({}, PROFILES.reward_low_FN_rate)).toBe(-4);
    expect(rawAt({}, standard)).toBe(-2);
  });
});

describe('NAB scorer: NAB parity', () => {
  it("reproduces NAB's own threshold table (tests/integration/sweeper_test.py)", () => {
    // Rows 0-1 probationary; rows 3-4 in window A, row 5 in window B; fnWeight 5.
    const swept: Swept = {
      scores: Float64Array.from([0.5, 0.5, 0.0, 0.2, 0.3, 0.5, 0.5]),
      sweep: Float64Array.from([-1000, -1000, -3, 20, 10, 5, -3]),
      window: Int32Array.from([-2, -2, -1, 0, 0, 1, -1]),
      numWindows: 2,
    };
    const table = scorer.scoresByThreshold([swept], { tpWeight: 1, fpWeight: 1, fnWeight: 5 });
    expect(table.map((r) => [r.threshold, r.score, r.tp, r.tn, r.fp, r.fn])).toEqual([
      [1.1, -10, 0, 2, 0, 3],
      [0.5, -3, 1, 1, 1, 2],
      [0.3, 12, 2, 1, 1, 1],
      [0.2, 22, 3, 1, 1, 0],
      [0.0, 19, 3, 0, 2, 0],
    ]);
  });

  it('matches windows to rows by timestamp: the first row carrying each edge, microseconds dropped', () => {
    const ts = ['2014-03-09 02:55:00', '2014-03-09 03:00:00', '2014-03-09 03:00:00', '2014-03-09 03:05:00'];
    expect(scorer.windowIndices(ts, [['2014-03-09 03:00:00.000000', '2014-03-09 03:05:00.000000']])).toEqual([
      { start: 1, end: 3 },
    ]);
    expect(() => scorer.windowIndices(ts, [['2015-01-01 00:00:00.000000', '2015-01-02 00:00:00.000000']])).toThrow(
      /does not match/,
    );
  });
});
