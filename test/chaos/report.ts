/**
 * Judges one chaos run: requests by outcome, per fault whether (and how fast) it was detected and
 * its targets restored, the plugin's recoveries, false positives on components not under fault,
 * and whether the healthy downstream's traffic and latency held while the others failed.
 */
import { barsOf } from './bars.js';
import { OUTCOMES, type Outcome } from './load.js';
import { SETTLE_MS, containmentOf, environmentOf, timelineOf } from './measures.js';
import { Starvation } from './starvation.js';
import type { ChaosReport, FaultResult } from './reportTypes.js';
import type { AppliedFault, ChaosRun, Snapshot } from './types.js';

export type { ChaosReport } from './reportTypes.js';

const isRoute = (c: string): boolean => c.startsWith('GET ');
const rank: Record<string, number> = { healthy: 0, closed: 0, degraded: 1, 'half-open': 1, critical: 2, open: 2, failed: 3 };

/** Component name → level words (health status, breaker state) in one snapshot. */
function statesOf(s: Snapshot): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [name, level] of s.health) m.set(name, [level]);
  for (const [name, state] of s.breakers) m.set(name, [...(m.get(name) ?? []), state]);
  return m;
}
const bad = (words: string[] | undefined): boolean => !!words && words.some((w) => w !== 'healthy' && w !== 'closed');

