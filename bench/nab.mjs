// NAB benchmark of the streaming anomaly detector (src/metrics/anomaly): every series of the corpus
// is fed row by row, in file order, to its own detector (no look-ahead); the per-row scores are
// written as NAB result files and scored with NAB's rules (bench/nab-scorer.mjs), next to the
// published scoreboard.
//
// Run: `npm run bench:nab [-- --data DIR --labels FILE --out DIR --options JSON]`. Defaults:
// ../shared/nab (relative to the repo root: its data/ and labels/combined_windows.json) and
// bench/results/nab (git-ignored). `--options` overrides detector options, for global sweeps;
// NAB_PER_FILE=1 adds a per-file table.

import { performance } from 'node:perf_hooks';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCorpus, writeResult } from './nab-corpus.mjs';
import { PROFILES, normalizeSubset, scoreCorpus } from './nab-scorer.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nabRoot = join(repoRoot, '..', 'shared', 'nab');

const USAGE = `usage: node bench/nab.mjs [--data DIR] [--labels FILE] [--out DIR] [--options JSON]
  --data DIR      NAB data folder, or a NAB root holding data/ and labels/ (default ${nabRoot})
  --labels FILE   combined windows JSON (default ${join(nabRoot, 'labels', 'combined_windows.json')})
  --out DIR       where the result CSVs go (default ${join(repoRoot, 'bench', 'results', 'nab')})
  --options JSON  detector options, e.g. '{"threshold":0.6}' (default: the detector's defaults)`;

// Published NAB scores (standard / reward low FP / reward low FN). Full corpus (58 files): NAB's
// README scoreboard, HTM from NuPIC 0.5.6. On the 35 files in ../shared/nab: the same published
// result files scored the same way (standard profile only).
const PUBLISHED_FULL = [
  ['Numenta HTM', 70.1, 63.1, 74.3],
  ['CAD OSE', 69.9, 67.0, 73.2],
  ['KNN-CAD', 58.0, 43.4, 64.8],
  ['Relative entropy', 54.6, 47.6, 58.8],
  ['Twitter ADVec', 47.1, 33.6, 53.5],
  ['Windowed Gaussian', 39.7, 20.9, 47.4],
  ['Etsy Skyline', 35.7, 27.1, 44.5],
];
const PUBLISHED_SUBSET = [
  ['ARTime', 67.8],
  ['Numenta HTM', 66.6],
  ['CAD OSE', 62.2],
  ['KNN-CAD', 53.0],
  ['Windowed Gaussian', 22.0],
];

function fail(message) {
  console.error(`bench/nab.mjs: ${message}\n${USAGE}`);
  process.exit(2);
}

const isDir = (p) => existsSync(p) && statSync(p).isDirectory();

