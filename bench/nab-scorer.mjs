// NAB scorer: the rules of the Numenta Anomaly Benchmark v1.1 (github.com/numenta/NAB,
// nab/sweeper.py + nab/runner.py#normalize), as summarised in ../shared/nab/README.md.
//
//  - Rows in the probationary period (first 15% of a file, at most 15% of 5000 = 750 rows) are
//    neither rewarded nor penalised.
//  - Inside a window, a detection at row i is worth tpWeight · S(−(right − i + 1)/width) / S(−1),
//    S(x) = 2·sigmoid(−5x) − 1; only the best (earliest) detection per window counts, and a window
//    with none costs −fnWeight.
//  - Outside a window, a detection costs fpWeight · S(|prevRight − i| / (prevWidth − 1)), which is
//    small just after a window and −fpWeight from about one window-length on; before the first
//    window has ended (no previous window) it costs the full −fpWeight.
//  - One threshold for the whole corpus (a row is a detection when score ≥ threshold), chosen per
//    profile by sweeping over every score value; normalised score = 100·(raw − null)/(perfect −
//    null), null = the score with no detection, perfect = tpWeight · number of windows.

/** NAB's three application profiles (config/profiles.json). */
export const PROFILES = Object.freeze({
  standard: Object.freeze({ tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 }),
  reward_low_FP_rate: Object.freeze({ tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 }),
  reward_low_FN_rate: Object.freeze({ tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 }),
});

export const PROBATION_PERCENT = 0.15;

/** NAB `_getProbationaryLength`: min(floor(p·n), p·5000). Rows with index < this are probationary. */
export function probationaryLength(numRows, probationPercent = PROBATION_PERCENT) {
  return Math.min(Math.floor(probationPercent * numRows), probationPercent * 5000);
}

/** NAB `scaledSigmoid`: 2·sigmoid(−5x) − 1, and −1 from x ≥ 3 (a false positive well past a window). */
export function scaledSigmoid(relativePosition) {
  if (relativePosition >= 3.0) return -1.0;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1.0;
}

const MAX_TP = scaledSigmoid(-1.0);

/** Label timestamps carry microseconds ("2014-04-10 00:04:00.000000"); data rows do not. */
export function canonicalTimestamp(ts) {
  return String(ts).trim().replace(/\.0+$/, '');
}

/**
 * Rows of one file → window indices, the way NAB's sweeper walks them: a window is entered on the row
 * whose timestamp equals its start, its right edge is the first row carrying its end timestamp.
 * @param {string[]} timestamps canonical row timestamps, in file order
 * @param {Array<[string, string]>} windows window limits from combined_windows.json
 * @returns {Array<{start: number, end: number}>}
 */
export function windowIndices(timestamps, windows) {
  const first = new Map();
  timestamps.forEach((ts, i) => {
    if (!first.has(ts)) first.set(ts, i);
  });
  return windows.map(([a, b]) => {
    const start = first.get(canonicalTimestamp(a));
    const end = first.get(canonicalTimestamp(b));
    if (start === undefined || end === undefined || end < start) {
      throw new Error(`window [${a}, ${b}] does not match the file's rows`);
    }
    return { start, end };
  });
}

/**
 * Per-row sweep scores of one file for one profile (NAB `Sweeper.calcSweepScore`).
 * @param {number[] | Float64Array} scores anomaly score per row
 * @param {Array<{start: number, end: number}>} windows sorted, non-overlapping row ranges (inclusive)
 * @param {{tpWeight: number, fpWeight: number, fnWeight: number}} profile
 * @returns {{ scores: Float64Array, sweep: Float64Array, window: Int32Array, numWindows: number }}
 *   window[i]: index of the window holding row i, −1 outside windows, −2 in the probationary period.
 */
export function sweepFile(scores, windows, profile, probationPercent = PROBATION_PERCENT) {
  const n = scores.length;
  const probation = probationaryLength(n, probationPercent);
  const sweep = new Float64Array(n);
  const window = new Int32Array(n);
  let next = 0; // next window to enter
  let cur = -1; // window we are in
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    if (cur < 0 && next < windows.length && i === windows[next].start) cur = next++;
    if (cur >= 0) {
      const { start, end } = windows[cur];
      const width = end - start + 1;
      sweep[i] = (scaledSigmoid(-(end - i + 1) / width) * profile.tpWeight) / MAX_TP;
    } else if (prevRight < 0) {
      sweep[i] = scaledSigmoid(3.0) * profile.fpWeight;
    } else {
      sweep[i] = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1)) * profile.fpWeight;
    }
    window[i] = i < probation ? -2 : cur;
    if (cur >= 0 && i === windows[cur].end) {
      prevRight = i;
      prevWidth = windows[cur].end - windows[cur].start + 1;
      cur = -1;
    }
  }
  return { scores: Float64Array.from(scores), sweep, window, numWindows: windows.length };
}

/**
 * Score of every threshold over a set of swept files (NAB `Sweeper.calcScoreByThreshold`), highest
 * threshold first; the first entry (threshold 1.1, above any score in [0, 1]) is the null detector.
 * @param {ReturnType<typeof sweepFile>[]} files
 * @returns {Array<{threshold: number, score: number, tp: number, fp: number, fn: number, tn: number}>}
 */
