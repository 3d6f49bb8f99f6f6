import { beforeAll, describe, expect, it } from 'vitest';
import { formatReport, writeReport } from './format.js';
import { runChaos } from './harness.js';
import { analyse, type ChaosReport } from './report.js';
import { PROFILES, makeSchedule, runLengthMs } from './schedule.js';

// Issue 5 (spec 4.4 chaos testing, 4.2.2 resilience flow): a service built on the plugin (the
// built package, in a child process) under steady load while a seeded schedule kills and restarts
// its dependencies, slows them, resets their connections, spikes its CPU, leaks memory in one
// downstream and cascades a failure across two. The short profile runs in `npm test`;
// `npm run chaos` runs the long one (CHAOS_PROFILE=long) and prints the same report.
// CHAOS_SEED replays a run.
//
// What depends on the machine (hangs, false positives, restoration times, the healthy route's
// latency) is judged only where the service got its CPU (starvation.ts): what happened while other
// processes starved it is reported, not judged. When that is over half the run, those tests are
// skipped and the report says why.
const profile = PROFILES[process.env.CHAOS_PROFILE === 'long' ? 'long' : 'short'];
// Seed 1's short schedule has B of the cascade hang (A then waits on it): the classic cascade.
const seed = Number(process.env.CHAOS_SEED ?? (profile.name === 'short' ? 1 : Date.now() % 2 ** 31));
const schedule = makeSchedule(profile, seed);
const runMs = runLengthMs(schedule, profile);

describe(`chaos: ${profile.name} profile, seed ${seed}`, () => {
  let report: ChaosReport;
  const bar = (name: string) => report.bars.find((b) => b.name === name)!;
  /** Skips a machine-dependent test on an overloaded machine, saying so. */
  const needsQuietMachine = (skip: (note: string) => void): void => {
    const e = report.environment;
    if (e.overloaded) skip(`machine overloaded: other processes starved the service of CPU over ${(e.starvedCoverage * 100).toFixed(0)}% of the run`);
  };

  beforeAll(async () => {
    const log = profile.name === 'long' ? (line: string) => console.log(line) : undefined;
    const run = await runChaos({ profile, seed, log });
    report = analyse(run);
    const file = writeReport(report);
    console.log(`${formatReport(report)}\n\nJSON report: ${file}`);
  }, runMs + 90_000);

  it('accounts for every request: answered, fallback, fast-failed or error, none lost', () => {
    const { sent, accounted, byOutcome } = report.requests;
    expect(sent).toBeGreaterThan((runMs / 1000) * profile.rpsPerRoute * 6 * 0.8);
    expect(accounted).toBe(sent);
    expect(byOutcome.lost).toBe(0);
    // The breakers did cut failing dependencies off: routes served fallbacks instead of errors.
    expect(byOutcome.fallback).toBeGreaterThan(0);
    expect(report.service?.counters.deadlines).toBe(0); // every client timeout fired by itself
  });

  it('leaves no request hanging: each one is answered before the deadline', (ctx) => {
    needsQuietMachine((note) => ctx.skip(note));
    expect(report.requests.unanswered.filter((q) => q.outcome === 'hanging' && !q.excused)).toEqual([]);
    expect(bar('requests hanging').pass).toBe(true);
  });

  it(`detects every fault within ${profile.detectWithinMs / 1000} s (a health change or an opened breaker on its target)`, () => {
    expect(report.faults.map((f) => f.id)).toEqual(schedule.map((f) => f.id)); // every fault began and ended
    const missed = report.faults.filter((f) => !f.detected).map((f) => `#${f.id} ${f.kind} on ${f.target} (${f.components.join(', ') || 'no component seen'})`);
    expect(missed).toEqual([]);
    expect(bar('faults detected').pass).toBe(true);
  });

  it(`restores every target within ${profile.restoreWithinMs / 1000} s of its fault's end: healthy, breaker closed`, (ctx) => {
    needsQuietMachine((note) => ctx.skip(note));
    const stuck = report.faults.filter((f) => !f.restored && !f.restoreExcused).map((f) => `#${f.id} ${f.kind} on ${f.target}: ${f.restoreMs ?? 'never'} ms`);
    expect(stuck).toEqual([]);
  });

  it('recovers: over 95% of the recoveries the plugin ran succeeded, and every failed dependency was healed', () => {
    const r = report.recoveries;
    expect(r.finished).toBeGreaterThan(0);
    expect(r.successRate).toBeGreaterThan(0.95);
    expect(r.manualIntervention).toBe(0);
    // Every fault on a dependency set a recovery off (its pool restarted, then verified), and it ended healed.
    const unhealed = report.faults.filter((f) => f.kind !== 'cpu-spike' && f.recovered === 0).map((f) => `#${f.id} ${f.kind} on ${f.target}`);
    expect(unhealed).toEqual([]);
  });

  it('guards the database calls: pg and ioredis breakers open on their faults, the routes fall back, the pools recover', () => {
    expect(report.instrumentations).toEqual(expect.arrayContaining(['otel-self-heal/instrumentation-pg', 'otel-self-heal/instrumentation-ioredis']));
    for (const [target, scheme] of [
      ['postgres', 'postgresql://'],
      ['redis', 'redis://'],
    ] as const) {
      expect(report.components.filter((c) => c.target === target && c.name.startsWith(scheme))).not.toEqual([]);
      const faults = report.faults.filter((f) => f.target === target);
      expect(faults).not.toEqual([]);
      for (const f of faults) {
        expect({ fault: `#${f.id} ${f.kind} on ${target}`, breakerOpened: f.breakerOpened, recovered: f.recovered > 0 }).toMatchObject({ breakerOpened: true, recovered: true });
      }
    }
    // Refused calls surfaced as CircuitOpenError, which the routes turned into their fallback.
    expect(report.requests.byRoute['/db']!.fallback).toBeGreaterThan(0);
    expect(report.requests.byRoute['/cache']!.fallback).toBeGreaterThan(0);
  });

  it('judges components not under a fault healthy: under 1% of their component-time is a false positive', (ctx) => {
    needsQuietMachine((note) => ctx.skip(note));
    expect(report.falsePositives.eligibleComponentS).toBeGreaterThan(0);
    expect(report.falsePositives.rate).toBeLessThan(0.01);
  });

  it('cuts the cascade off: the breaker of A (failing because B fails) opens and its route falls back', () => {
    const cascades = report.faults.filter((f) => f.kind === 'cascade');
    expect(cascades).not.toEqual([]);
    for (const f of cascades) expect({ fault: `#${f.id}`, breakerOpened: f.breakerOpened }).toEqual({ fault: `#${f.id}`, breakerOpened: true });
    expect(report.requests.byRoute['/chain']!.fallback).toBeGreaterThan(0);
  });

  it('contains the cascade: the healthy downstream keeps its traffic and latency while the others fail', (ctx) => {
    needsQuietMachine((note) => ctx.skip(note));
    for (const name of [
      'healthy route answered during faults',
      'healthy route answered during the cascade',
      'healthy downstream traffic during the cascade',
      'healthy route p95 during faults',
    ]) {
      expect(bar(name)).toMatchObject({ name, pass: true });
    }
  });
});
