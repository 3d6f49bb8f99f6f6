// Reading the NAB corpus: data CSVs (`timestamp,value`) and the combined windows file, and writing
// result CSVs (`timestamp,value,anomaly_score`) in NAB's layout, one per data file.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalTimestamp, windowIndices } from './nab-scorer.mjs';

/** "YYYY-MM-DD HH:MM:SS" (no zone) → epoch ms, read as UTC so daylight saving cannot move it. */
export function parseTimestampMs(ts) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(ts);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
}

/** One data file: rows in file order, values as numbers (a non-numeric value becomes NaN). */
export async function readSeries(path) {
  const text = await readFile(path, 'utf8');
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(',').map((c) => c.trim());
  if (!header || header[0] !== 'timestamp' || header[1] !== 'value') {
    throw new Error(`${path}: expected a "timestamp,value" header, got "${lines[0] ?? ''}"`);
  }
  const timestamps = [];
  const rawValues = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    timestamps.push(canonicalTimestamp(line.slice(0, comma)));
    rawValues.push(line.slice(comma + 1).trim());
  }
  const values = Float64Array.from(rawValues, (v) => (v === '' ? Number.NaN : Number(v)));
  const timesMs = Float64Array.from(timestamps, parseTimestampMs);
  return { timestamps, rawValues, values, timesMs };
}

/**
 * The corpus as listed by the windows file: every key is a data file (relative to `dataDir`), as
 * NAB's runner does.
 * @returns {Promise<Array<{ name: string, category: string, file: string, series: Awaited<ReturnType<typeof readSeries>>, windows: Array<{start: number, end: number}> }>>}
 */
export async function loadCorpus(dataDir, labelsFile) {
  let labels;
  try {
    labels = JSON.parse(await readFile(labelsFile, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the windows file ${labelsFile}: ${err.message}`);
  }
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new Error(`${labelsFile}: expected an object mapping data files to window lists`);
  }
  const names = Object.keys(labels).sort();
  if (names.length === 0) throw new Error(`${labelsFile}: lists no data file`);
  return Promise.all(
    names.map(async (name) => {
      const path = join(dataDir, name);
      let series;
      try {
        series = await readSeries(path);
      } catch (err) {
        throw new Error(`cannot read data file ${path}: ${err.message}`);
      }
      let windows;
      try {
        windows = windowIndices(series.timestamps, labels[name]);
      } catch (err) {
        throw new Error(`${name}: ${err.message}`);
      }
      const slash = name.lastIndexOf('/');
      return {
        name,
        category: slash < 0 ? '' : name.slice(0, slash),
        file: slash < 0 ? name : name.slice(slash + 1),
        series,
        windows,
      };
    }),
  );
}

/** Writes `<outDir>/<category>/<file>.csv` with the rows of the data file and their scores. */
export async function writeResult(outDir, entry, scores) {
  const path = join(outDir, entry.name);
  await mkdir(dirname(path), { recursive: true });
  const { timestamps, rawValues } = entry.series;
  const parts = new Array(timestamps.length + 1);
  parts[0] = 'timestamp,value,anomaly_score';
  for (let i = 0; i < timestamps.length; i++) {
    parts[i + 1] = `${timestamps[i]},${rawValues[i]},${roundScore(scores[i])}`;
  }
  await writeFile(path, `${parts.join('\n')}\n`);
  return path;
}

/** Enough digits to keep the threshold sweep's ordering; trailing zeros dropped. */
function roundScore(s) {
  return Number.isFinite(s) ? String(Math.round(s * 1e9) / 1e9) : '0';
}