export function analyse(run: ChaosRun): ChaosReport {
  const { profile } = run;
  const starvation = new Starvation(run);
  const snapshots = run.snapshots.filter((s) => s.t >= run.startedAt && s.t <= run.endedAt).map((s) => ({ t: s.t, states: statesOf(s) }));
  const components = new Set<string>();
  for (const s of run.snapshots) for (const name of statesOf(s).keys()) components.add(name);
  for (const e of run.health) components.add(e.component);
  for (const e of run.breakers) components.add(e.name);

  const affects = (f: AppliedFault, c: string): boolean =>
    f.kind === 'cpu-spike' ? run.targetOf(c) === 'service' || isRoute(c) : run.targetOf(c) === f.target;
  const primaries = (f: AppliedFault): string[] => [...components].filter((c) => !isRoute(c) && affects(f, c)).sort();
  const firstGood = (names: string[], from: number): number | undefined => snapshots.find((s) => s.t >= from && names.every((n) => !bad(s.states.get(n))))?.t;

  // Each component is under a fault from its start until it is good again after the end (at most restoreWithinMs).
  const windows = new Map<string, Array<[number, number]>>();
  for (const f of run.faults) {
    for (const c of components) {
      if (!affects(f, c)) continue;
      const until = Math.min(firstGood([c], f.endedAt) ?? Infinity, f.endedAt + profile.restoreWithinMs);
      windows.set(c, [...(windows.get(c) ?? []), [f.startedAt, until]]);
    }
  }
  const underFault = (c: string, t: number): boolean => (windows.get(c) ?? []).some(([a, b]) => t >= a && t <= b);

  const faults = run.faults.map((f): FaultResult => {
    const names = primaries(f);
    const limit = f.startedAt + profile.detectWithinMs;
    const before = [...snapshots].reverse().find((s) => s.t <= f.startedAt);
    const signals: Array<{ t: number; by: string }> = [];
    for (const e of run.health) if (names.includes(e.component) && e.to !== 'healthy' && e.t >= f.startedAt && e.t <= limit) signals.push({ t: e.t, by: `health ${e.to}: ${e.component}` });
    for (const e of run.breakers) if (names.includes(e.name) && e.to === 'open' && e.t >= f.startedAt && e.t <= limit) signals.push({ t: e.t, by: `breaker open (${e.reason}): ${e.name}` });
    signals.sort((a, b) => a.t - b.t);
    // A component already judged bad when the fault began cannot change for it: that counts, said as such, only without a signal of its own.
    const already = names.find((n) => before && bad(before.states.get(n)));
    const first = signals[0] ?? (already ? { t: f.startedAt, by: `${already} already ${before!.states.get(already)!.join('/')}` } : undefined);
    const good = names.length ? firstGood(names, f.endedAt) : undefined;
    const restoreMs = good === undefined ? undefined : good - f.endedAt;
    const inWindow = (t: number): boolean => t >= f.startedAt && t <= f.endedAt + profile.restoreWithinMs;
    const recs = run.recoveries.filter((r) => names.includes(r.component) && inWindow(r.t));
    const breakerOpened = run.breakers.some((e) => names.includes(e.name) && e.to === 'open' && inWindow(e.t));
    return {
      id: f.id,
      kind: f.kind,
      target: f.target,
      at: Math.round((f.startedAt - run.startedAt) / 100) / 10,
      durationMs: f.endedAt - f.startedAt,
      params: f.params,
      components: names,
      detected: first !== undefined,
      detectMs: first && first.t - f.startedAt,
      detectedBy: first?.by,
      breakerOpened,
      restored: restoreMs !== undefined && restoreMs <= profile.restoreWithinMs,
      restoreExcused: starvation.overlaps(f.endedAt, f.endedAt + profile.restoreWithinMs),
      restoreMs,
      recoveriesStarted: recs.filter((r) => r.event === 'started').length,
      recovered: recs.filter((r) => r.event === 'completed' && r.outcome === 'recovered').length,
    };
  });

  const completed = run.recoveries.filter((r) => r.event === 'completed');
  const count = (o: string): number => completed.filter((r) => r.outcome === o).length;
  const finished = count('recovered') + count('escalated') + count('manual-intervention');
  const attempts = run.recoveries.filter((r) => r.event === 'attempt');
  const byComponent: ChaosReport['recoveries']['byComponent'] = {};
  for (const r of run.recoveries) {
    const b = (byComponent[r.component] ??= { started: 0, recovered: 0, other: 0 });
    if (r.event === 'started') b.started++;
    if (r.event === 'completed') b[r.outcome === 'recovered' ? 'recovered' : 'other']++;
  }
  const faultOn = (c: string, t: number): boolean => run.faults.some((f) => affects(f, c) && t >= f.startedAt && t < f.endedAt);

  // False positives: component-time judged non-healthy (or with a breaker not closed) outside every fault window.
  let eligible = 0;
  let excused = 0;
  let falseMs = 0;
  type Episode = { component: string; from: number; to: number; worst: string };
  const episodes: Episode[] = [];
  const open = new Map<string, Episode>();
  snapshots.forEach((s, i) => {
    const dt = i === 0 || s.t < run.startedAt + SETTLE_MS ? 0 : s.t - snapshots[i - 1]!.t;
    if (dt === 0) return;
    for (const [c, words] of s.states) {
      if (underFault(c, s.t) || starvation.judgedAt(s.t)) {
        if (!underFault(c, s.t)) excused += dt;
        open.delete(c);
        continue;
      }
      eligible += dt;
      if (!bad(words)) {
        open.delete(c);
        continue;
      }
      falseMs += dt;
      const worst = words.reduce((w, x) => ((rank[x] ?? 0) > (rank[w] ?? 0) ? x : w), 'healthy');
      const ep = open.get(c);
      if (ep) {
        ep.to = s.t;
        if ((rank[worst] ?? 0) > (rank[ep.worst] ?? 0)) ep.worst = worst;
      } else {
        const e = { component: c, from: s.t, to: s.t, worst };
        episodes.push(e);
        open.set(c, e);
      }
    }
  });

  const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const byRoute: Record<string, Record<Outcome, number>> = {};
  for (const r of run.requests) {
    byOutcome[r.outcome]++;
    (byRoute[r.route] ??= Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>)[r.outcome]++;
  }

  const containment = containmentOf(run, starvation);
  const recoveredWhileFaulty = completed.filter((r) => r.outcome === 'recovered' && faultOn(r.component, r.t)).length;
  const detectTimes = faults.filter((f) => f.detected).map((f) => f.detectMs!).sort((a, b) => a - b);
  const report: ChaosReport = {
    profile: profile.name,
    seed: run.seed,
    durationS: Math.round((run.endedAt - run.startedAt) / 1000),
    instrumentations: run.instrumentations,
    components: [...components].sort().map((name) => ({ name, target: run.targetOf(name) })),
    requests: {
      sent: run.sent,
      accounted: run.requests.length,
      byOutcome,
      byRoute,
      hangingExcused: run.requests.filter((q) => q.outcome === 'hanging' && starvation.overlaps(q.sentAt, q.sentAt + run.deadlineMs)).length,
      unanswered: run.requests
        .filter((q) => q.outcome === 'lost' || q.outcome === 'hanging')
        .slice(0, 50)
        .map((q) => ({
          route: q.route,
          at: (q.sentAt - run.startedAt) / 1000,
          outcome: q.outcome,
          detail: q.detail,
          excused: q.outcome === 'hanging' && starvation.overlaps(q.sentAt, q.sentAt + run.deadlineMs),
        })),
    },
    faults,
    detection: { faults: faults.length, detected: detectTimes.length, medianMs: detectTimes[Math.floor(detectTimes.length / 2)], maxMs: detectTimes.at(-1) },
    recoveries: {
      started: run.recoveries.filter((r) => r.event === 'started').length,
      finished,
      recovered: count('recovered'),
      escalated: count('escalated'),
      manualIntervention: count('manual-intervention'),
      cancelled: count('cancelled'),
      successRate: finished ? count('recovered') / finished : 0,
      attempts: attempts.length,
      attemptSuccesses: attempts.filter((a) => a.success).length,
      recoveredWhileFaulty,
      byComponent,
    },
    falsePositives: {
      excusedComponentS: excused / 1000,
      eligibleComponentS: eligible / 1000,
      falseComponentS: falseMs / 1000,
      rate: eligible ? falseMs / eligible : 0,
      episodes: episodes.map((e) => ({ component: e.component, at: (e.from - run.startedAt) / 1000, seconds: (e.to - e.from) / 1000, worst: e.worst })),
    },
    containment,
    service: run.service,
    environment: environmentOf(run, starvation),
    bars: [],
    timeline: timelineOf(run),
  };
  report.bars = barsOf(report);
  return report;
}