function parseCli() {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        data: { type: 'string' },
        labels: { type: 'string' },
        out: { type: 'string' },
        options: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    fail(err.message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  // --data may name the data folder itself or a NAB root holding data/ and labels/.
  let data = resolve(v.data ?? join(nabRoot, 'data'));
  let root = nabRoot;
  if (isDir(join(data, 'data')) && isDir(join(data, 'labels'))) {
    root = data;
    data = join(data, 'data');
  }
  const labels = resolve(v.labels ?? join(root, 'labels', 'combined_windows.json'));
  const out = resolve(v.out ?? join(repoRoot, 'bench', 'results', 'nab'));
  if (!isDir(data)) fail(`--data ${data} is not a folder`);
  if (!existsSync(labels) || !statSync(labels).isFile()) fail(`--labels ${labels} is not a file`);
  if (existsSync(out) && !statSync(out).isDirectory()) fail(`--out ${out} exists and is not a folder`);
  let options;
  if (v.options !== undefined) {
    try {
      options = JSON.parse(v.options);
    } catch (err) {
      fail(`--options is not JSON: ${err.message}`);
    }
  }
  return { data, labels, out, options };
}

/** Bundles the detector's TypeScript source (esbuild, no type check) and imports it. */
async function loadDetector() {
  const { build } = await import('esbuild');
  const dir = await mkdtemp(join(tmpdir(), 'nab-detector-'));
  const outfile = join(dir, 'anomaly.mjs');
  try {
    await build({
      entryPoints: [join(repoRoot, 'src', 'metrics', 'anomaly', 'index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile,
      logLevel: 'error',
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Streams one series through a fresh detector: one update per row, in file order. */
function detect(createAnomalyDetector, options, series) {
  const detector = createAnomalyDetector(options);
  const n = series.values.length;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Rounded as written to the result file, so re-scoring the CSVs gives the same figures.
    scores[i] = Math.round(detector.update(series.values[i], series.timesMs[i]).score * 1e9) / 1e9;
  }
  return scores;
}

const fmt = (x, w = 7) => (Number.isFinite(x) ? x.toFixed(1) : '—').padStart(w);

function sanityChecks(corpus) {
  const nullCorpus = corpus.map((f) => ({ ...f, scores: new Float64Array(f.series.values.length) }));
  const perfectCorpus = corpus.map((f) => {
    const scores = new Float64Array(f.series.values.length);
    for (const w of f.windows) scores[w.start] = 1;
    return { ...f, scores };
  });
  const checks = [];
  for (const [profileName, profile] of Object.entries(PROFILES)) {
    checks.push([`null detector, ${profileName}`, scoreCorpus(nullCorpus, profile).normalized, 0]);
    checks.push([`window starts, ${profileName}`, scoreCorpus(perfectCorpus, profile).normalized, 100]);
  }
  return checks;
}

async function main() {
  const cli = parseCli();
  const t0 = performance.now();
  const { createAnomalyDetector, resolveAnomalyDetectorOptions } = await loadDetector();
  let resolved;
  try {
    resolved = resolveAnomalyDetectorOptions(cli.options);
  } catch (err) {
    fail(`--options: ${err.message}`);
  }
  let corpus;
  try {
    corpus = await loadCorpus(cli.data, cli.labels);
  } catch (err) {
    fail(err.message);
  }
  const rows = corpus.reduce((s, f) => s + f.series.values.length, 0);
  const windows = corpus.reduce((s, f) => s + f.windows.length, 0);

  const tDetect = performance.now();
  for (const entry of corpus) entry.scores = detect(createAnomalyDetector, resolved, entry.series);
  const detectMs = performance.now() - tDetect;
  await Promise.all(corpus.map((entry) => writeResult(cli.out, entry, entry.scores)));

  const results = {};
  for (const [name, profile] of Object.entries(PROFILES)) results[name] = scoreCorpus(corpus, profile);
  const checks = sanityChecks(corpus);
  const totalMs = performance.now() - t0;

  console.log(`NAB on ${corpus.length} files, ${rows} rows, ${windows} windows (${cli.data})`);
  console.log(`detector options: ${JSON.stringify(resolved)}`);
  console.log(`result CSVs: ${cli.out}`);
  console.log('');
  console.log('profile               threshold   score   (null = 0, perfect = 100)');
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(20)} ${r.threshold.toFixed(4).padStart(10)} ${fmt(r.normalized)}`);
  }

  const std = results.standard;
  console.log('');
  console.log('Standard profile, this corpus             ours   published   ours/published');
  for (const [name, score] of PUBLISHED_SUBSET) {
    console.log(`  ${name.padEnd(38)} ${fmt(std.normalized)} ${fmt(score, 11)} ${(std.normalized / score).toFixed(2).padStart(16)}`);
  }
  console.log('');
  console.log('Published on the full 58-file corpus (not the same data)   standard   low FP   low FN');
  console.log(`  ${'ours (this corpus)'.padEnd(55)} ${fmt(std.normalized, 9)} ${fmt(results.reward_low_FP_rate.normalized, 8)} ${fmt(results.reward_low_FN_rate.normalized, 8)}`);
  for (const [name, a, b, c] of PUBLISHED_FULL) {
    console.log(`  ${name.padEnd(55)} ${fmt(a, 9)} ${fmt(b, 8)} ${fmt(c, 8)}`);
  }

  console.log('');
  console.log('By category (standard profile, corpus threshold)   windows  detected  FPs   score');
  const categories = [...new Set(corpus.map((f) => f.category))];
  for (const cat of categories) {
    const files = std.perFile.filter((_, i) => corpus[i].category === cat);
    const w = files.reduce((s, f) => s + f.numWindows, 0);
    const d = files.reduce((s, f) => s + f.detectedWindows, 0);
    const fp = files.reduce((s, f) => s + f.falsePositives, 0);
    console.log(`  ${cat.padEnd(48)} ${String(w).padStart(7)} ${String(d).padStart(9)} ${String(fp).padStart(4)} ${fmt(normalizeSubset(files, PROFILES.standard))}`);
  }
  if (process.env.NAB_PER_FILE === '1') {
    console.log('');
    console.log('By file (standard profile)');
    for (const f of std.perFile) {
      console.log(`  ${f.name.padEnd(62)} win ${f.numWindows} hit ${f.detectedWindows} fp ${String(f.falsePositives).padStart(3)} raw ${f.score.toFixed(3).padStart(7)}`);
    }
  }

  console.log('');
  let ok = true;
  for (const [what, got, want] of checks) {
    const pass = Math.abs(got - want) < 1e-9;
    ok &&= pass;
    console.log(`sanity ${pass ? 'ok  ' : 'FAIL'} ${what.padEnd(40)} ${got.toFixed(4)} (expected ${want})`);
  }
  console.log('');
  console.log(`detector: ${(detectMs / 1000).toFixed(2)} s for ${rows} rows (${((detectMs * 1000) / rows).toFixed(1)} µs/row); total ${(totalMs / 1000).toFixed(1)} s`);
  if (!ok) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