export function scoresByThreshold(files, profile) {
  // Flatten the scorable rows (probationary ones dropped) and sort them by score, descending.
  let count = 0;
  for (const f of files) for (let i = 0; i < f.window.length; i++) if (f.window[i] !== -2) count++;
  const score = new Float64Array(count);
  const sweep = new Float64Array(count);
  const slot = new Int32Array(count); // global window id, or −1 outside windows
  const windowBase = [];
  let base = 0;
  let k = 0;
  for (const f of files) {
    windowBase.push(base);
    for (let i = 0; i < f.window.length; i++) {
      if (f.window[i] === -2) continue;
      score[k] = f.scores[i];
      sweep[k] = f.sweep[i];
      slot[k] = f.window[i] >= 0 ? base + f.window[i] : -1;
      k++;
    }
    base += f.numWindows;
  }
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => score[b] - score[a]);

  // Windows with at least one scorable row start as misses (NAB `_prepareScoreByThresholdParts`).
  const best = new Float64Array(base).fill(Number.NaN);
  let windowTotal = 0;
  for (let i = 0; i < count; i++) {
    if (slot[i] >= 0 && Number.isNaN(best[slot[i]])) {
      best[slot[i]] = -profile.fnWeight;
      windowTotal -= profile.fnWeight;
    }
  }
  let fpTotal = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < count; i++) (slot[i] >= 0 ? fn++ : tn++);

  const out = [];
  let threshold = 1.1;
  for (const i of order) {
    if (score[i] !== threshold) {
      out.push({ threshold, score: fpTotal + windowTotal, tp, fp, fn, tn });
      threshold = score[i];
    }
    if (slot[i] >= 0) {
      tp++;
      fn--;
      if (sweep[i] > best[slot[i]]) {
        windowTotal += sweep[i] - best[slot[i]];
        best[slot[i]] = sweep[i];
      }
    } else {
      fp++;
      tn--;
      fpTotal += sweep[i];
    }
  }
  out.push({ threshold, score: fpTotal + windowTotal, tp, fp, fn, tn });
  return out;
}

/**
 * Raw NAB score of one swept file at a fixed threshold, with its detection counts.
 * @returns {{ score: number, detectedWindows: number, missedWindows: number, falsePositives: number }}
 */
export function scoreAtThreshold(swept, profile, threshold) {
  const best = new Float64Array(swept.numWindows).fill(-profile.fnWeight);
  const seen = new Uint8Array(swept.numWindows);
  const hit = new Uint8Array(swept.numWindows);
  let fpTotal = 0;
  let falsePositives = 0;
  for (let i = 0; i < swept.window.length; i++) {
    const w = swept.window[i];
    if (w === -2) continue;
    if (w >= 0) seen[w] = 1;
    if (!(swept.scores[i] >= threshold)) continue;
    if (w >= 0) {
      hit[w] = 1;
      if (swept.sweep[i] > best[w]) best[w] = swept.sweep[i];
    } else {
      falsePositives++;
      fpTotal += swept.sweep[i];
    }
  }
  let score = fpTotal;
  let detectedWindows = 0;
  let missedWindows = 0;
  for (let w = 0; w < swept.numWindows; w++) {
    if (!seen[w]) continue; // a window wholly inside the probationary period is not scored
    score += best[w];
    if (hit[w]) detectedWindows++;
    else missedWindows++;
  }
  return { score, detectedWindows, missedWindows, falsePositives };
}

/**
 * NAB score of a corpus for one profile: best threshold, raw, null, perfect and normalised scores.
 * @param {Array<{ name: string, scores: ArrayLike<number>, windows: Array<{start: number, end: number}> }>} corpus
 * @param {{tpWeight: number, fpWeight: number, fnWeight: number}} profile
 */
export function scoreCorpus(corpus, profile, probationPercent = PROBATION_PERCENT) {
  const swept = corpus.map((f) => sweepFile(f.scores, f.windows, profile, probationPercent));
  const table = scoresByThreshold(swept, profile);
  let best = table[0];
  for (const row of table) if (row.score > best.score) best = row;
  const nullScore = table[0].score;
  const numWindows = corpus.reduce((s, f) => s + f.windows.length, 0);
  const perfect = profile.tpWeight * numWindows;
  const normalized = perfect === nullScore ? 0 : (100 * (best.score - nullScore)) / (perfect - nullScore);
  const perFile = corpus.map((f, i) => ({
    name: f.name,
    numWindows: f.windows.length,
    ...scoreAtThreshold(swept[i], profile, best.threshold),
  }));
  return { threshold: best.threshold, raw: best.score, nullScore, perfect, normalized, counts: best, perFile };
}

/** Normalised score of a subset of per-file results (e.g. one category), at the corpus threshold. */
export function normalizeSubset(perFile, profile) {
  const windows = perFile.reduce((s, f) => s + f.numWindows, 0);
  const raw = perFile.reduce((s, f) => s + f.score, 0);
  const nullScore = -profile.fnWeight * windows;
  const perfect = profile.tpWeight * windows;
  return windows === 0 ? Number.NaN : (100 * (raw - nullScore)) / (perfect - nullScore);
}
