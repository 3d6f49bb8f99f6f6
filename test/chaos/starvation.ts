/**
 * When the machine, not a fault, was in charge: the stretches in which the service's event loop
 * had work but waited for a CPU more than half the time (from its snapshots: busy share minus CPU
 * share). Other processes on a loaded 2-core machine cause them. What the service measured then,
 * and what its health judged from it for a health window afterwards, is the machine's doing, so
 * the machine-dependent bars (hangs, latency, false positives, restoration) leave it out and the
 * report says how much was left out.
 */
import type { ChaosRun } from './types.js';

/** Waiting for a CPU more than this share of the last second makes it starved. */
const STARVED = 0.5;
/** Snapshots come every 250 ms: starvation is judged over the last four (a second), not one blip. */
const SPAN = 4;
/** Health judges from a 10 s window: a judgment this long after starvation may still rest on it. */
const HEALTH_WINDOW_MS = 10_000;

export class Starvation {
  /** Starved stretches, [from, to] epoch ms, merged. */
  readonly intervals: Array<[number, number]> = [];

  constructor(run: Pick<ChaosRun, 'snapshots' | 'startedAt' | 'endedAt'>) {
    const snaps = run.snapshots;
    for (let i = SPAN; i < snaps.length; i++) {
      const from = snaps[i - SPAN]!.t;
      const to = snaps[i]!.t;
      if (to < run.startedAt || from > run.endedAt) continue;
      let waiting = 0;
      for (let j = i - SPAN + 1; j <= i; j++) waiting += Math.max(0, snaps[j]!.busy - Math.min(1, snaps[j]!.cpu)) * (snaps[j]!.t - snaps[j - 1]!.t);
      if (waiting <= STARVED * (to - from)) continue;
      const last = this.intervals.at(-1);
      if (last && last[1] >= from) last[1] = to;
      else this.intervals.push([from, to]);
    }
  }

  /** A health judgment at `t` may rest on calls measured while starved. */
  judgedAt(t: number): boolean {
    return this.intervals.some(([a, b]) => t >= a && t <= b + HEALTH_WINDOW_MS);
  }

  /** Something that ran over [from, to] (a request, a restoration) met starvation. */
  overlaps(from: number, to: number): boolean {
    return this.intervals.some(([a, b]) => from <= b && to >= a);
  }

  /** Share of [from, to] in which judgments may rest on starvation. */
  coverage(from: number, to: number): number {
    let covered = 0;
    let cursor = from;
    for (const [a, b] of this.intervals) {
      const start = Math.max(a, cursor);
      const end = Math.min(b + HEALTH_WINDOW_MS, to);
      if (end > start) covered += end - start;
      cursor = Math.max(cursor, end);
    }
    return to > from ? covered / (to - from) : 0;
  }
}
