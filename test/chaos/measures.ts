/**
 * What one chaos run says beside the faults: how the machine treated the service, the healthy
 * route's traffic and latency in and out of faults (containment), and the run as a timeline.
 */
import type { RequestRecord } from './load.js';
import type { ChaosReport, TrafficStats } from './reportTypes.js';
import type { FaultKind } from './schedule.js';
import type { Starvation } from './starvation.js';
import type { ChaosRun } from './types.js';

/** A service that just started is busy warming up: false positives and the baseline count from this far into the load. */
export const SETTLE_MS = 3_000;
/** Share of the run starvation may cover before the machine counts as overloaded. */
const OVERLOADED = 0.5;

export function environmentOf(run: ChaosRun, starvation: Starvation): ChaosReport['environment'] {
  const spikes = run.faults.filter((f) => f.kind === 'cpu-spike');
  const gaps: number[] = [];
  run.snapshots.forEach((s, i) => {
    const prev = run.snapshots[i - 1];
    if (!prev || s.t < run.startedAt || s.t > run.endedAt) return;
    const late = s.t - prev.t - 250;
    if (late > 500 && !spikes.some((f) => s.t >= f.startedAt && prev.t <= f.endedAt + 1_000)) gaps.push(late);
  });
  const harness = run.harnessStalls.filter(([t]) => t >= run.startedAt && t <= run.endedAt).map(([, late]) => late);
  let busyMs = 0;
  let waitingMs = 0;
  run.snapshots.forEach((s, i) => {
    const prev = run.snapshots[i - 1];
    if (!prev || s.t < run.startedAt || s.t > run.endedAt) return;
    const dt = s.t - prev.t;
    const waiting = Math.max(0, s.busy - Math.min(1, s.cpu));
    busyMs += s.busy * dt;
    waitingMs += waiting * dt;
  });
  return {
    harnessStalls: harness.length,
    harnessWorstMs: Math.max(0, ...harness),
    serviceStalls: gaps.length,
    serviceWorstMs: Math.max(0, ...gaps),
    serviceStarvation: busyMs ? Math.round((waitingMs / busyMs) * 100) / 100 : 0,
    starvedSeconds: Math.round(starvation.intervals.reduce((ms, [a, b]) => ms + b - a, 0) / 100) / 10,
    starvedCoverage: Math.round(starvation.coverage(run.startedAt, run.endedAt) * 100) / 100,
    starved: starvation.intervals.map(([a, b]) => ({ at: (a - run.startedAt) / 1000, seconds: (b - a) / 1000 })),
    overloaded: starvation.coverage(run.startedAt, run.endedAt) > OVERLOADED,
  };
}

export function timelineOf(run: ChaosRun): ChaosReport['timeline'] {
  const at = (t: number): number => Math.round(t - run.startedAt) / 1000;
  const lines = [
    ...run.faults.flatMap((f) => [
      { t: f.startedAt, what: `fault #${f.id} ${f.kind} on ${f.target} begins` },
      { t: f.endedAt, what: `fault #${f.id} ends` },
    ]),
    ...run.health.map((e) => ({ t: e.t, what: `health ${e.component}: ${e.from} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}` })),
    ...run.breakers.map((e) => ({ t: e.t, what: `breaker ${e.name}: ${e.from} -> ${e.to} (${e.reason})` })),
    ...run.recoveries.map((e) => ({
      t: e.t,
      what: `recovery ${e.component}: ${e.event}${e.strategy ? ` ${e.strategy} ${e.success ? 'verified' : `failed${e.error ? ` (${e.error})` : ''}`}` : ''}${e.outcome ? ` ${e.outcome}${e.detail ? ` (${e.detail})` : ''}` : ''}`,
    })),
  ];
  return lines.sort((a, b) => a.t - b.t).map((l) => ({ at: at(l.t), what: l.what }));
}

function p95(values: number[]): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
}

/** The healthy route's requests and its downstream's traffic, out of faults and in them; requests that met starvation are left out. */
export function containmentOf(run: ChaosRun, starvation: Starvation): ChaosReport['containment'] {
  const spans = (kinds: (k: FaultKind) => boolean, padMs: number): Array<[number, number]> =>
    run.faults.filter((f) => kinds(f.kind)).map((f) => [f.startedAt, f.endedAt + padMs]);
  const within = (t: number, list: Array<[number, number]>): boolean => list.some(([a, b]) => t >= a && t <= b);
  const all = spans(() => true, 3_000);
  const faultsOnly = spans((k) => k !== 'cpu-spike', 0);
  const cpu = spans((k) => k === 'cpu-spike', 2_000);
  const cascade = spans((k) => k === 'cascade', 0);
  const settled = run.startedAt + SETTLE_MS;
  const isBaseline = (t: number): boolean => t >= settled && t <= run.endedAt && !within(t, all);
  const stats = (inSet: (t: number) => boolean): TrafficStats => {
    const records = run.requests.filter((r: RequestRecord) => r.route === '/healthy' && inSet(r.sentAt) && !starvation.overlaps(r.sentAt, r.sentAt + r.ms));
    // Every whole second of the run inside the set, whether the downstream got requests in it or not.
    const seconds: number[] = [];
    for (let s = Math.ceil(run.startedAt / 1000); (s + 1) * 1000 <= run.endedAt; s++) if (inSet(s * 1000) && inSet(s * 1000 + 500) && inSet(s * 1000 + 999)) seconds.push(s);
    const received = seconds.reduce((n, s) => n + (run.healthyPerSecond.get(s) ?? 0), 0);
    return {
      requests: records.length,
      answeredShare: records.length ? records.filter((r) => r.outcome === 'answered').length / records.length : 0,
      p95Ms: Math.round(p95(records.map((r) => r.ms)) * 10) / 10,
      downstreamRps: seconds.length ? Math.round((received / seconds.length) * 10) / 10 : 0,
    };
  };
  return {
    route: '/healthy',
    downstream: run.healthyOrigin,
    baseline: stats(isBaseline),
    duringFaults: stats((t) => within(t, faultsOnly) && !within(t, cpu)),
    duringCascade: stats((t) => within(t, cascade) && !within(t, cpu)),
  };
}
