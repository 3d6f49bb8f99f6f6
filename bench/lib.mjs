// Helpers the benchmarks share: quantiles, a seeded schedule, number formatting and tables.

/** The `q` quantile (0..1) of `xs`, interpolated. */
export const quantile = (xs, q) => {
  const a = [...xs].sort((x, y) => x - y);
  const pos = (a.length - 1) * q;
  const lo = Math.floor(pos);
  return a[lo] + (a[Math.ceil(pos)] - a[lo]) * (pos - lo);
};
export const median = (xs) => quantile(xs, 0.5);

/** A small seeded PRNG (mulberry32): the schedule is random but the same in every run. */
export function seeded(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fmt = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(x);
export const pct = (x) => `${fmt(x * 100, 1)} %`;
export const ratio = (a, b) => (b > 0 && a >= 0 ? `${fmt(a / b, 2)}x` : '—');

/** Prints rows under a header, the first column left-aligned, the others right-aligned. */
export function table(head, rows) {
  const cells = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

/**
 * Measures every variant `rounds` times, in an order rotated by `offset(round)` each round, with
 * `measure(variant)` → `{ cpu, wall }` per call; the first variant is the baseline. Returns per
 * variant the medians of the per-call cost and of (variant − baseline of the same round), and the
 * interquartile range of that CPU difference.
 */
export async function interleavedRounds(variants, rounds, measure, offset = (r) => r) {
  const per = variants.map(() => ({ cpu: [], wall: [], dCpu: [], dWall: [] }));
  for (let r = 0; r < rounds; r++) {
    const first = offset(r);
    const got = [];
    for (const i of variants.map((_, k) => (k + first) % variants.length)) got[i] = await measure(variants[i]);
    got.forEach((g, i) => {
      per[i].cpu.push(g.cpu);
      per[i].wall.push(g.wall);
      per[i].dCpu.push(g.cpu - got[0].cpu);
      per[i].dWall.push(g.wall - got[0].wall);
    });
  }
  return variants.map((v, i) => ({
    name: v.name,
    n: v.n,
    cpu: median(per[i].cpu),
    wall: median(per[i].wall),
    overCpu: median(per[i].dCpu),
    overWall: median(per[i].dWall),
    iqr: [quantile(per[i].dCpu, 0.25), quantile(per[i].dCpu, 0.75)],
  }));
}
